package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const good = `
deployments:
  - name: nim-grpc
    protocol: kserve-grpc
    url: 127.0.0.1:8001
    model: yolov8n
    timeout: 30s
    headers:
      Authorization: "Bearer ${TOKEN}"
  - name: nim-batching
    protocol: kserve-http
    url: http://127.0.0.1:8010
    model: yolov8n
    version: "1"
    batching: true
    inputs:
      shapes: {images: [1, 3, 640, 640]}
      batch_size: 2
steps:
  - name: warm
    concurrency: 4
    requests: 100
  - name: open
    rate: 50
    arrival: poisson
    duration: 10s
    deployments: [nim-grpc]
`

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseGoodPlan(t *testing.T) {
	p, err := Parse("plan.yaml", []byte(good), env(map[string]string{"TOKEN": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Deployments) != 2 || len(p.Steps) != 2 {
		t.Fatalf("plan %+v", p)
	}
	d := p.Deployments[0]
	if d.Headers["Authorization"] != "Bearer s3cret" || d.Timeout != 30*time.Second || d.Protocol != "kserve-grpc" {
		t.Errorf("deployment %+v", d)
	}
	b := p.Deployments[1]
	if !b.Batching || b.Version != "1" || fmt.Sprint(b.Inputs.Shapes["images"]) != "[1 3 640 640]" || b.Inputs.BatchSize != 2 {
		t.Errorf("deployment %+v", b)
	}
	s := p.Steps[1]
	if s.Rate != 50 || s.Arrival != "poisson" || s.Duration != 10*time.Second || s.Load() != "50/s poisson for 10s" {
		t.Errorf("step %+v", s)
	}
	if got := p.Targets(s); len(got) != 1 || got[0].Name != "nim-grpc" {
		t.Errorf("targets %+v", got)
	}
	if got := p.Targets(p.Steps[0]); len(got) != 2 {
		t.Errorf("targets of a step without deployments: %+v", got)
	}
}

func TestBuiltinSequences(t *testing.T) {
	p, err := Parse("p.yaml", []byte("deployments:\n  - {name: a, protocol: kserve-grpc, url: x:1, model: m}\n  - {name: b, protocol: kserve-grpc, url: x:2, model: m, batching: true}\nsequence: recommended\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var loads []string
	for _, s := range p.Steps {
		loads = append(loads, s.Name+" "+s.Load())
	}
	want := []string{"baseline c=1, 50 requests", "realistic c=8, 200 requests", "heavy c=16, 500 requests", "stress c=32, 1000 requests"}
	if !slices.Equal(loads, want) {
		t.Errorf("recommended = %v", loads)
	}
	if got := p.Targets(p.Steps[3]); len(got) != 1 || got[0].Name != "b" {
		t.Errorf("stress targets %+v, want the batching deployment only", got)
	}
	seq, _ := Builtin("recommended")
	if len(seq.GuideRuntime) != 4 || !strings.Contains(seq.GuideRuntime[2], "30 minutes") {
		t.Errorf("guide runtimes %v", seq.GuideRuntime)
	}
	if _, err := Builtin("soak"); err == nil {
		t.Errorf("unknown sequence accepted")
	}
}

func TestQuick(t *testing.T) {
	steps := Quick([]Step{{Concurrency: 1, Requests: 50}, {Concurrency: 32, Requests: 1000}, {Concurrency: 64, Requests: 100}, {Rate: 10, Duration: 60 * time.Second}, {Rate: 10, Duration: 5 * time.Second}})
	got := []string{}
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%d/%v", s.Requests, s.Duration))
	}
	if want := []string{"20/0s", "100/0s", "64/0s", "0/6s", "0/2s"}; !slices.Equal(got, want) {
		t.Errorf("Quick = %v, want %v", got, want)
	}
}

func TestBadPlans(t *testing.T) {
	dep := "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: 127.0.0.1:1\n    model: m\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"syntax", "deployments: [\n", "p.yaml:1:1: YAML syntax"},
		{"empty", "", "the plan is empty"},
		{"unknown top key", dep + "sequence: baseline\ncolour: red\n", `p.yaml:7:1: unknown key "colour" in the plan`},
		{"unknown deployment key", "deployments:\n  - name: a\n    protocl: kserve-grpc\n", `p.yaml:3:5: unknown key "protocl" in deployment "a" (allowed: name, protocol, url, model, version, timeout, headers, batching, metrics_url, inputs, http, kubernetes, connect_timeout, connections, max_response_size, grpc_transport, tls, authority, compression, shared_memory); did you mean protocol?`},
		{"missing url", "deployments:\n  - name: a\n    protocol: kserve-grpc\n    model: m\nsequence: baseline\n", `p.yaml:2:5: deployment "a" has no url`},
		{"unknown protocol", "deployments:\n  - name: a\n    protocol: soap\n    url: x\n    model: m\nsequence: baseline\n", `p.yaml:3:15: deployment "a": unknown protocol "soap"`},
		{"duplicate names", dep + "  - name: a\n    protocol: kserve-grpc\n    url: x:2\n    model: m\nsequence: baseline\n", `p.yaml:6:11: deployment name "a" is used twice (first at line 2)`},
		{"no sequence", dep, "has no sequence"},
		{"both", dep + "sequence: baseline\nsteps: [{concurrency: 1, requests: 1}]\n", "not both"},
		{"unknown sequence", dep + "sequence: soak\n", `p.yaml:6:11: sequence: unknown sequence "soak"`},
		{"concurrency 0", dep + "steps:\n  - concurrency: 0\n    requests: 10\n", `p.yaml:7:18: step "step-1": concurrency 0 must be at least 1`},
		{"negative concurrency", dep + "steps:\n  - concurrency: -4\n    requests: 10\n", "concurrency -4 must be at least 1"},
		{"concurrency not a number", dep + "steps:\n  - concurrency: many\n    requests: 10\n", `concurrency: "many" is not a whole number`},
		{"negative duration", dep + "steps:\n  - concurrency: 2\n    duration: -5s\n", `duration: "-5s" must be positive`},
		{"bad duration", dep + "steps:\n  - concurrency: 2\n    duration: soon\n", `"soon" is not a duration`},
		{"no size", dep + "steps:\n  - concurrency: 2\n", "needs requests or duration"},
		{"rate and concurrency", dep + "steps:\n  - concurrency: 2\n    rate: 5\n    requests: 3\n", "not both"},
		{"unknown deployment in step", dep + "steps:\n  - concurrency: 2\n    requests: 3\n    deployments: [b]\n", `p.yaml:9:19: step "step-1": no deployment is named "b" (have a)`},
		{"missing env", "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: x\n    model: m\n    headers: {Authorization: \"Bearer ${NOPE}\"}\nsequence: baseline\n", "environment variable NOPE, which is not set"},
		{"unknown step key", dep + "steps:\n  - concurrency: 2\n    requests: 3\n    ramp: 4\n", `unknown key "ramp" in steps[0]`},
		{"arrival without rate", dep + "steps:\n  - concurrency: 2\n    requests: 3\n    arrival: poisson\n", "arrival applies to a rate step only"},
		{"response size without unit", dep + "    max_response_size: 64\nsequence: baseline\n", `p.yaml:6:24: deployment "a": max_response_size "64": 64 bytes is below 1 KiB: give a unit, for example 64MiB`},
		{"response size unknown unit", dep + "    max_response_size: 64 megs\nsequence: baseline\n", `max_response_size "64 megs": size "64 megs": unknown unit "megs"`},
		{"negative response size", dep + "    max_response_size: -1MB\nsequence: baseline\n", `size "-1MB" is negative`},
		{"unknown gRPC transport", dep + "    grpc_transport: grpcio\nsequence: baseline\n", `p.yaml:6:21: deployment "a": grpc_transport "grpcio": want one of fast, grpc-go`},
		{"gRPC transport over HTTP", "deployments:\n  - name: a\n    protocol: kserve-http\n    url: 127.0.0.1:1\n    model: m\n    grpc_transport: grpc-go\nsequence: baseline\n",
			`p.yaml:6:21: deployment "a": grpc_transport grpc-go applies to protocol kserve-grpc, not kserve-http`},
		{"unknown compression", dep + "    compression: br\nsequence: baseline\n", `p.yaml:6:18: deployment "a": compression "br": want gzip, deflate or none`},
	}
	for _, tt := range tests {
		_, err := Parse("p.yaml", []byte(tt.yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !IsPlanError(err) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestHTTPDeployments(t *testing.T) {
	yaml := `
check_outputs: true
deployments:
  - name: base-yolo
    protocol: http-json
    url: http://127.0.0.1:8000
    model: yolov8n
    inputs: {image: builtin}
  - name: uploads
    protocol: http-json
    url: http://127.0.0.1:9000
    model: yolov8n
    http:
      preset: fastapi-multipart
      path: /detect
      form: {conf: "0.25", imgsz: "640"}
      check_path: "0.box"
      health: none
  - name: nim
    protocol: nim-http
    url: http://127.0.0.1:8010
    model: yolox
    inputs: {image: examples/images, batch_size: 2}
sequence: baseline
`
	p, err := Parse("p.yaml", []byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !p.CheckOutputs || p.Deployments[0].HTTP.Preset != "" || p.Deployments[0].Inputs.Image != "builtin" {
		t.Errorf("plan %+v", p)
	}
	if h := p.Deployments[1].HTTP; h.Preset != "fastapi-multipart" || h.Path != "/detect" || h.Form["imgsz"] != "640" || h.CheckPath != "0.box" || h.Health != "none" {
		t.Errorf("http %+v", h)
	}
	dep := "deployments:\n  - name: a\n    protocol: http-json\n    url: http://x\n    model: m\n    http:\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown http key", dep + "      verb: GET\nsequence: baseline\n", `p.yaml:7:7: unknown key "verb" in deployment "a" http`},
		{"unknown preset", dep + "      preset: flask\nsequence: baseline\n", `p.yaml:7:15: deployment "a" http: unknown HTTP preset "flask"`},
		{"bad template", dep + "      body: '{\"image\": \"{{.Picture}}\"}'\nsequence: baseline\n", `p.yaml:7:13: deployment "a" http: body template`},
		{"two ways", dep + "      body: x\n      raw: true\nsequence: baseline\n", "give one way to send the image"},
		{"raw not a bool", dep + "      raw: maybe\nsequence: baseline\n", `raw: "maybe" is not a boolean`},
		{"bad path", dep + "      path: predict\nsequence: baseline\n", `p.yaml:7:13: deployment "a" http: path "predict" must start with /`},
		{"http on kserve", "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: x:1\n    model: m\n    http: {path: /x}\nsequence: baseline\n", `p.yaml:6:11: deployment "a": http applies to protocols nim-http and http-json, not kserve-grpc`},
		{"check_outputs not a bool", "check_outputs: yes please\n" + dep + "      path: /p\nsequence: baseline\n", `check_outputs: "yes please" is not a boolean`},
	}
	for _, tt := range tests {
		_, err := Parse("p.yaml", []byte(tt.yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !IsPlanError(err) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestMaxResponseSize: max_response_size in bytes or with a unit, kept
// exactly through the written plan.
func TestMaxResponseSize(t *testing.T) {
	for in, want := range map[string]int64{"16MiB": 16 << 20, "100MB": 100e6, "67108864": 64 << 20, "1.5GiB": 3 << 29, "1KiB": 1 << 10} {
		yaml := "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: 127.0.0.1:1\n    model: m\n    max_response_size: " + in + "\nsequence: baseline\n"
		p, err := Parse("p.yaml", []byte(yaml), env(nil))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := p.Deployments[0].MaxResponseSize; got != want {
			t.Errorf("%s: %d bytes, want %d", in, got, want)
		}
		out, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again.yaml", out, env(nil))
		if err != nil || again.Deployments[0].MaxResponseSize != want {
			t.Errorf("%s written as\n%s\nread back: %v", in, out, err)
		}
	}
}

// TestGRPCTransport: grpc_transport is kept through the written plan, and
// left out when not given.
func TestGRPCTransport(t *testing.T) {
	for _, in := range []string{"", "fast", "grpc-go"} {
		yaml := "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: 127.0.0.1:1\n    model: m\n"
		if in != "" {
			yaml += "    grpc_transport: " + in + "\n"
		}
		p, err := Parse("p.yaml", []byte(yaml+"sequence: baseline\n"), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := p.Deployments[0].GRPCTransport; got != in {
			t.Errorf("%q: read %q", in, got)
		}
		out, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again.yaml", out, env(nil))
		if err != nil || again.Deployments[0].GRPCTransport != in || (in == "") == strings.Contains(string(out), "grpc_transport") {
			t.Errorf("%q written as\n%s\nread back: %v", in, out, err)
		}
	}
}

// TestCompression: compression gzip, deflate or none, kept through the
// written plan.
func TestCompression(t *testing.T) {
	for in, want := range map[string]string{"gzip": "gzip", "deflate": "deflate", "none": "none", "GZIP": "gzip"} {
		yaml := "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: 127.0.0.1:1\n    model: m\n    compression: " + in + "\nsequence: baseline\n"
		p, err := Parse("p.yaml", []byte(yaml), env(nil))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := p.Deployments[0].Compression; got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
		out, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again.yaml", out, env(nil))
		if err != nil || again.Deployments[0].Compression != want {
			t.Errorf("%s written as\n%s\nread back: %v", in, out, err)
		}
	}
}

// TestSharedMemory: shared_memory system for the KServe protocols, kept
// through the written plan; none is the default; cuda and the image
// protocols are refused with the reason.
func TestSharedMemory(t *testing.T) {
	plan := func(protocol, mode string) string {
		return "deployments:\n  - name: a\n    protocol: " + protocol + "\n    url: 127.0.0.1:1\n    model: m\n    shared_memory: " + mode + "\nsequence: baseline\n"
	}
	for _, tc := range []struct{ protocol, mode, want, err string }{
		{"kserve-grpc", "system", "system", ""},
		{"kserve-http", "system", "system", ""},
		{"kserve-http-json", "none", "", ""},
		{"kserve-http", "cuda", "", "needs a GPU"},
		{"nim-http", "system", "", "not for protocol nim-http"},
	} {
		p, err := Parse("p.yaml", []byte(plan(tc.protocol, tc.mode)), env(nil))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "shared_memory") {
				t.Errorf("%s %s: %v, want %q", tc.protocol, tc.mode, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s %s: %v", tc.protocol, tc.mode, err)
		}
		if got := p.Deployments[0].SharedMemory; got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.protocol, tc.mode, got, tc.want)
		}
		out, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again.yaml", out, env(nil))
		if err != nil || again.Deployments[0].SharedMemory != tc.want {
			t.Errorf("%s written as\n%s\nread back: %v", tc.mode, out, err)
		}
	}
}

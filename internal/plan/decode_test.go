package plan

import (
	"strings"
	"testing"
)

// TestDecodeErrors: the format's structs refuse unknown keys, keys given
// twice and values of the wrong shape, each at its line and column.
func TestDecodeErrors(t *testing.T) {
	dep := "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: 127.0.0.1:1\n    model: m\n"
	seq := "sequence: baseline\n"
	tests := []struct{ name, yaml, want string }{
		{"not a mapping", "- a\n", "p.yaml:1:1: the plan must be a mapping of keys to values"},
		{"top key twice", dep + seq + "sequence: heavy\n", `p.yaml:7:1: key "sequence" given twice in the plan (first at line 6)`},
		{"deployment key twice", dep + "    model: n\n" + seq, `p.yaml:6:5: key "model" given twice in deployment "a" (first at line 5)`},
		{"header twice", dep + "    headers:\n      X-A: one\n      X-A: two\n" + seq, `p.yaml:8:7: key "X-A" given twice in deployment "a" headers (first at line 7)`},
		{"unknown top key", dep + seq + "step: []\n", `p.yaml:7:1: unknown key "step" in the plan (allowed: deployments, check_outputs, sequence, steps, repeat, thresholds, loaders); did you mean steps?`},
		{"unknown inputs key", dep + "    inputs: {shape: {x: [1]}}\n" + seq, `p.yaml:6:14: unknown key "shape" in deployment "a" inputs (allowed: shapes, batch_size, data, image, seed); did you mean shapes?`},
		{"no suggestion", dep + seq + "colour: red\n", `p.yaml:7:1: unknown key "colour" in the plan (allowed: deployments, check_outputs, sequence, steps, repeat, thresholds, loaders)` + "\x00"},
		{"deployments not a list", "deployments: a\n" + seq, "p.yaml:1:14: deployments must be a list of mappings"},
		{"no deployments", "deployments: []\n" + seq, "p.yaml:1:14: deployments must be a non-empty list"},
		{"no steps", dep + "steps: []\n", "p.yaml:6:8: steps must be a non-empty list"},
		{"deployment not a mapping", "deployments: [a]\n" + seq, "p.yaml:1:15: deployments[0] must be a mapping of keys to values"},
		{"unnamed", "deployments:\n  - protocol: kserve-grpc\n" + seq, "p.yaml:2:5: deployments[0] has no name"},
		{"blank url", strings.Replace(dep, "127.0.0.1:1", `" "`, 1) + seq, `p.yaml:4:10: deployment "a" url is empty`},
		{"batching not a bool", dep + "    batching: maybe\n" + seq, `p.yaml:6:15: deployment "a" batching: "maybe" is not a boolean (true or false)`},
		{"header not a value", dep + "    headers: {X-A: [1]}\n" + seq, `p.yaml:6:20: deployment "a" headers.X-A must be a single value`},
		{"headers not a mapping", dep + "    headers: [a]\n" + seq, `p.yaml:6:14: deployment "a" headers must be a mapping of names to strings`},
		{"shape not a list", dep + "    inputs: {shapes: {images: 3}}\n" + seq, `p.yaml:6:31: deployment "a" inputs.shapes.images must be a list of whole numbers`},
		{"shape not numbers", dep + "    inputs: {shapes: {images: [1, x]}}\n" + seq, `p.yaml:6:35: deployment "a" inputs.shapes.images[1]: "x" is not a whole number`},
		{"zero dimension", dep + "    inputs: {shapes: {images: [1, 0]}}\n" + seq, `p.yaml:6:31: deployment "a" inputs.shapes.images: dimension 0 must be at least 1`},
		{"batch size 0", dep + "    inputs: {batch_size: 0}\n" + seq, `p.yaml:6:26: deployment "a" inputs.batch_size 0 must be at least 1`},
		{"data and image", dep + "    inputs: {data: d.json, image: builtin}\n" + seq, `p.yaml:6:13: deployment "a" inputs: give data or image, not both`},
		{"bad timeout", dep + "    timeout: 0s\n" + seq, `p.yaml:6:14: deployment "a" timeout: "0s" must be positive`},
		{"kubernetes not a mapping", dep + "    kubernetes: triton\n" + seq, `p.yaml:6:17: deployment "a" kubernetes must be a mapping of keys to values`},
		{"step deployments not a list", dep + "steps:\n  - {name: s, concurrency: 1, requests: 1, deployments: a}\n", `p.yaml:7:57: step "s" deployments must be a list of strings`},
		{"step deployment not a name", dep + "steps:\n  - {name: s, concurrency: 1, requests: 1, deployments: [{name: a}]}\n", `p.yaml:7:58: step "s" deployments[0] must be a single value`},
		{"step names twice", dep + "steps:\n  - {name: s, concurrency: 1, requests: 1}\n  - {name: s, concurrency: 2, requests: 1}\n", `p.yaml:8:5: step name "s" is used twice (first at line 7)`},
		{"default step names twice", dep + "steps:\n  - {name: step-2, concurrency: 1, requests: 1}\n  - {concurrency: 2, requests: 1}\n", `p.yaml:8:5: step name "step-2" is used twice (first at line 7)`},
		{"rate 0", dep + "steps:\n  - {rate: 0, requests: 1}\n", `p.yaml:7:12: step "step-1": rate 0 must be a finite number above 0 requests per second`},
		{"rate NaN", dep + "steps:\n  - {rate: .nan, requests: 1}\n", `p.yaml:7:12: step "step-1": rate NaN must be a finite number above 0 requests per second`},
		{"rate Inf", dep + "steps:\n  - {rate: .inf, requests: 1}\n", `p.yaml:7:12: step "step-1": rate +Inf must be a finite number above 0 requests per second`},
		{"warmup -5", dep + "steps:\n  - {concurrency: 1, requests: 1, warmup: -5}\n", `p.yaml:7:43: step "step-1": warmup -5 must not be negative`},
		{"bad arrival", dep + "steps:\n  - {rate: 5, arrival: uniform, requests: 1}\n", `p.yaml:7:24: step "step-1": arrival "uniform" (want constant, poisson or bursty)`},
		{"requests 0", dep + "steps:\n  - {concurrency: 1, requests: 0}\n", `p.yaml:7:32: step "step-1": requests 0 must be at least 1`},
		{"requests and duration", dep + "steps:\n  - {concurrency: 1, requests: 2, duration: 5s}\n", `p.yaml:7:45: step "step-1": give requests or duration, not both`},
		{"rate not a number", dep + "steps:\n  - {rate: fast, requests: 1}\n", `p.yaml:7:12: steps[0].rate: "fast" is not a number`},
		{"sequence and steps", dep + seq + "steps: [{concurrency: 1, requests: 1}]\n", "p.yaml:7:8: give either sequence (a built-in) or steps, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.yaml), env(nil))
			want, exact := strings.CutSuffix(tt.want, "\x00")
			if err == nil || !strings.HasPrefix(err.Error(), want) || exact && err.Error() != want || !IsPlanError(err) {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
		})
	}
}

// TestAliases: YAML anchors and aliases stand for the values they name.
func TestAliases(t *testing.T) {
	text := "deployments:\n  - &a {name: a, protocol: kserve-grpc, url: 'x:1', model: m, headers: &h {X-A: one}}\n  - {name: b, protocol: kserve-grpc, url: 'x:2', model: m, headers: *h}\nsteps:\n  - &s {concurrency: 1, requests: 2}\n  - *s\n"
	p, err := Parse("p.yaml", []byte(text), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Deployments[1].Headers["X-A"] != "one" || len(p.Steps) != 2 || p.Steps[1].Name != "step-2" || p.Steps[1].Requests != 2 {
		t.Errorf("plan %+v", p)
	}
}

func TestLoadersSection(t *testing.T) {
	base := "deployments:\n  - {name: a, protocol: kserve-http, url: \"http://127.0.0.1:1\", model: m}\nsteps:\n  - {name: s, concurrency: 2, requests: 10}\n"
	p, err := Parse("p.yaml", []byte(base+"loaders:\n  count: 4\n  image: \" reg/inferbench:1 \"\n  node_selector: {pool: load}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Loaders == nil || p.Loaders.Count != 4 || p.Loaders.Image != "reg/inferbench:1" || p.Loaders.NodeSelector["pool"] != "load" {
		t.Fatalf("loaders = %+v", p.Loaders)
	}
	out, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("again.yaml", out, nil)
	if err != nil || again.Loaders == nil || again.Loaders.Count != 4 || again.Loaders.NodeSelector["pool"] != "load" {
		t.Errorf("round trip: %+v, %v\n%s", again.Loaders, err, out)
	}
	for _, tc := range []struct{ text, want string }{
		{"loaders:\n  count: 0\n", "p.yaml:6:10: loaders.count: 0 loaders: want 1 to 1000"},
		{"loaders:\n  local: true\n", "count"},
		{"loaders:\n  count: 2\n  images: x\n", "did you mean image?"},
	} {
		if _, err := Parse("p.yaml", []byte(base+tc.text), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
	}
}

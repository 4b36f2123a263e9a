package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
)

// demoLike is a plan as the demo builds it: four deployments, the
// recommended steps with two more, the stress step for batching only.
func demoLike() *Plan {
	seq, _ := Builtin("recommended")
	steps := append([]Step{{Name: "light", Concurrency: 4, Requests: 100}}, seq.Steps...)
	deps := []Deployment{
		{Name: "base-yolo", Protocol: "http-json", URL: "http://127.0.0.1:41001", Model: "yolov8n", MetricsURL: "http://127.0.0.1:41002/metrics", HTTP: protocol.HTTPOptions{Preset: "fastapi"}},
		{Name: "nim-binary", Protocol: "kserve-http", URL: "http://127.0.0.1:41003", Model: "yolov8n"},
		{Name: "nim-grpc", Protocol: "kserve-grpc", URL: "127.0.0.1:41004", Model: "yolov8n"},
		{Name: "nim-batching", Protocol: "kserve-grpc", URL: "127.0.0.1:41005", Model: "yolov8n", Batching: true},
	}
	for i := range deps {
		deps[i].Inputs.Image = "builtin"
	}
	return &Plan{Path: "p.yaml", Deployments: deps, Steps: steps, CheckOutputs: true}
}

// everyField is a plan that gives every key of the format.
func everyField() *Plan {
	return &Plan{Path: "p.yaml", Deployments: []Deployment{
		{Name: "triton", Protocol: "kserve-http", URL: "http://10.0.0.1:8000", Model: "yolov8n", Version: "1", Timeout: 90 * time.Second,
			Headers: map[string]string{"Authorization": "Bearer s3cret", "X-Team": "vision"}, HeadersAsWritten: map[string]string{"Authorization": "Bearer ${TOKEN}", "X-Team": "vision"},
			Batching: true, MetricsURL: "off", Inputs: Inputs{Shapes: map[string][]int64{"images": {1, 3, 640, 640}}, BatchSize: 4, Data: "samples.json"},
			Kubernetes: &Kubernetes{Namespace: "ml", Selector: "app=triton", Deployment: "triton", Service: "triton-svc", Context: "prod"}},
		{Name: "uploads", Protocol: "http-json", URL: "http://10.0.0.2:9000", Model: "yolov8n", Inputs: Inputs{Image: "examples/images"},
			HTTP: protocol.HTTPOptions{Preset: "fastapi-multipart", Method: "PUT", Path: "/detect", ContentType: "image/png", MultipartField: "upload",
				Form: map[string]string{"conf": "0.25", "imgsz": "640"}, CheckPath: "0.box", Health: "none", Detections: "ultralytics"}},
		{Name: "templated", Protocol: "nim-http", URL: "http://10.0.0.3:8010", Model: "yolox", HTTP: protocol.HTTPOptions{Body: `{"model": {{json .Model}}, "image": "{{.Image}}"}`}},
		{Name: "raw", Protocol: "http-json", URL: "http://10.0.0.4:8000", Model: "yolov8n", HTTP: protocol.HTTPOptions{Raw: true}},
	}, CheckOutputs: true, Steps: []Step{
		{Name: "closed", Concurrency: 8, Requests: 200},
		{Name: "soak", Concurrency: 2, Duration: 90 * time.Second, Deployments: []string{"triton", "raw"}},
		{Name: "open", Rate: 12.5, Arrival: "poisson", Duration: 30 * time.Second},
		{Name: "paced", Rate: 40, Arrival: "constant", Requests: 400},
	}}
}

// TestYAMLRoundTrip: a written plan parses back to itself.
func TestYAMLRoundTrip(t *testing.T) {
	demo := demoLike()
	demoWant := demoLike()
	stress := &demoWant.Steps[len(demoWant.Steps)-1]
	stress.BatchingOnly, stress.Deployments = false, []string{"nim-batching"}
	seq, _ := Builtin("recommended")
	sequence := &Plan{Path: "p.yaml", Deployments: demoLike().Deployments, Steps: seq.Steps, Sequence: "recommended"}
	for name, tt := range map[string]struct{ plan, want *Plan }{
		"demo": {demo, demoWant}, "sequence": {sequence, sequence}, "every field": {everyField(), everyField()},
	} {
		t.Run(name, func(t *testing.T) {
			text, err := tt.plan.YAML()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse("p.yaml", text, env(map[string]string{"TOKEN": "s3cret"}))
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parsed back\n%+v\nwant\n%+v\nfrom\n%s", got, tt.want, text)
			}
		})
	}
}

// TestYAMLText: the written file is short, two-space indented, and leaves
// out the defaults.
func TestYAMLText(t *testing.T) {
	p := &Plan{Deployments: []Deployment{{Name: "a", Protocol: "kserve-grpc", URL: "127.0.0.1:8001", Model: "m", Version: "1", MetricsURL: "off",
		Headers: map[string]string{"X-A": "b"}, Inputs: Inputs{Shapes: map[string][]int64{"images": {1, 3, 640, 640}}}}},
		Steps: []Step{{Name: "open", Rate: 5, Arrival: "constant", Duration: time.Minute}, {Name: "warm", Concurrency: 1, Requests: 10, Deployments: []string{"a"}}}}
	text, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	want := yamlHeader + `deployments:
  - name: a
    protocol: kserve-grpc
    url: 127.0.0.1:8001
    model: m
    version: "1"
    headers:
      X-A: b
    metrics_url: "off"
    inputs:
      shapes: {images: [1, 3, 640, 640]}
steps:
  - name: open
    rate: 5
    duration: 1m0s
  - name: warm
    concurrency: 1
    requests: 10
    deployments: [a]
`
	if string(text) != want {
		t.Errorf("got\n%s\nwant\n%s", text, want)
	}
	p.Steps = []Step{{Name: "stress", Concurrency: 32, Requests: 1000, BatchingOnly: true}}
	if _, err := p.YAML(); err == nil || !strings.Contains(err.Error(), "batching deployments only") {
		t.Errorf("a batching-only step without batching deployments: err %v", err)
	}
}

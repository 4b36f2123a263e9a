package main

import (
	"testing"

	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestExamplePlan loads examples/plan.yaml, the plan `run`'s help points
// to: the field guide's four deployments and its recommended sequence,
// each deployment on the endpoints of the reference server's field-guide
// preset on its default ports, so that the example runs as written.
// (examples/refserver.yaml is loaded by internal/refserver's tests.)
func TestExamplePlan(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	p, err := plan.LoadFile("../../examples/plan.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Deployments) != 4 || len(p.Steps) != 4 || p.Sequence != "recommended" || !p.CheckOutputs {
		t.Fatalf("%d deployments, %d steps, sequence %q, check_outputs %v; want 4, 4, recommended, true",
			len(p.Deployments), len(p.Steps), p.Sequence, p.CheckOutputs)
	}

	pods := map[string]refserver.PodConfig{}
	for _, pod := range refserver.FieldGuide(8000).Pods {
		pods[pod.Name] = pod
	}
	want := []struct {
		name, protocol, url string
		batching            bool
	}{
		{"base-yolo", "http-json", "http://" + pods[refserver.PodBaseYOLO].HTTP, false},
		{"nim-binary", "kserve-http", "http://" + pods[refserver.PodNIMBinary].HTTP, false},
		{"nim-grpc", "kserve-grpc", pods[refserver.PodNIMGRPC].GRPC, false},
		{"nim-batching", "kserve-grpc", pods[refserver.PodNIMBatching].GRPC, true},
	}
	for i, w := range want {
		d := p.Deployments[i]
		if d.Name != w.name || d.Protocol != w.protocol || d.URL != w.url || d.Batching != w.batching || d.Model != "yolov8n" {
			t.Errorf("deployment %d = %s %s %s batching=%v model %s, want %s %s %s batching=%v model yolov8n",
				i, d.Name, d.Protocol, d.URL, d.Batching, d.Model, w.name, w.protocol, w.url, w.batching)
		}
		if metrics := "http://" + pods[w.name].Metrics + "/metrics"; d.MetricsURL != metrics {
			t.Errorf("%s: metrics_url %s, want the preset pod's %s", d.Name, d.MetricsURL, metrics)
		}
	}
	if hp := p.Deployments[0].HTTP.Preset; hp != "fastapi" {
		t.Errorf("base-yolo: http preset %q, want fastapi", hp)
	}
}

package refserver_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/refserver"
)

// goodPod is a valid one-pod configuration whose model keys a test can
// complete or break.
func goodPod(modelExtra string) string {
	return `pods:
  - name: p
    http: 127.0.0.1:0
    models:
      - name: m
        inputs: [{name: x, datatype: FP32, dims: [1, 4]}]
        outputs: [{name: y, datatype: FP32, dims: [1, 8]}]
` + modelExtra
}

// pod is a valid pod with one fifo model, at the given address.
func pod(name, addr string) string {
	return "  - name: " + name + "\n    " + addr + "\n    models: [{name: m, inputs: [{name: x, datatype: FP32, dims: [1]}], outputs: [{name: y, datatype: FP32, dims: [1]}], emulator: {kind: fifo}}]\n"
}

func TestParseConfigAccepts(t *testing.T) {
	c, err := refserver.ParseConfig("ok.yaml", []byte(goodPod(`        emulator: {kind: gil, service_time: 20ms, gil_held: 90%, jitter: "uniform:10%"}
        faults: {queue_limit: 5, error_rate: 0.5, spike: {probability: 0.1, duration: 1s}, memory_per_request: 1.5GiB}
`)))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Pods[0].Models[0]
	want := refserver.EmulatorConfig{Kind: "gil", ServiceTime: 20 * time.Millisecond, GILHeld: 0.9, QueueLimit: 5, Jitter: refserver.Jitter{Dist: "uniform", Spread: 0.1}}
	if !reflect.DeepEqual(m.Emulator, want) || m.ErrorRate != 0.5 || m.Faults.SpikeDuration != time.Second || m.Faults.MemoryPerRequest != 3<<29 {
		t.Errorf("decoded %+v", m)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Name != "x" || !reflect.DeepEqual(m.Inputs[0].Shape, []int64{1, 4}) {
		t.Errorf("inputs %+v", m.Inputs)
	}
}

// TestParseConfigRefuses checks every validation rule: each bad
// configuration is refused with the file, the line (and column) of the
// offending key or value, and a message naming it.
func TestParseConfigRefuses(t *testing.T) {
	fifo := "        emulator: {kind: fifo, service_time: 5ms}\n"
	tests := []struct {
		name, yaml string
		where      string // file:line:column
		message    string
	}{
		{"yaml syntax", "pods: [", "bad.yaml", "yaml:"},
		{"empty", "", "bad.yaml", "empty"},
		{"no pods", "other: 1\n", "bad.yaml:1:1", `unknown key "other"`},
		{"pods not a list", "pods: 3\n", "bad.yaml:1:7", "pods must be a list"},
		{"unknown pod key", "pods:\n  - name: p\n    htpp: 127.0.0.1:0\n", "bad.yaml:3:5", `unknown key "htpp" in a pod`},
		{"unknown model key", goodPod("        emulater: {kind: fifo}\n"), "bad.yaml:8:9", `unknown key "emulater" in a model (known keys: emulator, faults`},
		{"unknown emulator key", goodPod("        emulator: {kind: fifo, servicetime: 5ms}\n"), "bad.yaml:8:32", `unknown key "servicetime" in the emulator`},
		{"unknown fault key", goodPod(fifo + "        faults: {spikes: {}}\n"), "bad.yaml:9:18", `unknown key "spikes" in faults`},
		{"unknown emulator", goodPod("        emulator: {kind: fiffo}\n"), "bad.yaml:8:26", `emulator kind "fiffo" is not one of fifo, instances, batcher, gil, pipelined`},
		{"emulator without kind", goodPod("        emulator: {service_time: 5ms}\n"), "bad.yaml:8:19", "needs a kind"},
		{"no emulator", goodPod(""), "bad.yaml:5:9", `model "m" has no emulator`},
		{"negative time", goodPod("        emulator: {kind: fifo, service_time: -5ms}\n"), "bad.yaml:8:46", "service_time -5ms is negative"},
		{"not a duration", goodPod("        emulator: {kind: fifo, service_time: 5}\n"), "bad.yaml:8:46", `service_time "5" is not a duration`},
		{"negative restart", "pods:\n  - name: p\n    restart_time: -1s\n", "bad.yaml:3:19", "restart_time -1s is negative"},
		{"negative stall", goodPod(fifo + "        faults: {stall: {at: -2s, duration: 1s}}\n"), "bad.yaml:9:30", "stall at -2s is negative"},
		{"bad size", "pods:\n  - name: p\n    memory_limit: 3 parsecs\n", "bad.yaml:3:19", `unknown unit "parsecs"`},
		{"negative size", goodPod(fifo + "        faults: {memory_per_request: -1MB}\n"), "bad.yaml:9:38", `size "-1MB" is negative`},
		{"probability over 1", goodPod(fifo + "        faults: {drop_probability: 1.5}\n"), "bad.yaml:9:36", "drop_probability 1.5 is outside 0..1"},
		{"bad jitter", goodPod("        emulator: {kind: fifo, jitter: gamma:1}\n"), "bad.yaml:8:40", `unknown distribution "gamma"`},
		{"bad dims", "pods:\n  - name: p\n    models:\n      - name: m\n        inputs: [{name: x, datatype: FP32, dims: [1, -4]}]\n", "bad.yaml:5:54", `dimension "-4" is invalid`},
		{"zero dim", "pods:\n  - name: p\n    models:\n      - name: m\n        inputs: [{name: x, datatype: FP32, dims: [0]}]\n", "bad.yaml:5:51", `dimension "0" is invalid`},
		{"dims not a list", "pods:\n  - name: p\n    models:\n      - name: m\n        inputs: [{name: x, datatype: FP32, dims: 4}]\n", "bad.yaml:5:50", "dims must be a list"},
		{"bad datatype", "pods:\n  - name: p\n    models:\n      - name: m\n        inputs: [{name: x, datatype: FP31, dims: [1]}]\n", "bad.yaml:5:38", `datatype "FP31"`},
		{"tensor without dims", "pods:\n  - name: p\n    models:\n      - name: m\n        inputs: [{name: x, datatype: FP32}]\n", "bad.yaml:5:18", "needs a name, a datatype and dims"},
		{"instances zero", goodPod("        emulator: {kind: instances, instances: 0}\n"), "bad.yaml:8:48", "instances 0 must be at least 1"},
		{"count not a number", goodPod("        emulator: {kind: instances, instances: many}\n"), "bad.yaml:8:48", `instances "many" is not a whole number`},
		{"version not digits", goodPod("        version: v1\n" + fifo), "bad.yaml:8:18", `version "v1" is not all digits`},
		{"batcher without max batch", goodPod("        emulator: {kind: batcher, batch_fixed: 5ms}\n"), "bad.yaml:5:9", "needs the model's max_batch_size"},
		{"preferred over max", goodPod("        max_batch_size: 4\n        emulator: {kind: batcher, preferred_batch_sizes: [8]}\n"), "bad.yaml:5:9", "preferred batch size 8 is outside 1..4"},
		{"pipelined without max in flight", goodPod("        emulator: {kind: pipelined, service_time: 5ms}\n"), "bad.yaml:5:9", "max in flight of at least 1"},
		{"gil held 0", goodPod("        emulator: {kind: gil, gil_held: 0}\n"), "bad.yaml:8:41", "gil_held 0 is outside 0.01..1"},
		{"duplicate key", goodPod(fifo + "        emulator: {kind: fifo}\n"), "bad.yaml:9:9", `key "emulator" given twice in a model`},
		{"http api", "pods:\n  - name: p\n    http_api: soap\n", "bad.yaml:3:15", `http_api "soap" is not one of kserve, plain`},
		{"pod without name", "pods:\n  - http: 127.0.0.1:0\n", "bad.yaml:2:5", "a pod needs a name"},
		{"pod without address", "pods:\n  - name: p\n    models:\n      - name: m\n        inputs: [{name: x, datatype: FP32, dims: [1]}]\n        outputs: [{name: y, datatype: FP32, dims: [1]}]\n        emulator: {kind: fifo}\n", "bad.yaml:2:5", "needs an HTTP or a gRPC address"},
		{"plain with two models", "pods:\n  - name: p\n    http: 127.0.0.1:0\n    http_api: plain\n    models:\n" +
			"      - {name: a, inputs: [{name: x, datatype: FP32, dims: [1]}], outputs: [{name: y, datatype: FP32, dims: [1]}], emulator: {kind: fifo}}\n" +
			"      - {name: b, inputs: [{name: x, datatype: FP32, dims: [1]}], outputs: [{name: y, datatype: FP32, dims: [1]}], emulator: {kind: fifo}}\n",
			"bad.yaml:2:5", "exactly one model"},
		{"same address twice", goodPod(fifo) + pod("q", "http: 127.0.0.1:9999") + pod("r", "grpc: 127.0.0.1:9999"), "bad.yaml:12:5", "address 127.0.0.1:9999 is already pod \"q\"'s"},
		{"same pod twice", goodPod(fifo) + pod("p", "http: 127.0.0.1:0"), "bad.yaml:9:5", `pod "p" declared twice`},
		{"pod without models", "pods:\n  - name: p\n    http: 127.0.0.1:0\n", "bad.yaml:2:5", "no models to serve"},
		{"autoscaling unknown key", "pods:\n  - name: p\n    autoscaling: {target_rps: 5, max_replica: 2}\n", "bad.yaml:3:34", `unknown key "max_replica" in a pod's autoscaling`},
		{"autoscaling two targets", "pods:\n  - name: p\n    http: 127.0.0.1:0\n    autoscaling: {target_rps: 5, target_inflight: 2, max_replicas: 2}\n" + pod("q", "http: 127.0.0.1:0")[len("  - name: q\n    http: 127.0.0.1:0\n"):],
			"bad.yaml:2:5", "exactly one of target_inflight and target_rps"},
		{"autoscaling negative cold start", "pods:\n  - name: p\n    autoscaling: {cold_start: -2s}\n", "bad.yaml:3:31", "cold_start -2s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := refserver.ParseConfig("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			if !strings.Contains(err.Error(), tt.where) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error:\n  %v\nwant one at %s mentioning %q", err, tt.where, tt.message)
			}
		})
	}
}

// TestExampleConfig loads examples/refserver.yaml: it builds, and its first
// four pods are the field-guide preset on its default ports.
func TestExampleConfig(t *testing.T) {
	c, err := refserver.LoadConfig("../../examples/refserver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Build(); err != nil {
		t.Fatal(err)
	}
	preset := refserver.FieldGuide(8000)
	if len(c.Pods) != 6 {
		t.Fatalf("%d pods, want the preset's 4, the sandbox and the autoscaled", len(c.Pods))
	}
	if a := c.Pods[5].Autoscaling; a == nil || a.TargetRPS != 80 || a.MinReplicas != 1 || a.MaxReplicas != 4 || a.ScaleUpDelay != 3*time.Second || a.ColdStart != 2*time.Second || a.ScaleDownDelay != 30*time.Second {
		t.Errorf("autoscaled pod decoded as %+v", c.Pods[5].Autoscaling)
	}
	for i, want := range preset.Pods {
		if got := c.Pods[i]; !reflect.DeepEqual(got, want) {
			t.Errorf("example pod %d differs from the preset:\n got %+v\nwant %+v", i, got, want)
		}
	}
	sandbox := c.Pods[4]
	f := sandbox.Models[0].Faults
	if sandbox.Models[0].Emulator.QueueLimit != 64 || f.SpikeDuration != 300*time.Millisecond || f.StallAt != time.Minute || f.DropProbability != 0.001 || sandbox.MaxRequestSize != 64<<20 {
		t.Errorf("sandbox pod decoded as %+v", sandbox)
	}
	// Started on free ports, each pod answers.
	for i := range c.Pods {
		p := &c.Pods[i]
		for _, a := range []*string{&p.HTTP, &p.GRPC, &p.Metrics} {
			if *a != "" {
				*a = "127.0.0.1:0"
			}
		}
	}
	specs, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = refserver.ShutdownPods(t.Context(), pods) })
	for _, p := range pods {
		if a := send(t, "GET", "http://"+p.MetricsAddr+"/metrics", nil, nil); a.status != 200 || !strings.Contains(string(a.body), `inferbench_pod_restarts_total{pod="`+p.Server.Name()+`"} 0`) {
			t.Errorf("pod %s /metrics: %d", p.Server.Name(), a.status)
		}
	}
}

func TestScaled(t *testing.T) {
	c := refserver.FieldGuide(0)
	s := c.Scaled(2)
	if s.Pods[1].Models[0].Emulator.ServiceTime != 16*time.Millisecond || s.Pods[3].Models[0].Emulator.MaxQueueDelay != 4*time.Millisecond || s.Pods[1].RestartTime != 20*time.Second {
		t.Errorf("scaled: %+v", s.Pods[1])
	}
	if c.Pods[1].Models[0].Emulator.ServiceTime != 8*time.Millisecond {
		t.Error("Scaled changed the original")
	}
}

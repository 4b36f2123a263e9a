package observe

import (
	"os"
	"strings"
	"testing"
)

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseTritonMetrics(t *testing.T) {
	c, err := Parse(load(t, "triton_before.txt"), "yolov8n", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Found || c.Success != 1000 || c.Failure != 4 || c.ExecCount != 250 || c.QueueUs != 9e6 {
		t.Errorf("counters %+v", c)
	}
	if c.GPUUtil != 0.5 || c.GPUMemoryBytes != 3e9 || c.CPUUtil != 0.25 {
		t.Errorf("gauges: gpu %v mem %v cpu %v", c.GPUUtil, c.GPUMemoryBytes, c.CPUUtil)
	}
	other, _ := Parse(load(t, "triton_before.txt"), "other", "")
	if other.Success != 5 || other.GPUUtil != 0.5 {
		t.Errorf("other model %+v", other)
	}
	missing, _ := Parse(load(t, "triton_before.txt"), "nope", "")
	if missing.Found {
		t.Errorf("a model that is not there was found")
	}
}

func TestDeriveBreakdown(t *testing.T) {
	before, _ := Parse(load(t, "triton_before.txt"), "yolov8n", "")
	after, _ := Parse(load(t, "triton_after.txt"), "yolov8n", "")
	b, err := Derive(before, after, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 400 successes: queue 3.64 s / 400 = 9.1 ms; compute 0.04 + 2.8 + 0.02 s / 400.
	want := Breakdown{QueueMs: 9.1, ComputeInputMs: 0.1, ComputeInferMs: 7, ComputeOutputMs: 0.05, AvgBatchSize: 4, Success: 400, Failure: 2,
		GPUUtil: 0.6, GPUMemoryBytes: 3.5e9, CPUUtil: 0.25, Source: "metrics"}
	if b != want {
		t.Errorf("breakdown\n%+v, want\n%+v", b, want)
	}
	if got := Explain(18.2, b); got != "p50 18.20 ms = queue 9.10 + compute 7.15 + network/client 1.95 ms (server means over 400 requests)" {
		t.Errorf("Explain = %q", got)
	}
	if _, err := Derive(after, before, nil); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Errorf("counters going back: %v", err)
	}
}

func TestMalformedMetricsAreAnError(t *testing.T) {
	for _, text := range []string{"nv_inference_count{model=\"m\" 12\n", "# TYPE x counter\nx{a=\"b\"} not-a-number\n"} {
		if _, err := Parse([]byte(text), "m", ""); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
}

func TestMetricsURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://triton.lan:8000": "http://triton.lan:8002/metrics",
		"127.0.0.1:8001":         "http://127.0.0.1:8002/metrics",
		"grpc://triton.svc:8001": "http://triton.svc:8002/metrics",
		"http://[::1]:8000":      "http://[::1]:8002/metrics",
	} {
		if got, err := MetricsURL(in); err != nil || got != want {
			t.Errorf("MetricsURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCrossCheck(t *testing.T) {
	if n := CrossCheck(Breakdown{Success: 410}, 400, 10); n != "" {
		t.Errorf("warmup difference flagged: %q", n)
	}
	if n := CrossCheck(Breakdown{Success: 800}, 400, 10); !strings.Contains(n, "the server counted 800 successes, the client 400") {
		t.Errorf("note %q", n)
	}
}

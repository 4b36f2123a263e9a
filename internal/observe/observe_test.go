package observe

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve/pb"
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
		GPUUtil: 0.6, GPUMemoryBytes: 3.5e9, CPUUtil: 0.25, PeakMemoryInflightBytes: -1, Samples: 2, Source: "metrics"}
	if b != want {
		t.Errorf("breakdown\n%+v, want\n%+v", b, want)
	}
	if got := Explain(18.2, b); got != "p50 18.20 ms = queue 9.10 + compute 7.15 + network/client 1.95 ms (server means over 400 requests)" {
		t.Errorf("Explain = %q", got)
	}
	if _, err := Derive(after, before, nil); !errors.Is(err, ErrRestarted) {
		t.Errorf("counters going back: %v", err)
	}
	restarted := after
	before.PodRestarts, restarted.PodRestarts = 0, 1
	if _, err := Derive(before, restarted, nil); !errors.Is(err, ErrRestarted) || !strings.Contains(err.Error(), "OOM") {
		t.Errorf("pod restart: %v", err)
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

func TestFromStatistics(t *testing.T) {
	d := func(count, ns uint64) *pb.StatisticDuration { return &pb.StatisticDuration{Count: count, Ns: ns} }
	stats := func(success, queueNs uint64) *pb.ModelStatisticsResponse {
		return &pb.ModelStatisticsResponse{ModelStats: []*pb.ModelStatistics{{
			Name: "m", Version: "1", InferenceCount: success * 2, ExecutionCount: success,
			InferenceStats: &pb.InferStatistics{Success: d(success, 0), Fail: d(1, 0), Queue: d(success, queueNs),
				ComputeInput: d(success, 0), ComputeInfer: d(success, success*5e6), ComputeOutput: d(success, 0)},
		}}}
	}
	before, after := FromStatistics(stats(100, 1e8), "m", ""), FromStatistics(stats(300, 7e8), "m", "1")
	b, err := Derive(before, after, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Success != 200 || b.QueueMs != 3 || b.ComputeInferMs != 5 || b.AvgBatchSize != 2 || b.GPUUtil != -1 {
		t.Errorf("breakdown %+v", b)
	}
	if FromStatistics(stats(1, 1), "other", "").Found {
		t.Errorf("another model's statistics were taken")
	}
}

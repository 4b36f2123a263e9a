package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/result"
)

// pod serves one model on loopback.
func pod(t *testing.T, spec refserver.ModelSpec, opts refserver.Options) *refserver.Running {
	t.Helper()
	opts.Models = []refserver.ModelSpec{spec}
	return reftest.Serve(t, opts)
}

// deployment is model m of a reference server, as deployment d.
func deployment(r *refserver.Running, kind protocol.Kind) plan.Deployment {
	url := "http://" + r.HTTPAddr
	if kind == protocol.KServeGRPC {
		url = r.GRPCAddr
	}
	return plan.Deployment{Name: "d", Protocol: string(kind), URL: url, Model: "m", Timeout: 2 * time.Second, MetricsURL: MetricsOff}
}

// target opens model m of a reference server.
func target(t *testing.T, r *refserver.Running, kind protocol.Kind) *Target {
	t.Helper()
	tg, err := Open(context.Background(), deployment(r, kind), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Client.Close() })
	return tg
}

func small(em refserver.Emulator) refserver.ModelSpec {
	return refserver.ModelSpec{Name: "m", Emulator: em,
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}}}
}

// TestServerBreakdownOfABatcher: against the reference server's batcher
// the average batch rises with concurrency, and queue + compute + rest
// adds up to the client's p50.
func TestServerBreakdownOfABatcher(t *testing.T) {
	spec := small(nil)
	spec.MaxBatchSize = 32
	spec.Inputs[0].Shape, spec.Outputs[0].Shape = []int64{4}, []int64{8}
	em, err := refserver.NewEmulator(refserver.EmulatorConfig{Kind: refserver.KindBatcher, Instances: 1, MaxBatchSize: 32,
		MaxQueueDelay: 2 * time.Millisecond, BatchFixed: 5 * time.Millisecond, BatchPerItem: 300 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	spec.Emulator = em
	r := pod(t, spec, refserver.Options{})
	tg := target(t, r, protocol.KServeGRPC)
	watch, line := NewServerWatch(context.Background(), tg.Client, tg.Deployment.URL, "m", "", "http://"+r.MetricsAddr+"/metrics")
	if watch == nil || !strings.Contains(line, "metrics http://") {
		t.Fatalf("watch: %s", line)
	}
	var batches []float64
	for _, c := range []int{1, 4, 16} {
		run := judged(measureLevel(context.Background(), tg, Level{Concurrency: c, Requests: 40 * c, Warmup: -1}, levelHooks{Watch: watch}))
		if run.Server == nil || run.Validity == nil || !run.Validity.Valid {
			t.Fatalf("c=%d: server %+v validity %+v notes %v", c, run.Server, run.Validity, run.Assessment.Notes)
		}
		b := run.Server
		batches = append(batches, b.AvgBatchSize)
		sum := b.QueueMs + b.ComputeMs()
		t.Logf("c=%d: p50 %.2f ms, queue %.2f + compute %.2f, batch %.1f", c, run.LatencyMs.P50, b.QueueMs, b.ComputeMs(), b.AvgBatchSize)
		// The server's part is some of the client's latency: a busy
		// machine adds to the client's part, so the share may fall well
		// below the idle machine's 60-100%; a unit or a counter mixed up
		// puts it off by a factor of ten or more.
		if sum > run.LatencyMs.P50*1.5 || sum < run.LatencyMs.P50*0.25 {
			t.Errorf("c=%d: queue + compute %.2f ms against a client p50 of %.2f ms, want 25%%..150%% of it", c, sum, run.LatencyMs.P50)
		}
		if b.Success < int64(run.Counts.OK) {
			t.Errorf("c=%d: the server counted %d successes, the client %d", c, b.Success, run.Counts.OK)
		}
	}
	if !(batches[0] < batches[1] && batches[1] < batches[2]) || batches[0] > 1.2 {
		t.Errorf("average batch sizes %v do not rise with concurrency from about 1", batches)
	}
}

// TestRestartMakesAStepInvalid: a pod whose memory budget is exceeded is
// "OOM-killed" and restarts during the step; the step is INVALID.
func TestRestartMakesAStepInvalid(t *testing.T) {
	spec := small(refserver.NewInstances(16, 20*time.Millisecond))
	spec.Faults.MemoryPerRequest = 100
	r := pod(t, spec, refserver.Options{MemoryLimit: 450, RestartTime: 300 * time.Millisecond})
	tg := target(t, r, protocol.KServeHTTP)
	watch, line := NewServerWatch(context.Background(), tg.Client, tg.Deployment.URL, "m", "", "http://"+r.MetricsAddr+"/metrics")
	if watch == nil {
		t.Fatal(line)
	}
	run := judged(measureLevel(context.Background(), tg, Level{Concurrency: 8, Duration: 1500 * time.Millisecond, Warmup: 0}, levelHooks{Watch: watch}))
	reasons := ""
	if run.Validity != nil {
		reasons = strings.Join(run.Validity.Reasons, " ")
	}
	if run.Validity == nil || run.Validity.Valid || !(strings.Contains(reasons, "restarted") || strings.Contains(reasons, "the pod went down")) {
		t.Errorf("validity %+v, want INVALID because the pod restarted; notes %q", run.Validity, run.Assessment.Notes)
	}
}

func TestStatisticsAPIWhenNoMetrics(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, 5*time.Millisecond)), refserver.Options{})
	tg := target(t, r, protocol.KServeHTTP)
	// No metrics at the derived Triton port: the statistics API serves.
	watch, line := NewServerWatch(context.Background(), tg.Client, tg.Deployment.URL, "m", "", MetricsAuto)
	if watch == nil || watch.Scraper != nil || !strings.Contains(line, "statistics API") {
		t.Fatalf("watch %+v: %s", watch, line)
	}
	run := judged(measureLevel(context.Background(), tg, Level{Concurrency: 2, Requests: 60, Warmup: -1}, levelHooks{Watch: watch}))
	if run.Server == nil || run.Server.Source != "statistics" || run.Server.ComputeInferMs < 4 || run.Server.GPUUtil != -1 {
		t.Errorf("server %+v", run.Server)
	}
	if w, line := NewServerWatch(context.Background(), tg.Client, tg.Deployment.URL, "m", "", MetricsOff); w != nil || line != "server metrics: off" {
		t.Errorf("off: %v %q", w, line)
	}
}

// judged is a run with the judgement a session records with it.
func judged(r result.Run) result.Run {
	f := &result.File{Runs: []result.Run{r}}
	analyze.Record(f)
	return f.Runs[0]
}

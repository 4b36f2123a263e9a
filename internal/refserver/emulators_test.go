package refserver_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// scrape reads and parses a pod's /metrics.
func scrape(t *testing.T, r *refserver.Running) map[string]*dto.MetricFamily {
	t.Helper()
	a := send(t, "GET", "http://"+r.MetricsAddr+"/metrics", nil, nil)
	if a.status != 200 {
		t.Fatalf("/metrics: %d %s", a.status, a.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(a.body))
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text: %v\n%s", err, a.body)
	}
	return fams
}

// TestBatcherExecutesBatchesAndScales drives the batcher over gRPC at
// concurrency 1 and 32: batches larger than 1 execute, the statistics and
// metrics account for them exactly, and throughput grows several times.
func TestBatcherExecutesBatchesAndScales(t *testing.T) {
	// A batch of b costs 30 ms + 1 ms x b. At concurrency 1 a request waits
	// the 5 ms delay, then takes 31 ms: about 28/s. At 32 the batch is full
	// at once: 32 per 62 ms, about 500/s.
	r, call := startBatcher(t)

	one, many := batcherAtOneAnd32(call)
	t.Logf("throughput at 1: %.0f/s (p50 %v); at 32: %.0f/s (p50 %v)", one.throughput(), one.percentile(.5), many.throughput(), many.percentile(.5))
	if one.failed+many.failed > 0 {
		t.Fatalf("%d failures: %v", one.failed+many.failed, append(one.errs, many.errs...))
	}
	// Ceilings and floors no machine load can break (a sleep may end up
	// to 1 ms early, the sleeper's compensation): alone, a request takes at
	// least its 31 ms batch, so at most 1000/30 a second; a batch of b at
	// most 32 takes 30 + b ms, so at most 32 per 61 ms. How many times the
	// throughput grows is TestBatcherScalesSeveralTimes (timing tag).
	if x := one.throughput(); x > 1000.0/30 {
		t.Errorf("throughput at 1 = %.1f/s, above the ceiling of one 31 ms batch at a time (32/s)", x)
	}
	if x := many.throughput(); x > 32*1000.0/61 {
		t.Errorf("throughput at 32 = %.1f/s, above the ceiling of full 62 ms batches of 32 (516/s)", x)
	}
	if p50 := one.percentile(.5); p50 < 30*time.Millisecond {
		t.Errorf("p50 at concurrency 1 = %v, want at least the 31 ms batch", p50)
	}

	stats, err := protocolClient(t, protocol.KServeGRPC, r).ModelStatistics(context.Background(), "b", "")
	if err != nil {
		t.Fatal(err)
	}
	ms := stats.GetModelStats()[0]
	served := uint64(one.ok + many.ok)
	var executions, elements, largest uint64
	for _, b := range ms.GetBatchStats() {
		executions += b.GetComputeInfer().GetCount()
		elements += b.GetBatchSize() * b.GetComputeInfer().GetCount()
		largest = max(largest, b.GetBatchSize())
	}
	if ms.GetInferenceCount() != served || elements != served {
		t.Errorf("inference_count %d, elements in batch_stats %d, want %d (every request served)", ms.GetInferenceCount(), elements, served)
	}
	if ms.GetExecutionCount() != executions || executions >= served/4 {
		t.Errorf("execution_count %d, executions in batch_stats %d, for %d requests: want equal, and batches of several", ms.GetExecutionCount(), executions, served)
	}
	if largest < 16 {
		t.Errorf("largest batch executed %d, want at least 16 at concurrency 32", largest)
	}
	fams := scrape(t, r)
	lbl := map[string]string{"model": "b", "version": "1"}
	if got := metricValue(t, fams, "nv_inference_exec_count", lbl); got != float64(executions) {
		t.Errorf("nv_inference_exec_count = %v, want %d", got, executions)
	}
	if got := metricValue(t, fams, "nv_inference_count", lbl); got != float64(served) {
		t.Errorf("nv_inference_count = %v, want %d", got, served)
	}
	// Queue time: at concurrency 1 each request waits the 5 ms delay for
	// company (at 32 a full batch goes at once); compute: its batch's time,
	// 31 to 62 ms, counted for every request of the batch.
	queue := metricValue(t, fams, "nv_inference_queue_duration_us", lbl)
	compute := metricValue(t, fams, "nv_inference_compute_infer_duration_us", lbl) / float64(served)
	if queue < 4000*float64(one.ok) || compute < 30000 || compute > 200000 {
		t.Errorf("queue %.0f us in all for %d lone requests, compute %.0f us per request: want >= 4 ms each alone, and a batch's 31-62 ms", queue, one.ok, compute)
	}
}

// startBatcher serves a batcher whose batch of b costs 30 ms + 1 ms x b
// (at most 32, 5 ms of delay) as model b, and returns a gRPC call to it.
func startBatcher(t *testing.T) (*refserver.Running, func(context.Context) error) {
	t.Helper()
	em := emulated(t, refserver.EmulatorConfig{Kind: refserver.KindBatcher, MaxBatchSize: 32, MaxQueueDelay: 5 * time.Millisecond,
		BatchFixed: 30 * time.Millisecond, BatchPerItem: time.Millisecond})
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{batchedModel("b", em, 32)}})
	return r, inferClient(t, protocol.KServeGRPC, r, "b")
}

// batcherAtOneAnd32 drives a batcher for 700 ms at concurrency 1, then 32.
func batcherAtOneAnd32(call func(context.Context) error) (one, many loopResult) {
	return closedLoop(1, 700*time.Millisecond, 0, call), closedLoop(32, 700*time.Millisecond, 0, call)
}

// TestGILThroughputBarelyGrows checks that extra concurrency on the gil
// emulator adds latency, not throughput.
func TestGILThroughputBarelyGrows(t *testing.T) {
	// 20 ms a request, 80% of it under the lock: at most 1/16 ms = 62/s.
	_, eight := gilAtOneAndEight(t)
	// The lock is held 16 ms a request (15 if a sleep ends 1 ms early):
	// however many workers, never more than 1000/15 a second, and a
	// request never faster than its 20 ms. How little the throughput
	// grows is TestGILThroughputRatio (timing tag).
	if x := eight.throughput(); x > 1000.0/15 {
		t.Errorf("throughput at 8 = %.1f/s, above the lock's ceiling of 62.5/s (66.7 with early wake-ups): the lock does not serialise", x)
	}
	if p50 := eight.percentile(.5); p50 < 19*time.Millisecond {
		t.Errorf("p50 at 8 = %v, below the 20 ms service time", p50)
	}
}

// gilAtOneAndEight serves a gil emulator of 20 ms a request, 80% of it
// under the lock, and drives it for 800 ms at concurrency 1, then 8.
func gilAtOneAndEight(t *testing.T) (one, eight loopResult) {
	t.Helper()
	em := emulated(t, refserver.EmulatorConfig{Kind: refserver.KindGIL, ServiceTime: 20 * time.Millisecond, GILHeld: 0.8})
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("py", em)}})
	call := inferClient(t, protocol.KServeHTTP, r, "py")
	one = closedLoop(1, 800*time.Millisecond, 0, call)
	eight = closedLoop(8, 800*time.Millisecond, 0, call)
	t.Logf("throughput at 1: %.1f/s (p50 %v); at 8: %.1f/s (p50 %v)", one.throughput(), one.percentile(.5), eight.throughput(), eight.percentile(.5))
	if one.failed+eight.failed > 0 {
		t.Fatalf("failures: %v", append(one.errs, eight.errs...))
	}
	return one, eight
}

// protocolClient makes a protocol client for a running pod.
func protocolClient(t *testing.T, kind protocol.Kind, r *refserver.Running) protocol.Client {
	t.Helper()
	url := "http://" + r.HTTPAddr
	if kind == protocol.KServeGRPC {
		url = r.GRPCAddr
	}
	c, err := protocol.New(protocol.Options{Kind: kind, URL: url, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestBatcherInstancesRunInParallel: with two instances, two full batches
// execute at the same time, each one execution of four. Batches of 600 ms
// (and 200 ms for the eight requests to arrive): together 600 ms, one
// after the other 1.2 s; a busy machine has 400 ms between the two.
func TestBatcherInstancesRunInParallel(t *testing.T) {
	em := emulated(t, refserver.EmulatorConfig{Kind: refserver.KindBatcher, Instances: 2, MaxBatchSize: 4,
		MaxQueueDelay: 200 * time.Millisecond, BatchFixed: 600 * time.Millisecond})
	timings := make([]refserver.Timing, 8)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range timings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if timings[i], err = em.Execute(context.Background(), 1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	leaders := 0
	for _, tm := range timings {
		if tm.ExecutedBatch != 4 {
			t.Errorf("a request executed in a batch of %d, want 4", tm.ExecutedBatch)
		}
		if tm.Leader {
			leaders++
		}
	}
	if leaders != 2 || elapsed > time.Second {
		t.Errorf("%d leaders, %v in all: want 2 batches of 4 at once, in about 600 ms (under 1 s; one after the other would take 1.2 s)", leaders, elapsed)
	}
}

// TestPipelinedPlateausAtMaxInflight drives the pipelined emulator
// directly: throughput grows with requests in flight, then stops at its
// maximum.
func TestPipelinedPlateausAtMaxInflight(t *testing.T) {
	// Alone 20 ms; with k in flight 20 + 10 (k-1) ms; at most 3 in flight:
	// 50/s at 1, 75/s at 3, still 75/s at 6.
	x1, x3, six := pipelinedAt1And3And6(t)
	// Ceilings no load can break (each sleep may end 1 ms early): alone at
	// most 1000/19 a second, with 3 in flight 3000/39, and with 6 workers
	// no more than with 3 (the plateau); 3 in flight always serve more
	// than 1 (3 (20+e) / (40+e) > 1.5 whatever the machine adds, e). A
	// request waits for a place at 6: p50 at least 60 ms. The ratios
	// themselves are TestPipelinedRatios (timing tag).
	if x1 > 1000.0/19 || x3 > 3000.0/39 || six.throughput() > 3000.0/39 {
		t.Errorf("throughput at 1: %.1f/s, 3: %.1f/s, 6: %.1f/s; want at most 52.6, 76.9 and 76.9 (the ceilings at 1 and 3 in flight)", x1, x3, six.throughput())
	}
	if x3 < 1.2*x1 {
		t.Errorf("throughput at 3 is %.2f times that at 1, want more than 1.2", x3/x1)
	}
	if six.percentile(.5) < 60*time.Millisecond {
		t.Errorf("p50 at 6 = %v, want about 80 ms (40 ms queued, 40 ms in flight)", six.percentile(.5))
	}
}

// pipelinedAt1And3And6 drives a pipelined emulator (alone 20 ms; with k
// in flight 20 + 10 (k-1) ms; at most 3 in flight) directly, 600 ms at
// concurrency 1, 3 and 6.
func pipelinedAt1And3And6(t *testing.T) (x1, x3 float64, six loopResult) {
	t.Helper()
	em := emulated(t, refserver.EmulatorConfig{Kind: refserver.KindPipelined, ServiceTime: 20 * time.Millisecond,
		PerInflight: 10 * time.Millisecond, MaxInflight: 3})
	call := func(ctx context.Context) error { _, err := em.Execute(ctx, 1); return err }
	x1 = closedLoop(1, 600*time.Millisecond, 0, call).throughput()
	x3 = closedLoop(3, 600*time.Millisecond, 0, call).throughput()
	six = closedLoop(6, 600*time.Millisecond, 0, call)
	t.Logf("throughput at 1: %.0f/s, 3: %.0f/s, 6: %.0f/s (p50 %v)", x1, x3, six.throughput(), six.percentile(.5))
	return x1, x3, six
}

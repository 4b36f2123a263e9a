package scaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/scaling"
)

// The emulated deployment of the acceptance: 1 -> 4 replicas of 100 req/s
// each (2 instances of 20 ms), 80 req/s wanted per replica, a scale-up
// delay of 3 s and a cold start of 2 s: a load change to 300/s makes the
// first new replica ready 5 s later (plus the part of the 0.5 s window the
// rising average takes to pass 80/s and a tick, about 0.15 s).
const (
	upDelay   = 3 * time.Second
	coldStart = 2 * time.Second
	emulated  = upDelay + coldStart
)

func autoscaled(t *testing.T, minReplicas, initial int) (*refserver.Pod, protocol.Client, protocol.Payload) {
	t.Helper()
	c := refserver.Config{Pods: []refserver.PodConfig{{
		Name: "auto", HTTP: "127.0.0.1:0", Metrics: "127.0.0.1:0",
		Autoscaling: &refserver.AutoscaleConfig{TargetRPS: 80, MinReplicas: minReplicas, MaxReplicas: 4, InitialReplicas: initial,
			ScaleUpDelay: upDelay, ScaleDownDelay: time.Minute, ColdStart: coldStart, Window: 500 * time.Millisecond},
		Models: []refserver.ModelConfig{{Name: "m",
			Inputs:   []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
			Outputs:  []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
			Emulator: refserver.EmulatorConfig{Kind: refserver.KindInstances, Instances: 2, ServiceTime: 20 * time.Millisecond}}},
	}}}
	specs, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = refserver.ShutdownPods(ctx, pods)
	})
	cl, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + pods[0].HTTPAddr, Timeout: 30 * time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := cl.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	return pods[0], cl, p
}

// observed runs one open-loop step while observing the deployment, and
// returns the run's result with its scaling.
func observed(t *testing.T, d *refserver.Deployment, cl protocol.Client, p protocol.Payload, rate float64, dur time.Duration) *result.Run {
	t.Helper()
	obs := scaling.Start(context.Background(), d, 200*time.Millisecond)
	res, err := load.Run(context.Background(), load.Config{Client: cl, Payloads: []protocol.Payload{p}, Rate: rate,
		Arrival: load.ArrivalConstant, Duration: dur, MaxInFlight: 2000})
	if err != nil {
		t.Fatal(err)
	}
	s, err := obs.Stop(res.Started, len(res.Timeline))
	if err != nil || s == nil {
		t.Fatalf("observation: %v", err)
	}
	return &result.Run{Timeline: res.Timeline, Scaling: s}
}

// scaleUp is the acceptance's step from 50 to 300 req/s, driven as two
// consecutive runs (the load changes at the second run's start) until
// steps have stages: the scale-up fact of the second, with the first's
// p50 as the level before the change.
func scaleUp(t *testing.T) (analyze.ScaleUpFact, *result.Run) {
	pod, cl, p := autoscaled(t, 1, 1)
	d := pod.Server.Deployment()
	before := observed(t, d, cl, p, 50, 3*time.Second)
	base := 0.0
	for _, iv := range before.Timeline {
		if iv.LatencyMs != nil {
			base = max(base, iv.LatencyMs.P50)
		}
	}
	after := observed(t, d, cl, p, 300, 9*time.Second)
	f, ok := analyze.ScaleUp(after.Scaling, after.Timeline, 0, base)
	if !ok {
		t.Fatalf("no scale-up seen: %+v", after.Scaling)
	}
	t.Logf("%s", f.Note())
	return f, after
}

// TestScaleUpLagBounds: what no machine load can break: the first new
// replica is never ready before the emulated 5 s (less the 0.2 s of the
// timeline's start against the first send), the deployment reaches its 4
// replicas, and the timeline records them. The 10% check is in
// timing_test.go (bench/acceptance.sh).
func TestScaleUpLagBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12 s scale-up")
	}
	f, run := scaleUp(t)
	if f.FirstReadyS < emulated.Seconds()-0.2 || f.FirstReadyS > emulated.Seconds()+5 {
		t.Errorf("scale-up lag %.2f s, want between %v and %v + 5 s", f.FirstReadyS, emulated, emulated)
	}
	if f.From != 1 || f.To != 4 {
		t.Errorf("replicas %d -> %d, want 1 -> 4", f.From, f.To)
	}
	last := run.Scaling.Seconds[len(run.Scaling.Seconds)-1]
	if last.Desired != 4 || last.Ready != 4 {
		t.Errorf("last second %+v, want 4 desired and ready", last)
	}
	if n := len(run.Scaling.Seconds); n < len(run.Timeline) {
		t.Errorf("%d scaling seconds for %d timeline seconds", n, len(run.Timeline))
	}
}

// scaleFromZero sends 20 req/s to a deployment scaled to zero.
func scaleFromZero(t *testing.T) analyze.ColdStartFact {
	pod, cl, p := autoscaled(t, 0, 0)
	d := pod.Server.Deployment()
	run := observed(t, d, cl, p, 20, 4*time.Second)
	f, ok := analyze.ColdStart(run.Scaling, run.Timeline)
	if !ok {
		t.Fatalf("no cold start seen: %+v", run.Scaling)
	}
	t.Logf("%s", f.Note())
	return f
}

// TestColdStartBounds: the first success after scale-from-zero is never
// before the emulated 2 s cold start, and the first requests wait most of
// it.
func TestColdStartBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("a 4 s scale-from-zero")
	}
	f := scaleFromZero(t)
	if f.FirstSuccessS < coldStart.Seconds() || f.FirstSuccessS > coldStart.Seconds()+5 {
		t.Errorf("cold start %.2f s, want between %v and %v + 5 s", f.FirstSuccessS, coldStart, coldStart)
	}
	// The cold start begins with the first request the deployment sees,
	// which may come before the measured phase's first send (the session
	// checks the deployment when it opens it): on a busy machine the first
	// measured requests wait the cold start less that gap (1,933 ms was
	// seen for 2 s). They wait most of it, which no machine load breaks.
	if f.FirstLatencyMs < float64(coldStart.Milliseconds())/2 {
		t.Errorf("first requests' latency %.0f ms, want most of the cold start %v", f.FirstLatencyMs, coldStart)
	}
}

// TestMetricsSource: the autoscaled pod's /metrics says what the
// deployment says in process: its replicas and their times.
func TestMetricsSource(t *testing.T) {
	pod, cl, p := autoscaled(t, 1, 2)
	d := pod.Server.Deployment()
	if _, err := load.Run(context.Background(), load.Config{Client: cl, Payloads: []protocol.Payload{p}, Concurrency: 2, Requests: 20}); err != nil {
		t.Fatal(err)
	}
	in, err := d.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src := &scaling.Metrics{URL: "http://" + pod.MetricsAddr + "/metrics"}
	got, err := src.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Desired != 2 || got.Ready != 2 || in.Desired != 2 || len(got.Replicas) != 2 {
		t.Fatalf("metrics %+v, in process %+v: want 2 replicas desired and ready", got, in)
	}
	for i, r := range got.Replicas {
		w := in.Replicas[i]
		if r.Name != w.Name || r.Created.Sub(w.Created).Abs() > time.Millisecond || r.Ready.Sub(w.Ready).Abs() > time.Millisecond {
			t.Errorf("replica %d: metrics %+v, in process %+v", i, r, w)
		}
	}
	if got.Replicas[0].FirstSuccess.IsZero() && got.Replicas[1].FirstSuccess.IsZero() {
		t.Error("no replica's first success in the metrics after 20 answers")
	}
}

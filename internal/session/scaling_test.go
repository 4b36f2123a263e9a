package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestStepRecordsScaling: against an autoscaled reference pod scaled to
// zero, opening the deployment finds its replicas in its metrics, and a
// step records them per second with the cold start's events and note.
func TestStepRecordsScaling(t *testing.T) {
	specs, err := refserver.Config{Pods: []refserver.PodConfig{{Name: "auto", HTTP: "127.0.0.1:0", Metrics: "127.0.0.1:0",
		Autoscaling: &refserver.AutoscaleConfig{TargetInFlight: 4, MinReplicas: 0, MaxReplicas: 2, ColdStart: 300 * time.Millisecond, ScaleDownDelay: time.Minute},
		Models: []refserver.ModelConfig{{Name: "m",
			Inputs:   []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
			Outputs:  []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
			Emulator: refserver.EmulatorConfig{Kind: refserver.KindFIFO, ServiceTime: time.Millisecond}}},
	}}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = refserver.ShutdownPods(ctx, pods)
	})
	d := deployment(pods[0].Running, protocol.KServeHTTP)
	d.MetricsURL = "http://" + pods[0].MetricsAddr + "/metrics"
	// Opening sends a first request: it activates a replica (cold start).
	tg, err := Open(context.Background(), d, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Client.Close() })
	if tg.Scale == nil || !strings.Contains(tg.WatchLine, "replicas from") {
		t.Fatalf("no scale source found: %s", tg.WatchLine)
	}
	run := judged(measureLevel(context.Background(), tg, Level{Concurrency: 2, Duration: 1500 * time.Millisecond, Warmup: 0}, levelHooks{Watch: tg.Watch, Scale: tg.Scale}))
	s := run.Scaling
	if s == nil || len(s.Seconds) < len(run.Timeline) {
		t.Fatalf("scaling %+v for %d timeline seconds", s, len(run.Timeline))
	}
	last := s.Seconds[len(s.Seconds)-1]
	if last.Desired < 1 || last.Ready < 1 {
		t.Errorf("last second %+v, want a replica desired and ready", last)
	}
	kinds := map[string]int{}
	for _, e := range s.Events {
		kinds[e.Kind]++
	}
	if kinds["created"] < 1 || kinds["ready"] < 1 || kinds["first_success"] < 1 {
		t.Errorf("events %+v, want a replica created, ready and first answering", s.Events)
	}
}

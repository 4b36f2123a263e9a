//go:build timing

// Timing acceptance of stages and trace replay (bench/acceptance.sh, on
// an idle machine). The default run holds the exact pacer tests and the
// loose bounds of stages_run_test.go.

package load_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestStagedRampEndToEnd: 100 -> 400/s over 10 s, then 400/s for 10 s,
// against the reference server: from the second second on, each second's
// sends are within 3% of the target's integral over it.
func TestStagedRampEndToEnd(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(16, 2*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	stages := []load.Stage{{Duration: 10 * time.Second, Target: 400}, {Duration: 10 * time.Second, Target: 400, Hold: true}}
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Rate: 100, Stages: stages, Duration: load.StagesDuration(stages), Warmup: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, dropped %d, late %d, errors %d", res.Sent, res.Dropped, res.LateSends, res.Errors)
	// The timeline's intervals are wall-clock seconds: each one's target is
	// the schedule's count over its own span from the phase's start.
	pacer, _ := load.NewStagedPacer(stages, 100, false, 1)
	for i, iv := range res.Timeline {
		if i == 0 || iv.DurationS != 1 {
			continue // the partial first and last seconds
		}
		from := iv.Start.Sub(res.Started)
		want := float64(pacer.Count(from+time.Second) - pacer.Count(from))
		if math.Abs(float64(iv.Sent)-want) > 0.03*want {
			t.Errorf("second %d: %d sent, the schedule's %.0f (3%%: %.1f)", i+1, iv.Sent, want, 0.03*want)
		}
	}
}

// TestScheduleReplayOnTime: 1,000 offsets (a bursty trace: gaps of 0.5
// to 3.5 ms) replay with each send within 2 ms of its offset at the 99th
// percentile: at most 1% of the sends are late (LateThreshold is 2 ms).
func TestScheduleReplayOnTime(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(16, time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	s := &load.Schedule{}
	at := time.Duration(0)
	for i := range 1000 {
		s.Offsets = append(s.Offsets, at)
		at += time.Duration(500+(i*7919)%3000) * time.Microsecond
	}
	s.Period = at
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Schedule: s, Requests: 1000, Warmup: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d over %v (trace %v), late %d", res.Sent, res.Elapsed, s.Offsets[999], res.LateSends)
	if res.Sent != 1000 || res.LateSends > 10 {
		t.Errorf("sent %d, late (over 2 ms) %d: want 1000 and at most 10", res.Sent, res.LateSends)
	}
}

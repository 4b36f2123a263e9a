//go:build timing

// The sweep's timing acceptance tests against the reference server
// (bench/acceptance.sh, before a release; not in CI): where the sweet spot
// and the breaking point fall depends on latencies a busy machine
// changes. The default run holds TestSweepCeilings. Windows are small (60
// requests, at most 5 a level) to keep each search to a few seconds.

package session

import (
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestSweepFourInstances: 4 instances of 10 ms: the sweet spot is at
// concurrency 4 (within one level) at about 400/s.
func TestSweepFourInstances(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, 10*time.Millisecond)), refserver.Options{})
	f := sweep(t, r, protocol.KServeGRPC, SweepOptions{Objective: analyze.DefaultObjective})
	se := f.Searches[0]
	if se.Status != result.SearchComplete || se.SweetSpot == nil {
		t.Fatalf("search %+v", se)
	}
	if c := se.SweetSpot.Concurrency; c < 3 || c > 8 {
		t.Errorf("sweet spot c=%d, want 4 within one level", c)
	}
	if thr := se.SweetSpot.ThroughputRPS; thr < 340 || thr > 420 {
		t.Errorf("sweet spot throughput %.1f/s, want about 400", thr)
	}
}

// TestSweepQueueLimit: 16 instances of 20 ms with 4 places in the queue
// answer 503 above concurrency 20: the breaking point lies between 16
// and 24.
func TestSweepQueueLimit(t *testing.T) {
	em, err := refserver.NewEmulator(refserver.EmulatorConfig{Kind: refserver.KindInstances, Instances: 16, ServiceTime: 20 * time.Millisecond, QueueLimit: 4})
	if err != nil {
		t.Fatal(err)
	}
	r := pod(t, small(em), refserver.Options{})
	f := sweep(t, r, protocol.KServeHTTP, SweepOptions{Objective: analyze.DefaultObjective, BaselineRequests: 40, WindowRequests: 40})
	se := f.Searches[0]
	if se.BreakingPoint == nil || se.BreakingPoint.Concurrency < 16 || se.BreakingPoint.Concurrency > 24 {
		t.Fatalf("breaking point %+v, want between 16 and 24", se.BreakingPoint)
	}
	if se.BreakingPoint.ErrorRate <= analyze.BreakingErrorRate {
		t.Errorf("breaking point %+v has no more than 10%% errors", se.BreakingPoint)
	}
	if se.SweetSpot == nil || se.SweetSpot.Concurrency < 16 || se.SweetSpot.Concurrency > 20 {
		t.Errorf("sweet spot %+v, want 16..20", se.SweetSpot)
	}
}

// TestSweepRate: Poisson arrivals against 4 instances of 10 ms with an
// objective of p99 <= 50 ms: the highest rate that meets it lies between
// 250 and 400/s (capacity 400/s; an M/D/4 queue's tail passes 50 ms
// somewhere above 90% of it).
func TestSweepRate(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, 10*time.Millisecond)), refserver.Options{})
	obj := analyze.Objective{MaxErrorRate: 0.05, MaxLatencyRatio: 2, SLO: &analyze.SLO{Percentile: 99, MaxMs: 50}}
	f := sweep(t, r, protocol.KServeGRPC, SweepOptions{Mode: result.ModeRate, Objective: obj, Seed: 1, StartRate: 100, WindowRequests: 80})
	se := f.Searches[0]
	if se.SweetSpot == nil || se.SweetSpot.Rate < 250 || se.SweetSpot.Rate > 400 {
		t.Fatalf("highest rate meeting the objective: %+v, want 250..400/s", se.SweetSpot)
	}
	for _, r := range f.Runs[1:] {
		if r.Load.Mode != result.ModeRate || r.Load.Arrival != "poisson" || r.ServiceTimeMs == nil {
			t.Errorf("run %+v is not an open-loop Poisson level", r.Load)
		}
	}
}

package session

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// sweep runs a search against a target with small windows and returns
// the file, logging what it did.
func sweep(t *testing.T, r *refserver.Running, kind protocol.Kind, opts SweepOptions) *result.File {
	t.Helper()
	var log strings.Builder
	if opts.WindowRequests == 0 {
		opts.WindowRequests = 60
	}
	if opts.MaxWindows == 0 {
		opts.MaxWindows = 5
	}
	start := time.Now()
	f, err := runSweep(context.Background(), r, kind, opts, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("search took %v:\n%s", time.Since(start).Round(time.Millisecond), log.String())
	if os.Getenv("INFERBENCH_SWEEP_JSON") != "" {
		_ = result.Write(os.Getenv("INFERBENCH_SWEEP_JSON"), f)
	}
	return f
}

// TestSweepCeilings: a search over 4 instances of 10 ms completes with a
// sweet spot, and no level serves more than the emulator can: min(c, 4)
// requests per 10 ms (9 ms if a sleep ends early, the sleeper's
// compensation), a ceiling no machine load can break. Where the sweet spot
// falls is TestSweepFourInstances (timing tag).
func TestSweepCeilings(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, 10*time.Millisecond)), refserver.Options{})
	f := sweep(t, r, protocol.KServeGRPC, SweepOptions{Objective: analyze.DefaultObjective, MaxConcurrency: 16, WindowRequests: 40, MaxWindows: 3})
	se := f.Searches[0]
	if se.Status != result.SearchComplete || se.SweetSpot == nil || len(f.Runs) < 2 {
		t.Fatalf("search %+v", se)
	}
	for _, run := range f.Runs {
		if c := run.Load.Concurrency; run.ThroughputRPS > float64(min(c, 4))*1000/9 {
			t.Errorf("c=%d: %.1f req/s, above the emulator's ceiling of %d per 10 ms", c, run.ThroughputRPS, min(c, 4))
		}
	}
	if thr := se.SweetSpot.ThroughputRPS; thr <= 0 || thr > 4000.0/9 {
		t.Errorf("sweet spot throughput %.1f/s, want some and at most the ceiling of 400 (444 with early wake-ups)", thr)
	}
}

package run

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestSweepRecordsEveryLevel: a small, fast search (race-safe: it checks
// what is recorded, not the numbers). Every measured level is a run with
// its stability, in the order of the search's path; the file is saved
// after every level; the memory check warns before the levels it concerns;
// the search never goes above its maximum.
func TestSweepRecordsEveryLevel(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(2, 2*time.Millisecond)), refserver.Options{})
	f := result.New("test", time.Now())
	saves := 0
	var log strings.Builder
	err := Sweep(context.Background(), target(t, r, protocol.KServeGRPC), SweepOptions{
		Objective: analyze.Objective{MaxErrorRate: 0.05}, MaxConcurrency: 8, BaselineRequests: 20, WindowRequests: 20, MaxWindows: 3,
		MemoryPerRequest: 100e6, MemoryLimit: 500e6, File: f, Log: &log,
		Save: func(*result.File) error { saves++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	se := f.Searches[0]
	t.Logf("%s\n%+v", log.String(), se)
	if se.Status != result.SearchComplete || se.Baseline == nil || se.Deployment.Name != "d" || se.MaxConcurrency != 8 {
		t.Fatalf("search %+v", se)
	}
	if len(se.Path) != len(f.Runs) || saves != len(f.Runs)+1 {
		t.Errorf("%d runs, %d levels in the path, %d saves: want a level per run and a save after each, and one at the end", len(f.Runs), len(se.Path), saves)
	}
	for i, run := range f.Runs {
		if run.Stability == nil || run.Stability.Windows == 0 || run.Stability.WindowRequests < 20 || run.Stability.Note == "" {
			t.Errorf("run %d: stability %+v", i, run.Stability)
		}
		if run.Load.Concurrency != se.Path[i].Concurrency || run.Load.Concurrency > 8 {
			t.Errorf("run %d at c=%d, path says c=%d (maximum 8)", i, run.Load.Concurrency, se.Path[i].Concurrency)
		}
		if run.Warmup.Attempted == 0 {
			t.Errorf("run %d had no warmup", i)
		}
		memory := strings.Contains(strings.Join(run.Assessment.Notes, ";"), "pod may be OOM-killed")
		if memory != (run.Load.Concurrency > 5) {
			t.Errorf("run %d at c=%d: memory warning %v, want it above 5 in flight", i, run.Load.Concurrency, memory)
		}
	}
	if se.Path[0].Phase != "baseline" || se.Path[1].Phase != "rise" {
		t.Errorf("path %+v", se.Path)
	}
	if !strings.Contains(log.String(), "Warning before c=8: memory: 8 requests in flight x 100 MB per request = 800 MB") {
		t.Errorf("log lacks the memory warning:\n%s", log.String())
	}
}

// TestSweepBaselineFailsFast: a deployment that fails every request ends
// the search after the baseline's first window.
func TestSweepBaselineFailsFast(t *testing.T) {
	spec := small(refserver.NewInstances(2, 0))
	spec.ErrorRate = 1
	r := pod(t, spec, refserver.Options{})
	f := result.New("test", time.Now())
	err := Sweep(context.Background(), target(t, r, protocol.KServeHTTP), SweepOptions{Objective: analyze.DefaultObjective, BaselineRequests: 20, File: f})
	if err != nil {
		t.Fatal(err)
	}
	se := f.Searches[0]
	if se.Status != result.SearchBaselineFailed || len(f.Runs) != 1 || se.SweetSpot != nil || !strings.Contains(se.Reason, "does not work") {
		t.Errorf("search %+v after %d runs", se, len(f.Runs))
	}
	if st := f.Runs[0].Stability; st == nil || st.Windows != 0 && st.Windows != 1 {
		t.Errorf("baseline stability %+v: want at most one window", st)
	}
}

// TestSweepInterrupted: cancelling stops the search and keeps what it
// measured, marked interrupted.
func TestSweepInterrupted(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(2, 5*time.Millisecond)), refserver.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	f := result.New("test", time.Now())
	err := Sweep(ctx, target(t, r, protocol.KServeGRPC), SweepOptions{Objective: analyze.DefaultObjective, BaselineRequests: 20, WindowRequests: 100, Grace: 100 * time.Millisecond, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if se := f.Searches[0]; se.Status != result.SearchInterrupted {
		t.Errorf("search %+v", se)
	}
}

package session

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// runSweep searches deployment d of a reference server through a session.
func runSweep(ctx context.Context, r *refserver.Running, kind protocol.Kind, so SweepOptions, o Options) (*result.File, error) {
	p := &plan.Plan{Deployments: []plan.Deployment{deployment(r, kind)}}
	o.MustOpen = true
	return Run(ctx, p, Sweep{Options: so}, o)
}

// TestSweepRecordsEveryLevel: a small, fast search (race-safe: it checks
// what is recorded, not the numbers). Every measured level is a run with
// its stability, in the order of the search's path; the file is saved
// after every level; the memory check warns before the levels it concerns;
// the search never goes above its maximum.
func TestSweepRecordsEveryLevel(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(2, 2*time.Millisecond)), refserver.Options{})
	var log strings.Builder
	results := filepath.Join(t.TempDir(), "results.json")
	f, err := runSweep(context.Background(), r, protocol.KServeGRPC, SweepOptions{
		Objective: analyze.Objective{MaxErrorRate: 0.05}, MaxConcurrency: 8, BaselineRequests: 20, WindowRequests: 20, MaxWindows: 3,
		MemoryPerRequest: 100e6, MemoryLimit: 500e6,
	}, Options{Log: &log, ResultsPath: results})
	if err != nil {
		t.Fatal(err)
	}
	se := f.Searches[0]
	t.Logf("%s\n%+v", log.String(), se)
	if se.Status != result.SearchComplete || se.Baseline == nil || se.Deployment.Name != "d" || se.MaxConcurrency != 8 {
		t.Fatalf("search %+v", se)
	}
	saved, err := result.Read(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(se.Path) != len(f.Runs) || len(saved.Runs) != len(f.Runs) || len(saved.Searches[0].Path) != len(se.Path) {
		t.Errorf("%d runs, %d levels in the path, %d runs and %d levels saved: want a level per run, all saved", len(f.Runs), len(se.Path), len(saved.Runs), len(saved.Searches[0].Path))
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
// the search after the baseline's first window, and the session exits 1.
// (Here the target opened and then every request names a model the server
// does not have; a server that fails its first request is not searched at
// all: see TestSweepOfADeploymentThatFailsToOpen.)
func TestSweepBaselineFailsFast(t *testing.T) {
	s := failingSession(t, nil, Options{})
	f, err := s.run(context.Background(), Sweep{Options: SweepOptions{Objective: analyze.DefaultObjective, BaselineRequests: 20}})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("err = %v: want exit code 1, no deployment could be measured", err)
	}
	se := f.Searches[0]
	if se.Status != result.SearchBaselineFailed || len(f.Runs) != 1 || se.SweetSpot != nil || !strings.Contains(se.Reason, "does not work") {
		t.Errorf("search %+v after %d runs", se, len(f.Runs))
	}
	if st := f.Runs[0].Stability; st == nil || st.Windows != 0 && st.Windows != 1 {
		t.Errorf("baseline stability %+v: want at most one window", st)
	}
}

// TestSweepOfADeploymentThatFailsToOpen: a server that fails its first
// request ends a one-endpoint sweep before any load, exit code 1, naming
// the model and the server's answer; in a plan, the others go on and it is
// recorded as a search that failed.
func TestSweepOfADeploymentThatFailsToOpen(t *testing.T) {
	spec := small(refserver.NewInstances(2, 0))
	spec.ErrorRate = 1
	r := pod(t, spec, refserver.Options{})
	f, err := runSweep(context.Background(), r, protocol.KServeHTTP, SweepOptions{Objective: analyze.DefaultObjective, BaselineRequests: 20}, Options{})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || f != nil || !strings.Contains(err.Error(), `a first request to model "m"`) {
		t.Fatalf("file %v, err = %v: want exit code 1 naming the model before any load", f, err)
	}
	good := pod(t, small(refserver.NewInstances(2, time.Millisecond)), refserver.Options{})
	ok := deployment(good, protocol.KServeGRPC)
	ok.Name = "ok"
	p := &plan.Plan{Deployments: []plan.Deployment{deployment(r, protocol.KServeHTTP), ok}}
	f, err = Run(context.Background(), p, Sweep{Options: SweepOptions{MaxConcurrency: 2, BaselineRequests: 10, WindowRequests: 10, MaxWindows: 3}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Searches) != 2 || f.Searches[0].Status != result.SearchBaselineFailed || !strings.Contains(f.Searches[0].Reason, "failed its check") ||
		f.Searches[1].Status != result.SearchComplete {
		t.Errorf("searches %+v", f.Searches)
	}
}

// TestSweepInterrupted: cancelling stops the search and keeps what it
// measured, marked interrupted.
func TestSweepInterrupted(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(2, 5*time.Millisecond)), refserver.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	f, err := runSweep(ctx, r, protocol.KServeGRPC, SweepOptions{Objective: analyze.DefaultObjective, BaselineRequests: 20, WindowRequests: 100}, Options{Grace: 100 * time.Millisecond})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 130 || f == nil || f.Complete {
		t.Fatalf("err = %v: want exit code 130 and an incomplete file", err)
	}
	if se := f.Searches[0]; se.Status != result.SearchInterrupted {
		t.Errorf("search %+v", se)
	}
}

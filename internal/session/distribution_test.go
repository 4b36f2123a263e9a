package session

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestRunsKeepTheirDistribution: every run written to the result file
// keeps its histograms, whose percentiles are exactly the stored ones, the
// wall-clock bounds of its measured phase, and a timeline that adds up to
// its counts; in rate mode the service time's histogram too.
func TestRunsKeepTheirDistribution(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, time.Millisecond)), refserver.Options{})
	tg := target(t, r, protocol.KServeHTTP)
	steps := []plan.Step{{Name: "c=2", Concurrency: 2, Requests: 300}, {Name: "rate", Rate: 200, Duration: 1500 * time.Millisecond}}
	path := filepath.Join(t.TempDir(), "results.json")
	s, err := newSession(&plan.Plan{Deployments: []plan.Deployment{tg.Plan}, Steps: steps}, Options{ResultsPath: path})
	if err != nil {
		t.Fatal(err)
	}
	s.targets[tg.Plan.Name] = tg
	if _, err := s.run(context.Background(), Steps{Steps: steps}); err != nil {
		t.Fatal(err)
	}
	f, err := result.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Schema != result.SchemaV2 || len(f.Runs) != 2 {
		t.Fatalf("schema %s, %d runs", f.Schema, len(f.Runs))
	}
	for _, run := range f.Runs {
		if run.Histograms == nil || run.Started == nil || run.Ended == nil || len(run.Timeline) == 0 {
			t.Fatalf("%s: histograms %v, started %v, ended %v, %d intervals", run.Step, run.Histograms, run.Started, run.Ended, len(run.Timeline))
		}
		h, err := measure.DecodeHistogram(run.Histograms.Latency)
		if err != nil {
			t.Fatal(err)
		}
		if h.Summary() != run.LatencyMs || h.Count() != run.Counts.OK {
			t.Errorf("%s: the histogram says %+v (n=%d), the file %+v (ok %d)", run.Step, h.Summary(), h.Count(), run.LatencyMs, run.Counts.OK)
		}
		if d := run.Ended.Sub(*run.Started).Seconds() - run.ElapsedS; d < -0.001 || d > 0.001 {
			t.Errorf("%s: started %s ended %s, elapsed %g s", run.Step, run.Started, run.Ended, run.ElapsedS)
		}
		var sent, ok int64
		for _, iv := range run.Timeline {
			sent, ok = sent+iv.Sent, ok+iv.OK
		}
		if sent != run.Counts.Sent || ok != run.Counts.OK {
			t.Errorf("%s: timeline sent %d ok %d, counts %+v", run.Step, sent, ok, run.Counts)
		}
		if run.Load.Mode == result.ModeRate {
			svc, err := measure.DecodeHistogram(run.Histograms.ServiceTime)
			if err != nil || run.ServiceTimeMs == nil || svc.Summary() != *run.ServiceTimeMs {
				t.Errorf("%s: service time %v from the histogram (%v), %+v in the file", run.Step, svc, err, run.ServiceTimeMs)
			}
		}
	}
}

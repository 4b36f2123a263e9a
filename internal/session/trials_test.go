package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// TestTrialsInterleave: with repeat 3, each step runs 3 times against
// each deployment, the order rotating from trial to trial (and from step
// to step), every run numbered by its trial. The deployments were never
// opened, so each run is a failed one, recorded at once.
func TestTrialsInterleave(t *testing.T) {
	var deps []plan.Deployment
	for _, n := range []string{"A", "B", "C"} {
		deps = append(deps, plan.Deployment{Name: n, Protocol: "kserve-http", URL: "http://127.0.0.1:1", Model: "m"})
	}
	steps := []plan.Step{{Name: "one", Concurrency: 1, Requests: 5}, {Name: "two", Concurrency: 2, Requests: 5, Repeat: 2}}
	p := &plan.Plan{Deployments: deps, Steps: steps, Repeat: 3}
	var log strings.Builder
	s, err := newSession(p, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.run(context.Background(), Steps{Steps: steps})
	var got []string
	for _, r := range f.Runs {
		got = append(got, fmt.Sprintf("%s%s%d", r.Step[:1], r.Deployment.Name, r.Trial))
	}
	want := "oA1 oB1 oC1 oB2 oC2 oA2 oC3 oA3 oB3 tB1 tC1 tA1 tC2 tA2 tB2"
	if strings.Join(got, " ") != want {
		t.Errorf("order %s\n want %s", strings.Join(got, " "), want)
	}
	if !strings.Contains(log.String(), "Step one: c=1, 5 requests against 3 deployment(s), 3 trials each, interleaved") || !strings.Contains(log.String(), "A                trial 2/3 failed:") {
		t.Errorf("log:\n%s", &log)
	}
}

// TestTrialsResume: a resumed session skips the trials already done.
func TestTrialsResume(t *testing.T) {
	deps := []plan.Deployment{{Name: "A", Protocol: "kserve-http", URL: "http://127.0.0.1:1", Model: "m"}}
	steps := []plan.Step{{Name: "one", Concurrency: 1, Requests: 5}}
	path := t.TempDir() + "/r.json"
	prev := result.New("test", time.Now())
	prev.Runs = append(prev.Runs, result.Run{Step: "one", Trial: 1, Deployment: result.Deployment{Name: "A"}, Status: result.StatusOK, Counts: result.Counts{Sent: 1, OK: 1}})
	if err := result.Write(path, prev); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	s, err := newSession(&plan.Plan{Deployments: deps, Steps: steps, Repeat: 2}, Options{Log: &log, ResultsPath: path, Resume: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.run(context.Background(), Steps{Steps: steps})
	if len(f.Runs) != 2 || f.Runs[1].Trial != 2 || !strings.Contains(log.String(), "A trial 1/2: done in an earlier run, skipped") {
		t.Errorf("runs %+v\nlog:\n%s", f.Runs, &log)
	}
}

// TestThresholdsExit: a failed threshold is exit code 3, naming it.
func TestThresholdsExit(t *testing.T) {
	f := &result.File{Runs: []result.Run{{Step: "s", Deployment: result.Deployment{Name: "d"}, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1},
		Status: result.StatusOK, Counts: result.Counts{Sent: 10, OK: 10}, ErrorRate: 0}},
		Thresholds: []result.Threshold{{Expr: "errors < 1%"}, {Expr: "throughput > 500/s"}}}
	err := ThresholdsExit(analyze.Judged(f))
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || !strings.Contains(err.Error(), "1 threshold failed:\n  FAIL throughput > 500/s: d c=1 (step s): throughput 0.0 req/s (limit > 500 req/s): fails") {
		t.Errorf("err = %v", err)
	}
	f.Thresholds = f.Thresholds[:1]
	if err := ThresholdsExit(analyze.Judged(f)); err != nil {
		t.Errorf("all passed: %v", err)
	}
}

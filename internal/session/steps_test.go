package session

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestStepsGoOnAfterAFailedLevel: a deployment that opened and then fails
// every request fails each level (its warmup fails), the steps go on, and
// the session exits 1 with every run in the file.
func TestStepsGoOnAfterAFailedLevel(t *testing.T) {
	steps := []plan.Step{{Name: "c=1", Concurrency: 1, Requests: 20}, {Name: "c=2", Concurrency: 2, Requests: 20}}
	var log strings.Builder
	s := failingSession(t, steps, Options{Log: &log})
	f, err := s.run(context.Background(), Steps{Steps: steps})
	if len(f.Runs) != 2 || f.Runs[0].Status != result.StatusFailed || f.Runs[1].Status != result.StatusFailed {
		t.Fatalf("runs %+v: want two failed levels", f.Runs)
	}
	if !strings.Contains(f.Runs[0].Failure, "warmup failed: 0/5") || !strings.Contains(log.String(), "Step c=2") || f.Runs[1].Step != "c=2" {
		t.Errorf("failure %q; log:\n%s", f.Runs[0].Failure, &log)
	}
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "no level could be measured") {
		t.Errorf("err = %v, want exit code 1", err)
	}
}

// failingSession is a session whose one deployment opened and then fails
// every request: its payload names a model the server does not have.
func failingSession(t *testing.T, steps []plan.Step, o Options) *Session {
	t.Helper()
	r := pod(t, small(refserver.NewInstances(4, 0)), refserver.Options{})
	tg := target(t, r, protocol.KServeHTTP)
	p, err := tg.Client.Prepare("missing", "", &kserve.InferRequest{Inputs: tg.Samples[0]})
	if err != nil {
		t.Fatal(err)
	}
	tg.Payloads = []protocol.Payload{p}
	s, err := newSession(&plan.Plan{Deployments: []plan.Deployment{tg.Plan}, Steps: steps}, o)
	if err != nil {
		t.Fatal(err)
	}
	s.targets[tg.Plan.Name] = tg
	return s
}

// TestStepsUnmeasured: a session measured something only when a run got
// at least one right answer.
func TestStepsUnmeasured(t *testing.T) {
	ok := result.Run{Status: result.StatusOK, Counts: result.Counts{Sent: 10, OK: 3, Errors: 7}}
	none := result.Run{Status: result.StatusOK, Counts: result.Counts{Sent: 10, Errors: 10}}
	failed := result.Run{Status: result.StatusFailed}
	cut := result.Run{Status: result.StatusInterrupted, Counts: result.Counts{Sent: 4, OK: 4}}
	for _, tt := range []struct {
		name       string
		runs       []result.Run
		unmeasured bool
	}{
		{"no runs", nil, true},
		{"all failed", []result.Run{failed, failed}, true},
		{"every answer an error", []result.Run{failed, none}, true},
		{"one answer right", []result.Run{failed, none, ok}, false},
		{"interrupted with answers", []result.Run{cut}, false},
	} {
		if got := (Steps{}).Unmeasured(&result.File{Runs: tt.runs}); (got != "") != tt.unmeasured {
			t.Errorf("%s: Unmeasured = %q, want unmeasured %v", tt.name, got, tt.unmeasured)
		}
	}
}

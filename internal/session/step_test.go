package session

import (
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

func TestAssessComparesWithEachDeploymentsFirstMeasuredRun(t *testing.T) {
	a := result.Deployment{Name: "a"}
	b := result.Deployment{Name: "b"}
	runs := []result.Run{
		{Deployment: a, Status: result.StatusFailed},
		{Deployment: a, Status: result.StatusOK, Counts: result.Counts{OK: 10}, LatencyMs: measure.Latency{P50: 5, P99: 10}},
		{Deployment: b, Status: result.StatusOK, Counts: result.Counts{OK: 10}, LatencyMs: measure.Latency{P50: 20, P99: 40}},
		{Deployment: a, Status: result.StatusOK, Counts: result.Counts{OK: 10}, LatencyMs: measure.Latency{P50: 10, P99: 35}},
		{Deployment: b, Status: result.StatusInterrupted, Counts: result.Counts{OK: 3}, LatencyMs: measure.Latency{P50: 30, P99: 60}},
	}
	Assess(runs)
	want := [][2]float64{{0, 0}, {1, 1}, {1, 1}, {2, 3.5}, {1.5, 1.5}}
	for i, w := range want {
		got := [2]float64{runs[i].Assessment.LatencyVsBaselineP50, runs[i].Assessment.LatencyVsBaselineP99}
		if got != w {
			t.Errorf("run %d: ratios %v, want %v", i, got, w)
		}
	}
}

func TestFromEngine(t *testing.T) {
	lat := measure.NewHistogram()
	lat.Record(5 * time.Millisecond)
	tests := []struct {
		name       string
		res        load.Result
		conc       int
		wantStatus string
		wantBand   string
		wantNote   string
	}{
		{"clean", load.Result{Sent: 100, OK: 100, Elapsed: time.Second, Latency: lat, CPU: 250 * time.Millisecond}, 8, result.StatusOK, "excellent", ""},
		{"errors", load.Result{Sent: 100, OK: 70, Errors: 30, Elapsed: time.Second, Latency: lat}, 8, result.StatusOK, "poor", "reduce concurrency"},
		{"warmup failed", load.Result{Failed: true, Failure: "warmup failed: 0/5", Latency: measure.NewHistogram()}, 8, result.StatusFailed, "", ""},
		{"interrupted", load.Result{Sent: 10, OK: 10, Elapsed: time.Second, Latency: lat, Interrupted: true}, 8, result.StatusInterrupted, "excellent", "interrupted"},
		{"stress level", load.Result{Sent: 10, OK: 10, Elapsed: time.Second, Latency: lat}, 80, result.StatusOK, "excellent", "breaking-point"},
	}
	for _, tt := range tests {
		run := fromEngine(result.Run{Load: result.Load{Concurrency: tt.conc}, Assessment: result.Assessment{Notes: []string{}}}, &tt.res)
		if run.Status != tt.wantStatus || run.Assessment.ErrorBand != tt.wantBand {
			t.Errorf("%s: status %q band %q, want %q %q", tt.name, run.Status, run.Assessment.ErrorBand, tt.wantStatus, tt.wantBand)
		}
		notes := strings.Join(run.Assessment.Notes, "; ")
		if (tt.wantNote == "") != (notes == "") || !strings.Contains(notes, tt.wantNote) {
			t.Errorf("%s: notes %q, want %q", tt.name, notes, tt.wantNote)
		}
	}
	run := fromEngine(result.Run{}, &tests[0].res)
	if run.ThroughputRPS != 100 || run.ErrorRate != 0 || run.Client.CPUPercent != 25 || run.LatencyMs.P50 < 5 || run.LatencyMs.P50 > 5.01 || run.ElapsedS != 1 {
		t.Errorf("numbers %+v", run)
	}
}

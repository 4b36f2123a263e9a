package session

import (
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// TestFromEngine: a run records what the engine measured, and its status;
// its judgement is analyze's (judge_test.go there).
func TestFromEngine(t *testing.T) {
	lat := measure.NewHistogram()
	lat.Record(5 * time.Millisecond)
	tests := []struct {
		name       string
		res        load.Result
		conc       int
		wantStatus string
	}{
		{"clean", load.Result{Sent: 100, OK: 100, Elapsed: time.Second, Latency: lat, CPU: 250 * time.Millisecond, CPUMeasured: true}, 8, result.StatusOK},
		{"errors", load.Result{Sent: 100, OK: 70, Errors: 30, Elapsed: time.Second, Latency: lat}, 8, result.StatusOK},
		{"warmup failed", load.Result{Failed: true, Failure: "warmup failed: 0/5", Latency: measure.NewHistogram()}, 8, result.StatusFailed},
		{"interrupted", load.Result{Sent: 10, OK: 10, Elapsed: time.Second, Latency: lat, Interrupted: true}, 8, result.StatusInterrupted},
	}
	for _, tt := range tests {
		run := fromEngine(result.Run{Load: result.Load{Concurrency: tt.conc}}, &tt.res)
		if run.Status != tt.wantStatus || run.Assessment.ErrorBand != "" || len(run.Assessment.Notes) != 0 {
			t.Errorf("%s: status %q, assessment %+v: want %q and no judgement", tt.name, run.Status, run.Assessment, tt.wantStatus)
		}
	}
	noCPU := tests[0].res
	noCPU.CPUMeasured = false
	if run := fromEngine(result.Run{}, &noCPU); run.Client.CPUPercent != 0 || run.Facts == nil || run.Facts.Notes[0] != cpuNotMeasured {
		t.Errorf("CPU not measured: cpu %.1f%%, facts %+v", run.Client.CPUPercent, run.Facts)
	}
	run := fromEngine(result.Run{}, &tests[0].res)
	if run.ThroughputRPS != 100 || run.ErrorRate != 0 || run.Client.CPUPercent != 25 || run.LatencyMs.P50 < 5 || run.LatencyMs.P50 > 5.01 || run.ElapsedS != 1 {
		t.Errorf("numbers %+v", run)
	}
}

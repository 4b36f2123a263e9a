package analyze

import (
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

func runAt(c int, rps, errRate float64, status string) result.Run {
	return result.Run{
		Deployment: result.Deployment{Name: "d"}, Load: result.Load{Concurrency: c}, Status: status,
		Counts: result.Counts{Sent: 100, OK: int64(100 * (1 - errRate))}, ThroughputRPS: rps, ErrorRate: errRate,
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name     string
		runs     []result.Run
		complete bool
		want     []string
	}{
		{"nothing", nil, true, []string{"Nothing was measured"}},
		{"one level", []result.Run{runAt(8, 1500, 0.01, result.StatusOK)}, true, []string{"OK, d at concurrency 8: 1500.0 req/s", "1.0% errors (excellent)"}},
		{"best is not the busiest", []result.Run{runAt(8, 1500, 0, result.StatusOK), runAt(16, 1700, 0.3, result.StatusOK), runAt(4, 900, 0, result.StatusOK)}, true, []string{"best of 3 levels: d at concurrency 8"}},
		{"all poor", []result.Run{runAt(8, 1500, 0.3, result.StatusOK)}, true, []string{"POOR", "30.0%"}},
		{"all failed", []result.Run{{Status: result.StatusFailed, Failure: "warmup failed: 0/10"}}, true, []string{"FAIL", "warmup failed"}},
		{"some failed", []result.Run{runAt(1, 100, 0, result.StatusOK), {Status: result.StatusFailed}}, true, []string{"OK", "1 of 2 levels failed"}},
		{"interrupted", []result.Run{runAt(1, 100, 0, result.StatusInterrupted)}, false, []string{"INTERRUPTED", "OK"}},
		{"a rate", []result.Run{atRate(runAt(0, 299.5, 0, result.StatusOK), 300)}, true, []string{"OK, d at 300 req/s offered: 299.5 req/s"}},
	}
	for _, tt := range tests {
		got := Verdict(&result.File{Runs: tt.runs, Complete: tt.complete})
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: verdict %q lacks %q", tt.name, got, w)
			}
		}
	}
}

func atRate(r result.Run, rate float64) result.Run {
	r.Load = result.Load{Mode: result.ModeRate, Rate: rate}
	return r
}

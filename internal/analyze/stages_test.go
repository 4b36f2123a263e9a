package analyze

import (
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

// TestStagedRunsAreNotLevels: a closed-loop run in stages is neither a
// baseline (while its deployment has another run) nor a point of the
// concurrency curve, nor checked as a field-guide level.
func TestStagedRunsAreNotLevels(t *testing.T) {
	dep := result.Deployment{Name: "a", URL: "u", Protocol: "p"}
	staged := result.Run{Deployment: dep, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 8,
		Stages: []result.Stage{{DurationS: 10, Target: 8, Ramp: true}}}, Counts: result.Counts{Sent: 10, OK: 10}}
	level := result.Run{Deployment: dep, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1}, Counts: result.Counts{Sent: 10, OK: 10}}
	runs := []result.Run{staged, level}
	if b := baselines(runs); b[0] != 1 || b[1] != 1 {
		t.Errorf("baselines %v, want [1 1]", b)
	}
	if b := baselines(runs[:1]); b[0] != 0 {
		t.Errorf("alone, the staged run's baseline is %d, want itself", b[0])
	}
	if pts := Points(runs, "a"); len(pts) != 1 || pts[0].Concurrency != 1 {
		t.Errorf("points %+v, want c=1 only", pts)
	}
	if note := CheckNote(&staged, 1.2); note != "" {
		t.Errorf("a staged run is checked as a level: %q", note)
	}
}

//go:build !race

// The sweep against the field-guide preset: under the race detector the
// client, not the emulated deployments, would set the pace (and the
// search would take minutes), so it runs in the test script's
// uninstrumented pass.

package cli

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestSweepFieldGuidePreset: the four deployments of the field guide,
// searched with the default objective (errors under 5%, p50 under
// twice the baseline) and small windows (30 requests, at most 4 a level):
// each search completes with a sweet spot, nothing goes above 64, every
// level carries its stability and is saved. Where the sweet spots fall is
// TestSweepFieldGuideOrder (timing tag).
func TestSweepFieldGuidePreset(t *testing.T) {
	presetSweep(t)
}

// presetSweep searches the field-guide preset, checks what the search
// recorded and returns each deployment's sweet spot.
func presetSweep(t *testing.T) map[string]int {
	t.Helper()
	start := time.Now()
	results := filepath.Join(t.TempDir(), "sweep.json")
	f, log := sweepJSON(t, "--preset", "field-guide", "-n", "30", "--window-requests", "30", "--max-windows", "4", "--results", results)
	t.Logf("took %v\n%s", time.Since(start).Round(time.Millisecond), log)
	saved, err := result.Read(results)
	if err != nil || len(saved.Searches) != 4 || len(saved.Runs) != len(f.Runs) {
		t.Fatalf("results file: %v", err)
	}
	spot := map[string]int{}
	for i, name := range []string{refserver.PodBaseYOLO, refserver.PodNIMBinary, refserver.PodNIMGRPC, refserver.PodNIMBatching} {
		se := f.Searches[i]
		if se.Deployment.Name != name || se.Status != result.SearchComplete || se.SweetSpot == nil || se.MaxConcurrency != 64 {
			t.Fatalf("search %d: %+v", i, se)
		}
		spot[name] = se.SweetSpot.Concurrency
		t.Logf("%-13s sweet spot c=%d (%.0f/s), max useful c=%d, recommended %v, breaking %+v", name, se.SweetSpot.Concurrency,
			se.SweetSpot.ThroughputRPS, se.MaxUsefulConcurrency, se.RecommendedRange, se.BreakingPoint)
	}
	perDeployment := map[string]int{}
	for _, r := range f.Runs {
		perDeployment[r.Deployment.Name]++
		if r.Load.Concurrency > 64 || r.Stability == nil || r.Stability.Windows == 0 {
			t.Errorf("%s c=%d: stability %+v (and never above 64)", r.Deployment.Name, r.Load.Concurrency, r.Stability)
		}
	}
	for _, se := range f.Searches {
		if len(se.Path) != perDeployment[se.Deployment.Name] {
			t.Errorf("%s: %d levels in the path, %d runs", se.Deployment.Name, len(se.Path), perDeployment[se.Deployment.Name])
		}
	}
	if f.Searches[0].Deployment.Protocol != "http-json" {
		t.Errorf("base-yolo searched over %s, want its plain HTTP API (http-json)", f.Searches[0].Deployment.Protocol)
	}
	return spot
}

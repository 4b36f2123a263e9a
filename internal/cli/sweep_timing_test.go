//go:build !race

// The sweep's acceptance test against the field-guide preset: timing
// sensitive, so it runs in the test script's uninstrumented pass.

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
// twice the baseline) and small windows (30 requests, at most 4 a level).
// base-yolo's sweet spot is at low concurrency, nim-batching's the
// highest, the NIMs' between, as the guide's recommendations are ordered
// (base-yolo 4-8 < NIMs 8-16 < batching 16-32); nothing goes above 64, and
// every level carries its stability.
func TestSweepFieldGuidePreset(t *testing.T) {
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
	base, bin, grpc, batch := spot[refserver.PodBaseYOLO], spot[refserver.PodNIMBinary], spot[refserver.PodNIMGRPC], spot[refserver.PodNIMBatching]
	if base > 4 || base >= min(bin, grpc) || max(bin, grpc) >= batch {
		t.Errorf("sweet spots base-yolo c=%d, nim-binary c=%d, nim-grpc c=%d, nim-batching c=%d: want base-yolo low, then the NIMs, nim-batching highest", base, bin, grpc, batch)
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
}

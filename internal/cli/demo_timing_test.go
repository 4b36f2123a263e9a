//go:build timing && !race

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// the demo's conclusions come from figures measured on this machine, and a
// busy machine can upset comparisons between deployments. The default run
// holds TestDemoWritesItsResults.

package cli

import (
	"testing"

	"github.com/inferbench/inferbench/internal/analyze"
)

// TestDemoConclusionsMatchTheEmulators: nim-batching has the highest
// throughput at concurrency 16 and above, and the recommended ranges are
// ordered as in the field guide's table.
func TestDemoConclusionsMatchTheEmulators(t *testing.T) {
	f := demoResults(t)
	// nim-batching has the highest throughput at concurrency 16 and above.
	best := map[int]string{}
	thr := map[int]float64{}
	for _, r := range f.Runs {
		if c := r.Load.Concurrency; c >= 16 && r.ThroughputRPS > thr[c] && r.ErrorRate <= 0.10 {
			thr[c], best[c] = r.ThroughputRPS, r.Deployment.Name
		}
	}
	for c, name := range best {
		if name != "nim-batching" {
			t.Errorf("at c=%d the highest throughput is %s's", c, name)
		}
	}
	// The recommended ranges are ordered as in the guide's table:
	// base-yolo below the single-instance NIMs, nim-batching above them.
	ranges := map[string]analyze.OperatingRange{}
	for _, d := range analyze.Deployments(f.Runs) {
		ranges[d] = analyze.Operating(d, analyze.Points(f.Runs, d))
		t.Logf("%s: recommended c=%d-%d, max useful c=%d, best %.1f req/s at c=%d", d, ranges[d].RecommendedLow, ranges[d].RecommendedHigh, ranges[d].MaxUseful, ranges[d].Best.Throughput, ranges[d].Best.Concurrency)
	}
	batching := ranges["nim-batching"]
	for _, nim := range []string{"nim-binary", "nim-grpc"} {
		r := ranges[nim]
		if r.RecommendedHigh == 0 || r.RecommendedHigh > batching.RecommendedHigh || r.RecommendedLow > batching.RecommendedLow || r.Best.Throughput >= batching.Best.Throughput {
			t.Errorf("%s recommended %d-%d (best %.0f/s) is not below nim-batching's %d-%d (best %.0f/s)", nim, r.RecommendedLow, r.RecommendedHigh, r.Best.Throughput, batching.RecommendedLow, batching.RecommendedHigh, batching.Best.Throughput)
		}
		if y, ok := ranges["base-yolo"]; ok && (y.RecommendedHigh > r.RecommendedHigh || y.Best.Throughput >= r.Best.Throughput) {
			t.Errorf("base-yolo recommended %d-%d (best %.0f/s) is not below %s's %d-%d", y.RecommendedLow, y.RecommendedHigh, y.Best.Throughput, nim, r.RecommendedLow, r.RecommendedHigh)
		}
	}
}

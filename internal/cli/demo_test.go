//go:build !race

// The demo's acceptance: a timing test, so it runs in the test script's
// uninstrumented pass.

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

func TestDemoConclusionsMatchTheEmulators(t *testing.T) {
	out := t.TempDir()
	stdout, log, err := runCLI(context.Background(), "demo", "-o", out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, log)
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Complete || f.Plan == nil || f.Environment == nil {
		t.Errorf("results: complete %v", f.Complete)
	}
	// The printed plan runs as it is (against the endpoints it names).
	planText, err := os.ReadFile(filepath.Join(out, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Parse("plan.yaml", planText, nil); err != nil {
		t.Errorf("the demo's plan.yaml does not load: %v\n%s", err, planText)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("report.html: %v", err)
	}
	if !strings.HasPrefix(strings.TrimSpace(stdout), "OK") || !strings.Contains(stdout, "nim-batching") {
		t.Errorf("stdout does not open with the verdict:\n%s", stdout)
	}
	for _, r := range f.Runs {
		if r.Status != result.StatusOK && !(r.Deployment.Name == "base-yolo" && r.Load.Concurrency > 16) {
			t.Errorf("%s %s: %s %s", r.Deployment.Name, r.Step, r.Status, r.Failure)
		}
		if r.Deployment.Name != "base-yolo" && r.Server == nil {
			t.Errorf("%s %s: no server breakdown", r.Deployment.Name, r.Step)
		}
	}

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

//go:build !race

// The demo's acceptance: under the race detector the demo's client, not
// the emulated deployments, would set the pace (and it would take
// minutes), so it runs in the test script's uninstrumented pass. It checks
// what the demo writes, not its timing: the conclusions drawn from the
// measured figures are TestDemoConclusionsMatchTheEmulators (timing tag).

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// TestDemoWritesItsResults: the demo writes a complete results file, a
// plan that loads, the HTML report, and a verdict first on stdout; every
// run is measured (base-yolo may fail above 16), with the server's
// breakdown where the deployment has metrics.
func TestDemoWritesItsResults(t *testing.T) {
	demoResults(t)
}

// demoResults runs the demo into a temporary folder, checks what it wrote and
// returns the results.
func demoResults(t *testing.T) *result.File {
	t.Helper()
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

	return f
}

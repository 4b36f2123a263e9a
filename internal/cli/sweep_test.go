package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

func TestSweepRefusesBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--max-concurrency", "128"}, "pass --force"},
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--mode", "fast"}, "--mode"},
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--slo", "p99=5ms"}, "--slo"},
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--max-windows", "2"}, "--max-windows"},
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--memory-per-request", "lots"}, "--memory-per-request"},
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--max-error-rate", "1.5"}, "--max-error-rate"},
		{[]string{"--url", "http://127.0.0.1:1", "--model", "m", "--format", "xml"}, "--format"},
		{[]string{}, "give one endpoint"},
		{[]string{"plan.yaml", "--url", "http://127.0.0.1:1", "--model", "m"}, "give one endpoint"},
		{[]string{"--preset", "nope"}, "unknown preset"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"sweep"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sweep %v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

// sweepJSON runs sweep with --format json and decodes the result.
func sweepJSON(t *testing.T, args ...string) (*result.File, string) {
	t.Helper()
	out, log, err := runCLI(context.Background(), append([]string{"sweep", "--format", "json"}, args...)...)
	if err != nil {
		t.Fatalf("sweep: %v\n%s", err, log)
	}
	var f result.File
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("output is not a result file (%v): %s\nlog: %s", err, out, log)
	}
	return &f, log
}

// TestSweepForceAboveTheGuidesLimit: --force lets the maximum pass 64 and
// prints the guide's warning; the search stays at or below the maximum,
// and every level carries its stability.
func TestSweepForceAboveTheGuidesLimit(t *testing.T) {
	r := refServer(t, refserver.NewInstances(2, time.Millisecond), 0)
	f, log := sweepJSON(t, "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc", "--model", "m",
		"--max-concurrency", "65", "--force", "-n", "20", "--window-requests", "20", "--max-windows", "3", "--max-error-rate", "0.2", "--max-latency-ratio", "0")
	if !strings.Contains(log, "Warning: --force: levels up to 65") || !strings.Contains(log, "avoid concurrency above 64") {
		t.Errorf("no warning for --force:\n%s", log)
	}
	if len(f.Searches) != 1 || f.Searches[0].MaxConcurrency != 65 || f.Searches[0].Status != result.SearchComplete || !f.Complete {
		t.Fatalf("searches %+v", f.Searches)
	}
	for _, run := range f.Runs {
		if run.Load.Concurrency > 65 || run.Stability == nil {
			t.Errorf("run at c=%d, stability %+v", run.Load.Concurrency, run.Stability)
		}
	}
}

// TestSweepPlan: a plan's deployments are searched one after the other;
// one that fails its check is reported as such and the others go on.
func TestSweepPlan(t *testing.T) {
	r := refServer(t, refserver.NewInstances(2, time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: up, protocol: kserve-http, url: %q, model: m}
  - {name: gone, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
sequence: recommended
`, urlFor(r, protocol.KServeHTTP)))
	f, log := sweepJSON(t, planPath, "-n", "20", "--window-requests", "20", "--max-windows", "3", "--max-concurrency", "8", "--max-latency-ratio", "0", "--max-error-rate", "0.2")
	if len(f.Searches) != 2 || f.Plan == nil || !strings.Contains(f.Plan.Text, "sequence: recommended") {
		t.Fatalf("searches %+v, plan %+v", f.Searches, f.Plan)
	}
	up, gone := f.Searches[0], f.Searches[1]
	if up.Deployment.Name != "up" || up.Status != result.SearchComplete || up.SweetSpot == nil {
		t.Errorf("up: %+v", up)
	}
	if gone.Status != result.SearchBaselineFailed || !strings.Contains(gone.Reason, "failed its check") || !strings.Contains(log, "FAILED: the server at http://127.0.0.1:1 cannot be reached") {
		t.Errorf("gone: %+v\n%s", gone, log)
	}
}

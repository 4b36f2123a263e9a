//go:build timing

// Timing acceptance of repeated trials (bench/acceptance.sh, on a quiet
// machine): whether two deployments differ depends on the machine's
// noise, so these are not in the default suite; the decision logic is,
// on synthetic trials (analyze.TestRankOnlySignificant).

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// runTwo runs a plan of two deployments, a and b, with service times sa
// and sb, at c=1 with 5 trials, and returns the text report.
func runTwo(t *testing.T, sa, sb time.Duration) string {
	t.Helper()
	a := refServer(t, refserver.NewInstances(1, sa), 0)
	b := refServer(t, refserver.NewInstances(1, sb), 0)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.yaml")
	text := fmt.Sprintf(`deployments:
  - {name: a, protocol: kserve-http, url: %s, model: m}
  - {name: b, protocol: kserve-http, url: %s, model: m}
repeat: 5
steps:
  - {name: c1, concurrency: 1, requests: 200}
`, urlFor(a, protocol.KServeHTTP), urlFor(b, protocol.KServeHTTP))
	if err := os.WriteFile(plan, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(context.Background(), "run", plan, "-o", filepath.Join(dir, "out"), "-q")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out[:strings.Index(out, "\nComparison")])
	return out
}

// TestTrialsSameDeployments: the same emulator twice is no significant
// difference.
func TestTrialsSameDeployments(t *testing.T) {
	out := runTwo(t, 10*time.Millisecond, 10*time.Millisecond)
	verdict := out[:strings.Index(out, "\n")]
	if strings.Count(verdict, "no significant difference between") != 2 {
		t.Errorf("verdict: %s", verdict)
	}
}

// TestTrialsTenVersusTwelve: 10 ms against 12 ms at c=1: the first is
// faster, and the interval of the throughput ratio holds the true 1.2.
func TestTrialsTenVersusTwelve(t *testing.T) {
	out := runTwo(t, 10*time.Millisecond, 12*time.Millisecond)
	verdict := out[:strings.Index(out, "\n")]
	i := strings.Index(verdict, "highest throughput")
	if i < 0 {
		t.Fatalf("verdict: %s", verdict)
	}
	thr := verdict[i:]
	var x, lo, hi float64
	j := strings.Index(thr, "a: ")
	k := strings.Index(thr, "x b's (95% CI ")
	if j < 0 || k < 0 {
		t.Fatalf("throughput verdict: %s", thr)
	}
	fmt.Sscanf(thr[k-4:], "%fx b's (95%% CI %f-%f)", &x, &lo, &hi)
	if !(lo > 1 && lo <= 1.2 && 1.2 <= hi) {
		t.Errorf("ratio %.2f (%.2f-%.2f), want an interval above 1 holding 1.2: %s", x, lo, hi, thr)
	}
}

package cli

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestBenchThresholds: against a 5 ms emulator, 'p99 < 1ms' cannot pass
// (the 5 ms is a floor no machine makes shorter) and 'p99 < 1s' cannot
// fail (at c=2 the p99 stays far under it on any machine): exit code 3
// with the threshold, the value and the run named, every file written;
// and exit code 0.
func TestBenchThresholds(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, 5*time.Millisecond), 0)
	dir := t.TempDir()
	results, md := filepath.Join(dir, "r.json"), filepath.Join(dir, "report.md")
	args := []string{"bench", "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-c", "2", "-n", "40", "-q"}
	out, _, err := runCLI(context.Background(), append(args, "--threshold", "p99 < 1ms", "--threshold", "errors < 50%", "--results", results, "--format", "md", "-o", md)...)
	if exitCode(err) != 3 || !strings.Contains(err.Error(), "1 threshold failed:\n  FAIL p99 < 1ms: m c=1") && !strings.Contains(err.Error(), "FAIL p99 < 1ms: ") {
		t.Fatalf("err = %v (exit %d), want exit code 3 naming the threshold", err, exitCode(err))
	}
	if !strings.Contains(err.Error(), "(limit < 1 ms): fails") || !strings.Contains(err.Error(), " c=2: p99 ") {
		t.Errorf("err = %v: want the run (c=2), the value and the limit", err)
	}
	report, rerr := os.ReadFile(md)
	if rerr != nil || !strings.Contains(string(report), "### Thresholds: 1 of 2 FAILED (exit code 3)") || !strings.Contains(string(report), "- **FAIL** p99 < 1ms: ") {
		t.Errorf("report (%v):\n%s", rerr, report)
	}
	f, rerr := result.Read(results)
	if rerr != nil || len(f.Thresholds) != 2 || len(f.Thresholds[0].Results) != 1 || f.Thresholds[0].Results[0].Pass || f.Thresholds[0].Results[0].Value < 4 || !f.Complete {
		t.Errorf("result file (%v): %+v", rerr, f)
	}
	_ = out
	out, _, err = runCLI(context.Background(), append(args, "--threshold", "p99 < 1s", "--threshold", "valid")...)
	if err != nil || !strings.Contains(out, "Thresholds: all 2 passed") || !strings.Contains(out, "pass p99 < 1s: ") {
		t.Errorf("p99 < 1s: err = %v\n%s", err, out)
	}
}

// TestBadThresholdsRefused: a threshold that does not parse is refused
// with its column and exit code 2 before anything is sent (the URL has
// nothing listening: contacting it would be exit code 1).
func TestBadThresholdsRefused(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"p99 <", "--threshold: threshold 'p99 <': want a value after '<' at column 6"},
		{"p101 < 5ms", "--threshold: threshold 'p101 < 5ms': percentile 101 is not between 0 and 100 at column 2"},
		{"errors < 150%", "--threshold: threshold 'errors < 150%': 150% is above 100% at column 10"},
		{"speed > 5/s", `--threshold: threshold 'speed > 5/s': unknown metric "speed"`},
	} {
		_, _, err := runCLI(context.Background(), "bench", "--url", "http://127.0.0.1:1", "--model", "m", "-q", "--threshold", c.expr)
		if exitCode(err) != 2 || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: err = %v (exit %d), want exit code 2: %s", c.expr, err, exitCode(err), c.want)
		}
	}
	plan := filepath.Join(t.TempDir(), "plan.yaml")
	os.WriteFile(plan, []byte(`deployments:
  - {name: a, protocol: kserve-http, url: http://127.0.0.1:1, model: m}
steps:
  - {name: s, concurrency: 1, requests: 5}
thresholds:
  - expr: "p99 < 5 parsecs"
`), 0o644)
	_, _, err := runCLI(context.Background(), "run", plan, "-o", t.TempDir(), "-q")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "plan.yaml:6:20: threshold 'p99 < 5 parsecs': unexpected \"parsecs\" after the value at column 9") {
		t.Errorf("plan: err = %v (exit %d)", err, exitCode(err))
	}
	_, _, err = runCLI(context.Background(), "run", plan, "-o", t.TempDir(), "-q", "--repeat", "0")
	if exitCode(err) != 2 {
		t.Errorf("--repeat 0: err = %v", err)
	}
}

// TestBenchRepeat: --repeat 3 runs the level 3 times, each kept with its
// trial; the text report has one row for them with their median and
// interval.
func TestBenchRepeat(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, time.Millisecond), 0)
	results := filepath.Join(t.TempDir(), "r.json")
	out, _, err := runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-c", "1", "-n", "20", "-q", "--repeat", "3", "--results", results)
	if err != nil {
		t.Fatal(err)
	}
	f, err := result.Read(results)
	if err != nil || len(f.Runs) != 3 || f.Runs[0].Trial != 1 || f.Runs[2].Trial != 3 {
		t.Fatalf("runs (%v): %+v", err, f)
	}
	if !strings.Contains(out, "TRIALS") || !strings.Contains(out, "[t over 3 trials]") {
		t.Errorf("report:\n%s", out)
	}
}

// TestCompareCommand: two files of the same plan compare step by step;
// no runs in common is exit code 2; a gate that a change fails is exit
// code 3; JUnit is well-formed XML with a test case per step.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	v1 := filepath.Join("..", "report", "testdata", "v1-demo.json")
	out, _, err := runCLI(context.Background(), "compare", v1, v1)
	if err != nil || !strings.Contains(out, "0 regressions") || !strings.Contains(out, "No intervals for ") || !strings.Contains(out, "throughput") {
		t.Errorf("v1 with itself: %v\n%s", err, out)
	}
	other := &result.File{Schema: result.Schema, Runs: []result.Run{{Step: "elsewhere", Deployment: result.Deployment{Name: "x"}, Status: result.StatusOK,
		Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1}, Counts: result.Counts{Sent: 1, OK: 1}, ThroughputRPS: 1}}}
	otherPath := filepath.Join(dir, "other.json")
	if err := result.Write(otherPath, other); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(context.Background(), "compare", v1, otherPath)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "have no runs in common") || !strings.Contains(err.Error(), "has x c=1 (step elsewhere)") {
		t.Errorf("nothing in common: %v", err)
	}
	// A copy of the v1 demo with one deployment's latency doubled and
	// its throughput halved: no interval (v1), so no gate fails.
	f, err := result.Read(v1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Runs {
		f.Runs[i].ThroughputRPS /= 2
	}
	slow := filepath.Join(dir, "slow.json")
	if err := result.Write(slow, f); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(dir, "c.xml")
	_, _, err = runCLI(context.Background(), "compare", v1, slow, "--fail-on-regression", "10%", "--format", "junit", "-o", junit)
	if err != nil {
		t.Errorf("v1 files have no intervals, so nothing is significant: %v", err)
	}
	data, _ := os.ReadFile(junit)
	var suites struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests == 0 || len(suites.Suites[0].Cases) != suites.Suites[0].Tests {
		t.Errorf("junit (%v):\n%s", err, data)
	}
	_, _, err = runCLI(context.Background(), "compare", v1, slow, "--fail-on-regression", "ten")
	if exitCode(err) != 2 {
		t.Errorf("bad gate: %v", err)
	}
}

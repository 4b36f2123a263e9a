package analyze

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

func TestEvaluateThresholds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	base := simRun(rng, "nim", 0, 5, 3, 100)
	base.Step = "c=1"
	heavy := simRun(rng, "nim", 0, 9, 3, 100)
	heavy.Step, heavy.Load.Concurrency = "c=8", 8
	heavy.Counts.Errors, heavy.Counts.Sent, heavy.ErrorRate = 6, heavy.Counts.OK+6, 0.02
	other := simRun(rng, "other", 0, 5, 3, 100)
	other.Invalidate("the server restarted during the step")
	long := simRun(rng, "long", 0, 5, 30, 100)
	long.Step = "long"
	runs := []result.Run{base, heavy, other, long}
	for _, c := range []struct {
		name  string
		spec  result.Threshold
		lines []string // one per result: prefixes
	}{
		{"p99 < 1ms fails everywhere", result.Threshold{Expr: "p99 < 1ms", Deployment: "nim"},
			[]string{"FAIL p99 < 1ms: nim c=1: p99 6.12 ms (limit < 1 ms): fails", "FAIL p99 < 1ms: nim c=8: p99 11."}},
		{"p99 < 1s passes", result.Threshold{Expr: "p99 < 1s", Step: "c=1"},
			[]string{"pass p99 < 1s: nim c=1: p99 6.12 ms (limit < 1000 ms): passes", "pass p99 < 1s: other c=1: p99 6."}},
		{"errors", result.Threshold{Expr: "errors < 1%", Deployment: "nim"},
			[]string{"pass errors < 1%: nim c=1: errors 0.00% (limit < 1%): passes", "FAIL errors < 1%: nim c=8: errors 2.00% (limit < 1%): fails"}},
		{"baseline", result.Threshold{Expr: "p50 < 1.5x baseline", Deployment: "nim"},
			[]string{"pass p50 < 1.5x baseline: nim c=1: p50 1.00x baseline", "FAIL p50 < 1.5x baseline: nim c=8: p50 1.82x baseline (limit < 1.5x baseline): fails"}},
		{"valid", result.Threshold{Expr: "valid"},
			[]string{"pass valid: nim c=1: valid: passes", "pass valid", "FAIL valid: other c=1: INVALID (1 of 1 runs): the server restarted during the step: fails", "pass valid"}},
		{"throughput with its interval", result.Threshold{Expr: "throughput > 90/s", Deployment: "long"},
			[]string{"pass throughput > 90/s: long c=1 (step long): throughput 100.0 req/s (limit > 90 req/s): passes; the 95% CI lower bound 100.0 req/s passes too"}},
		{"p50 with its interval", result.Threshold{Expr: "p50 <= 5.1ms", Step: "long"},
			[]string{"pass p50 <= 5.1ms: long c=1 (step long): p50 5"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Judged(&result.File{Runs: runs, Thresholds: []result.Threshold{c.spec}})
			got := f.Thresholds[0].Results
			if len(got) != len(c.lines) {
				t.Fatalf("%d results, want %d: %+v", len(got), len(c.lines), got)
			}
			for i, r := range got {
				if line := ThresholdLine(f.Thresholds[0], r); !strings.HasPrefix(line, c.lines[i]) {
					t.Errorf("result %d: %q\n want prefix %q", i, line, c.lines[i])
				}
			}
		})
	}
	// An interval on the threshold's side: the bound is said.
	f := Judged(&result.File{Runs: runs, Thresholds: []result.Threshold{{Expr: "p50 < 1s", Step: "long"}, {Expr: "throughput < 1000/s", Step: "long"}}})
	for _, th := range f.Thresholds {
		r := th.Results[0]
		if r.IntervalBound == nil || r.IntervalPass == nil || !*r.IntervalPass || !strings.Contains(r.Detail, "the 95% CI upper bound") || !strings.HasSuffix(r.Detail, "passes too") {
			t.Errorf("%s: %+v", th.Expr, r)
		}
	}
	tight := Judged(&result.File{Runs: runs, Thresholds: []result.Threshold{{Expr: "throughput > 1/s", Step: "long"}}})
	if d := tight.Thresholds[0].Results[0].Detail; !strings.Contains(d, "the 95% CI lower bound") {
		t.Errorf("a lower bound: %s", d)
	}
	if got := FailedThresholds(Judged(&result.File{Runs: runs, Thresholds: []result.Threshold{{Expr: "p99 < 1s"}, {Expr: "p99 < 1ms", Step: "c=8"}, {Expr: "valid", Deployment: "none"}}})); len(got) != 2 ||
		!strings.HasPrefix(got[0], "FAIL p99 < 1ms: nim c=8") || got[1] != `FAIL valid: applies to no run (deployment "none")` {
		t.Errorf("failed: %q", got)
	}
	// The bound's verdict is its own: a value that passes with a bound
	// that does not.
	r := long
	pass := Judged(&result.File{Runs: []result.Run{r}, Thresholds: []result.Threshold{{Expr: "p50 < 5.5ms"}}}).Thresholds[0].Results[0]
	if pass.IntervalBound == nil {
		t.Fatalf("no interval: %+v", pass)
	}
	at := *pass.IntervalBound
	if !(at > r.LatencyMs.P50) {
		t.Fatalf("bound %g not above the p50 %g", at, r.LatencyMs.P50)
	}
	mid := (at + r.LatencyMs.P50) / 2
	spec := result.Threshold{Expr: "p50 < " + strings.TrimRight(strings.TrimRight(ftoa(mid), "0"), ".") + "ms"}
	res := Judged(&result.File{Runs: []result.Run{r}, Thresholds: []result.Threshold{spec}}).Thresholds[0].Results[0]
	if !res.Pass || *res.IntervalPass || !strings.Contains(res.Detail, "passes; the 95% CI upper bound") || !strings.HasSuffix(res.Detail, "does not") {
		t.Errorf("%s on p50 %g with bound %g: %+v", spec.Expr, r.LatencyMs.P50, at, res)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

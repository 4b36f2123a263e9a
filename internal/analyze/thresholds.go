package analyze

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/stats"
	"github.com/inferbench/inferbench/internal/threshold"
)

// Thresholds: each criterion of the file (result.File.Thresholds) is
// judged on every step of every deployment it applies to, its trials
// together (their median, and the 95% interval when there is one), and
// recomputed whenever a report is rendered, as the rest of the judgement.

// EvaluateThresholds judges each of the file's thresholds, in its order:
// one result per step and deployment it applies to. A threshold that no
// longer parses (a file edited by hand) gets one failed result saying so.
func EvaluateThresholds(f *result.File) [][]result.ThresholdResult {
	if len(f.Thresholds) == 0 {
		return nil
	}
	groups := Groups(f.Runs)
	judged := Judge(f)
	base := baselines(f.Runs)
	out := make([][]result.ThresholdResult, len(f.Thresholds))
	for i, spec := range f.Thresholds {
		t, err := threshold.Parse(spec.Expr)
		if err != nil {
			out[i] = []result.ThresholdResult{{Detail: err.Error()}}
			continue
		}
		for _, g := range groups {
			first := &f.Runs[g.Runs[0]]
			if spec.Deployment != "" && spec.Deployment != g.Deployment || spec.Step != "" && spec.Step != g.Step {
				continue
			}
			res := result.ThresholdResult{Deployment: g.Deployment, Step: g.Step, Load: loadWords(first)}
			if len(g.Runs) > 1 {
				res.Trials = len(g.Runs)
			}
			judgeThreshold(&res, t, f.Runs, g, groups, base, judged)
			out[i] = append(out[i], res)
		}
	}
	return out
}

// loadWords is a run's load level: c=8, 300/s.
func loadWords(r *result.Run) string {
	if r.Load.Mode == result.ModeRate {
		return fmt.Sprintf("%g/s", r.Load.Rate)
	}
	return fmt.Sprintf("c=%d", r.Load.Concurrency)
}

// groupOf is the group holding run i.
func groupOf(groups []Group, i int) (Group, bool) {
	for _, g := range groups {
		for _, j := range g.Runs {
			if j == i {
				return g, true
			}
		}
	}
	return Group{}, false
}

// judgeThreshold fills one result: the value measured, pass or fail, and
// the interval's bound on the threshold's side.
func judgeThreshold(res *result.ThresholdResult, t threshold.Threshold, runs []result.Run, g Group, groups []Group, base []int, judged []Judgement) {
	if t.Metric == threshold.Valid {
		var reasons []string
		for _, i := range g.Runs {
			if inv := judged[i].Invalid; len(inv) > 0 {
				reasons = append(reasons, inv[0])
			}
		}
		res.Value, res.Pass = float64(len(reasons)), len(reasons) == 0
		res.Detail = "valid: passes"
		if !res.Pass {
			res.Detail = fmt.Sprintf("INVALID (%d of %d runs): %s: fails", len(reasons), len(g.Runs), reasons[0])
		}
		return
	}
	var pcts []float64
	if t.Metric == threshold.Percentile {
		pcts = []float64{t.P}
	}
	est := Estimate(runs, g, pcts)
	if est.Measured == 0 {
		res.Detail = "not measured: fails"
		return
	}
	var e stats.Estimate
	switch t.Metric {
	case threshold.Percentile:
		e, res.Unit = est.Percentiles[t.P], "ms"
	case threshold.Throughput:
		e, res.Unit = est.Throughput, "req/s"
	case threshold.Errors:
		// No interval: the errors' rate is judged as measured.
		e, res.Unit = stats.None(100*est.ErrorRate, ""), "%"
	}
	limit := t.Limit
	if t.Metric == threshold.Errors {
		limit *= 100
	}
	value, lo, hi, hasInterval := e.Value, e.Lo, e.Hi, e.OK
	if t.Baseline {
		b := base[g.Runs[0]]
		bg, ok := groupOf(groups, b)
		if b < 0 || !ok {
			res.Detail = "no baseline (no measured run of the deployment): fails"
			return
		}
		be := Estimate(runs, bg, pcts)
		var bEst stats.Estimate
		if t.Metric == threshold.Percentile {
			bEst = be.Percentiles[t.P]
		} else {
			bEst = be.Throughput
		}
		if !(bEst.Value > 0) {
			res.Detail = "the baseline measured 0: fails"
			return
		}
		value, res.Unit, hasInterval = e.Value/bEst.Value, "x baseline", false
		if bg.Runs[0] != g.Runs[0] {
			r := stats.RatioOf(e, bEst)
			value, lo, hi, hasInterval = e.Value/bEst.Value, r.Lo, r.Hi, r.OK
		}
	}
	res.Value, res.Pass = value, t.Passes(value)
	verdict := map[bool]string{true: "passes", false: "fails"}
	res.Detail = fmt.Sprintf("%s %s (limit %s %s): %s", t.Name(), quantity(value, res.Unit), t.Op, limitWords(limit, res.Unit), verdict[res.Pass])
	if hasInterval {
		bound, side := hi, "upper"
		if !t.Less() {
			bound, side = lo, "lower"
		}
		ok := t.Passes(bound)
		res.IntervalBound, res.IntervalPass = &bound, &ok
		also := "does not"
		if ok {
			also = "passes too"
		}
		res.Detail += fmt.Sprintf("; the 95%% CI %s bound %s %s", side, quantity(bound, res.Unit), also)
	}
}

// quantity writes a measured value with its unit: 5.12 ms, 634.9 req/s,
// 1.50%, 1.82x baseline.
func quantity(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "req/s":
		return fmt.Sprintf("%.1f req/s", v)
	case "%":
		return fmt.Sprintf("%.2f%%", v)
	case "x baseline":
		return fmt.Sprintf("%.2fx baseline", v)
	}
	return fmt.Sprintf("%g", v)
}

// limitWords writes a threshold's limit as given: 1 ms, 1000 ms, 1%.
func limitWords(v float64, unit string) string {
	n := strconv.FormatFloat(v, 'f', -1, 64)
	switch unit {
	case "%":
		return n + "%"
	case "x baseline":
		return n + "x baseline"
	}
	return n + " " + unit
}

// ThresholdLine is one result as the reports and the log say it:
// "FAIL p99 < 1ms: nim c=8 (step "c=8"): p99 5.12 ms (limit < 1 ms): fails".
func ThresholdLine(spec result.Threshold, r result.ThresholdResult) string {
	mark := "pass"
	if !r.Pass {
		mark = "FAIL"
	}
	if r.Deployment == "" { // the threshold itself is at fault
		return fmt.Sprintf("%s %s: %s", mark, spec.Expr, r.Detail)
	}
	where := r.Deployment + " " + r.Load
	if r.Step != "" && r.Step != r.Load {
		where += fmt.Sprintf(" (step %s)", r.Step)
	}
	if r.Trials > 0 {
		where += fmt.Sprintf(", median of %d trials", r.Trials)
	}
	return fmt.Sprintf("%s %s: %s: %s", mark, spec.Expr, where, r.Detail)
}

// FailedThresholds lists the failed results of a judged file (Judged or
// Record), one line each; a threshold that applies to no run fails too,
// as a criterion that was never checked.
func FailedThresholds(f *result.File) []string {
	var out []string
	for _, spec := range f.Thresholds {
		if len(spec.Results) == 0 {
			out = append(out, fmt.Sprintf("FAIL %s: applies to no run%s", spec.Expr, scopeWords(spec)))
		}
		for _, r := range spec.Results {
			if !r.Pass {
				out = append(out, ThresholdLine(spec, r))
			}
		}
	}
	return out
}

// scopeWords says a threshold's scope: " of deployment "a" at step "b"".
func scopeWords(spec result.Threshold) string {
	var parts []string
	if spec.Deployment != "" {
		parts = append(parts, fmt.Sprintf("deployment %q", spec.Deployment))
	}
	if spec.Step != "" {
		parts = append(parts, fmt.Sprintf("step %q", spec.Step))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

package analyze

import (
	"fmt"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/stats"
)

// usable reports whether a run's numbers may be recommended: measured,
// with an error rate no worse than the "good" band.
func usable(r *result.Run) bool {
	return r.Status != result.StatusFailed && r.Counts.OK > 0 && r.ErrorRate <= 0.10
}

// Best is the index of the run with the highest throughput among the
// usable ones (errors at most 10%), or -1.
func Best(runs []result.Run) int {
	best := -1
	for i := range runs {
		if usable(&runs[i]) && (best < 0 || runs[i].ThroughputRPS > runs[best].ThroughputRPS) {
			best = i
		}
	}
	return best
}

// Verdict is the one line a report opens with.
func Verdict(f *result.File) string {
	prefix := ""
	if !f.Complete {
		prefix = "INTERRUPTED, partial results. "
	}
	runs := f.Runs
	if len(runs) == 0 {
		return prefix + "Nothing was measured."
	}
	failed, measured := 0, 0
	for i := range runs {
		if runs[i].Status == result.StatusFailed {
			failed++
		} else if runs[i].Counts.Sent > 0 {
			measured++
		}
	}
	if measured == 0 {
		first := ""
		for i := range runs {
			if runs[i].Failure != "" {
				first = ": " + runs[i].Failure
				break
			}
		}
		return prefix + fmt.Sprintf("FAIL: no level could be measured%s", first)
	}
	failedNote := ""
	if failed > 0 {
		failedNote = fmt.Sprintf("; %d of %d levels failed", failed, len(runs))
	}
	if v := searchVerdict(f.Searches); v != "" {
		return prefix + v + failedNote
	}
	if deps := Deployments(runs); len(deps) > 1 {
		if v := compareVerdict(runs, deps); v != "" {
			return prefix + v + failedNote
		}
	}
	levels := len(runs)
	if HasTrials(runs) {
		runs = groupMedians(runs)
		levels = len(runs)
	}
	b := Best(runs)
	if b < 0 {
		worst := runs[0]
		for _, r := range runs {
			if r.Status != result.StatusFailed && r.ErrorRate > worst.ErrorRate {
				worst = r
			}
		}
		return prefix + fmt.Sprintf("POOR: every level had more than 10%% errors (up to %.1f%%, %s)%s", 100*worst.ErrorRate, ErrorBand(worst.ErrorRate).Name, failedNote)
	}
	r := runs[b]
	where := fmt.Sprintf("%s at concurrency %d", r.Deployment.Name, r.Load.Concurrency)
	if r.Load.Mode == result.ModeRate {
		where = fmt.Sprintf("%s at %g req/s offered", r.Deployment.Name, r.Load.Rate)
	}
	if levels > 1 {
		where = fmt.Sprintf("best of %d levels: %s", levels, where)
	}
	if r.Trial > 1 {
		where += fmt.Sprintf(" (median of %d trials)", r.Trial)
	}
	return prefix + fmt.Sprintf("OK, %s: %.1f req/s, p50 %.2f ms, p99 %.2f ms, %.1f%% errors (%s)%s",
		where, r.ThroughputRPS, r.LatencyMs.P50, r.LatencyMs.P99, 100*r.ErrorRate, ErrorBand(r.ErrorRate).Name, failedNote)
}

// compareVerdict names the winner of each objective when several
// deployments were measured.
func compareVerdict(runs []result.Run, deps []string) string {
	var parts []string
	for _, r := range Rank(runs, deps) {
		if r.Lead == "" {
			continue
		}
		parts = append(parts, r.Objective+": "+r.Lead)
	}
	if len(parts) == 0 {
		return ""
	}
	return "OK, " + strings.Join(parts, "; ")
}

// groupMedians is one run per group of trials, its figures the trials'
// medians, and its Trial the number of trials (a stand-in for the
// verdict only).
func groupMedians(runs []result.Run) []result.Run {
	var out []result.Run
	for _, g := range Groups(runs) {
		first := runs[g.Runs[0]]
		var thr, errs, p50, p99 []float64
		for _, i := range g.Runs {
			if r := &runs[i]; r.Status != result.StatusFailed && r.Counts.OK > 0 {
				if len(thr) == 0 {
					first = *r
				}
				thr, errs = append(thr, r.ThroughputRPS), append(errs, r.ErrorRate)
				p50, p99 = append(p50, r.LatencyMs.P50), append(p99, r.LatencyMs.P99)
			}
		}
		if len(thr) > 0 {
			first.ThroughputRPS, first.ErrorRate = stats.Median(thr), stats.Median(errs)
			first.LatencyMs.P50, first.LatencyMs.P99 = stats.Median(p50), stats.Median(p99)
		}
		first.Trial = len(g.Runs)
		out = append(out, first)
	}
	return out
}

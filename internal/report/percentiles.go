package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// ParsePercentiles reads a list of percentiles such as "50,90,99,99.9,99.99":
// numbers in (0, 100], returned sorted, each once. An error names the
// value at fault.
func ParsePercentiles(s string) ([]float64, error) {
	var out []float64
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("an empty percentile in %q: want numbers such as 50,90,99,99.9", s)
		}
		p, err := strconv.ParseFloat(strings.TrimSuffix(item, "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("percentile %q is not a number", item)
		}
		if !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("percentile %q is not in (0, 100]", item)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// pctLabel writes a percentile as a column's name does: 99.9, 50.
func pctLabel(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// storedPercentiles are the percentiles every run keeps, even one of a
// file without histograms (v1).
func storedPercentile(l measure.Latency, p float64) (float64, bool) {
	switch p {
	case 50:
		return l.P50, true
	case 90:
		return l.P90, true
	case 95:
		return l.P95, true
	case 99:
		return l.P99, true
	case 99.9:
		return l.P999, true
	case 100:
		return l.Max, true
	}
	return 0, false
}

// runPercentiles are a run's latency at each of pcts in milliseconds,
// from its histogram; for a run without one (a v1 file) the stored
// percentiles, and ok false for the others. why says what was missing,
// "" when nothing was.
func runPercentiles(r *result.Run, pcts []float64) (vals []float64, ok []bool, why string) {
	vals, ok = make([]float64, len(pcts)), make([]bool, len(pcts))
	var h *measure.Histogram
	if r.Histograms != nil && r.Histograms.Latency != "" {
		var err error
		if h, err = measure.DecodeHistogram(r.Histograms.Latency); err != nil {
			h, why = nil, fmt.Sprintf("the histogram of %s %s could not be read (%v)", r.Deployment.Name, loadLevel(r), err)
		}
	} else {
		why = "runs of a file without histograms (inferbench.result/v1) keep only p50, p90, p95, p99, p99.9 and the max"
	}
	missing := false
	for i, p := range pcts {
		switch {
		case h != nil && p == 100:
			vals[i], ok[i] = h.MaxMs(), true
		case h != nil:
			vals[i], ok[i] = h.Percentile(p), true
		default:
			vals[i], ok[i] = storedPercentile(r.LatencyMs, p)
			missing = missing || !ok[i]
		}
	}
	if !missing {
		why = ""
	}
	return vals, ok, why
}

// latencyHeader is the table's latency columns.
func latencyHeader(pcts []float64) []string {
	out := make([]string, len(pcts))
	for i, p := range pcts {
		out[i] = "P" + pctLabel(p)
	}
	return out
}

// latencyCells are a run's latency cells for the text, Markdown and HTML
// tables: "n/a" where a percentile cannot be had.
func latencyCells(r *result.Run, pcts []float64) []string {
	vals, ok, _ := runPercentiles(r, pcts)
	out := make([]string, len(pcts))
	for i := range pcts {
		out[i] = "n/a"
		if ok[i] {
			out[i] = ms(vals[i])
		}
	}
	return out
}

// percentileFootnotes say why cells are n/a, each reason once.
func percentileFootnotes(f *result.File, pcts []float64) []string {
	if len(pcts) == 0 {
		return nil
	}
	var notes []string
	for i := range f.Runs {
		r := &f.Runs[i]
		if r.Status == result.StatusFailed {
			continue
		}
		if _, _, why := runPercentiles(r, pcts); why != "" && !slices.Contains(notes, why) {
			notes = append(notes, why)
		}
	}
	for i, n := range notes {
		notes[i] = "n/a: " + n + "; the other percentiles cannot be computed from them."
		if strings.HasPrefix(n, "the histogram") {
			notes[i] = "n/a: " + n + "; its stored percentiles are shown where they exist."
		}
	}
	return notes
}

// csvLatencyHeader names the CSV's latency percentile columns: the
// requested percentiles, without their dot (p99.99: latency_p9999_ms), as
// the default columns are named.
func csvLatencyHeader(pcts []float64) []string {
	out := make([]string, len(pcts))
	for i, p := range pcts {
		out[i] = "latency_p" + strings.ReplaceAll(pctLabel(p), ".", "") + "_ms"
	}
	return out
}

// csvLatencyCells are a run's cells under csvLatencyHeader: empty where a
// percentile cannot be had.
func csvLatencyCells(r *result.Run, pcts []float64) []string {
	vals, ok, _ := runPercentiles(r, pcts)
	out := make([]string, len(pcts))
	for i := range pcts {
		if ok[i] {
			out[i] = strconv.FormatFloat(vals[i], 'f', -1, 64)
		}
	}
	return out
}

package report

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sanitize"
	"github.com/inferbench/inferbench/internal/stats"
)

// Repeated trials, intervals and thresholds in the reports. With trials
// (--repeat), the text, Markdown and HTML tables have one row per step
// and deployment: the trials' medians, their spread and the throughput's
// 95% interval; the per-trial runs stay in the JSON, the CSV (its trial
// column) and the HTML's table of all runs.

// trialHeader are the columns a table of groups adds.
var trialHeader = []string{"TRIALS", "THROUGHPUT SPREAD", "THROUGHPUT 95% CI"}

// tableRows are the run table's header and rows: one per run, or with
// trials one per group.
func tableRows(f *result.File, pcts []float64) ([]string, [][]string) {
	header := runHeader(f, pcts)
	var rows [][]string
	if !analyze.HasTrials(f.Runs) {
		for i := range f.Runs {
			rows = append(rows, runRow(f, &f.Runs[i], pcts))
		}
		return header, rows
	}
	header = append(append([]string(nil), header...), trialHeader...)
	shown := pcts
	if len(shown) == 0 {
		shown = analyze.ReportedPercentiles
	}
	for _, g := range analyze.Groups(f.Runs) {
		e := analyze.Estimate(f.Runs, g, shown)
		syn := groupRun(f, g, e)
		cells := runRow(f, &syn, pcts)
		if e.Measured > 0 {
			for i, p := range shown {
				cells[latencyFrom+i] = fmt.Sprintf("%s (%s-%s)", ms(e.Percentiles[p].Value), num(e.PercentileMin[p]), num(e.PercentileMax[p]))
			}
		}
		trials, spread, ci := fmt.Sprintf("%d", e.Trials), "-", "-"
		if e.Measured != e.Trials {
			trials = fmt.Sprintf("%d of %d measured", e.Measured, e.Trials)
		}
		if e.Measured > 1 {
			spread = fmt.Sprintf("%.1f-%.1f req/s", e.ThroughputMin, e.ThroughputMax)
		}
		if e.Throughput.OK {
			ci = fmt.Sprintf("%.1f-%.1f req/s", e.Throughput.Lo, e.Throughput.Hi)
		}
		rows = append(rows, append(cells, trials, spread, ci))
	}
	return header, rows
}

// num is a number of milliseconds without its unit, as a spread's ends.
func num(v float64) string { return fmt.Sprintf("%.2f", v) }

// groupRun is the run a group's row shows: its first measured trial with
// the trials' medians, their counts added, and invalid when any is.
func groupRun(f *result.File, g analyze.Group, e analyze.Estimates) result.Run {
	first := f.Runs[g.Runs[0]]
	for _, i := range g.Runs {
		if r := &f.Runs[i]; r.Status != result.StatusFailed && r.Counts.OK > 0 {
			first = *r
			break
		}
	}
	syn := first
	syn.Counts, syn.Warmup = result.Counts{}, result.Warmup{}
	var reasons []string
	var x []float64
	for _, i := range g.Runs {
		r := &f.Runs[i]
		syn.Counts.Sent += r.Counts.Sent
		syn.Counts.OK += r.Counts.OK
		syn.Counts.Errors += r.Counts.Errors
		syn.Warmup.Attempted += r.Warmup.Attempted
		syn.Warmup.Succeeded += r.Warmup.Succeeded
		if v := r.Validity; v != nil && !v.Valid && r.Status != result.StatusFailed {
			reasons = append(reasons, v.Reasons...)
		}
		if r.Status != result.StatusFailed && r.Counts.OK > 0 {
			x = append(x, r.Assessment.LatencyVsBaselineP50)
		}
	}
	if e.Measured == 0 {
		return syn
	}
	syn.ThroughputRPS, syn.ErrorRate = e.Throughput.Value, e.ErrorRate
	syn.Assessment.ErrorBand = analyze.ErrorBand(e.ErrorRate).Name
	syn.Assessment.LatencyVsBaselineP50 = stats.Median(x)
	if len(reasons) > 0 {
		syn.Validity = &result.Validity{Reasons: reasons}
	}
	return syn
}

// intervalLines say each group's 95% intervals, one line per group with
// any; the reasons there are none, each once.
func intervalLines(f *result.File, pcts []float64) []string {
	if len(pcts) == 0 {
		pcts = analyze.ReportedPercentiles
	}
	var lines, whys []string
	for _, g := range analyze.Groups(f.Runs) {
		e := analyze.Estimate(f.Runs, g, pcts)
		if e.Measured == 0 {
			continue
		}
		first := &f.Runs[g.Runs[0]]
		var parts []string
		method := ""
		add := func(name, value string, est stats.Estimate, unit func(float64) string) {
			if !est.OK {
				if !contains(whys, est.Why) {
					whys = append(whys, est.Why)
				}
				return
			}
			method = est.Method
			parts = append(parts, fmt.Sprintf("%s %s (%s-%s)", name, value, unit(est.Lo), unit(est.Hi)))
		}
		rps := func(v float64) string { return fmt.Sprintf("%.1f", v) }
		add("throughput", fmt.Sprintf("%.1f req/s", e.Throughput.Value), e.Throughput, rps)
		for _, p := range pcts {
			est := e.Percentiles[p]
			add("p"+pctLabel(p), ms(est.Value), est, num)
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("%s %s: %s [%s]", first.Deployment.Name, loadLevel(first), strings.Join(parts, ", "), method))
		}
	}
	if len(lines) == 0 && !analyze.HasTrials(f.Runs) {
		// Nothing to show (short runs, a v1 file): the report stays as it
		// was; docs/statistics.md says what an interval needs.
		return nil
	}
	for _, w := range whys {
		lines = append(lines, "no interval: "+w)
	}
	return lines
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// thresholdLines are every threshold's results, and a summary first.
func thresholdLines(f *result.File) []string {
	if f == nil || len(f.Thresholds) == 0 {
		return nil
	}
	var lines []string
	total := 0
	for _, spec := range f.Thresholds {
		if len(spec.Results) == 0 {
			lines = append(lines, fmt.Sprintf("FAIL %s: applies to no run", spec.Expr))
		}
		for _, r := range spec.Results {
			lines = append(lines, analyze.ThresholdLine(spec, r))
		}
		total += max(1, len(spec.Results))
	}
	failed := len(analyze.FailedThresholds(f))
	head := fmt.Sprintf("all %d passed", total)
	if failed > 0 {
		head = fmt.Sprintf("%d of %d FAILED (exit code 3)", failed, total)
	}
	return append([]string{head}, lines...)
}

// statsText writes the intervals and thresholds sections of the text report.
func statsText(w io.Writer, f *result.File, pcts []float64) {
	if lines := intervalLines(f, pcts); len(lines) > 0 {
		fmt.Fprintln(w, "\n95% confidence intervals (docs/statistics.md):")
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if lines := thresholdLines(f); len(lines) > 0 {
		fmt.Fprintf(w, "\nThresholds: %s\n", lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

// statsMarkdown writes them in Markdown.
func statsMarkdown(w io.Writer, f *result.File, pcts []float64) {
	if lines := thresholdLines(f); len(lines) > 0 {
		fmt.Fprintf(w, "\n### Thresholds: %s\n\n", lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "- %s\n", mdThreshold(l))
		}
	}
	if lines := intervalLines(f, pcts); len(lines) > 0 {
		fmt.Fprintln(w, "\n### 95% confidence intervals")
		fmt.Fprintln(w)
		for _, l := range lines {
			fmt.Fprintf(w, "- %s\n", sanitize.Markdown(l))
		}
	}
}

// mdThreshold is a threshold line in Markdown, its verdict in bold.
func mdThreshold(l string) string {
	mark, rest, _ := strings.Cut(l, " ")
	return "**" + mark + "** " + sanitize.Markdown(rest)
}

// statsHTML is the HTML's sections.
func statsHTML(f *result.File, pcts []float64) string {
	var b strings.Builder
	if lines := thresholdLines(f); len(lines) > 0 {
		fmt.Fprintf(&b, `<h2>Thresholds: %s</h2><ul id="thresholds">`, html.EscapeString(lines[0]))
		for _, l := range lines[1:] {
			cls := "pass"
			if strings.HasPrefix(l, "FAIL") {
				cls = "fail"
			}
			fmt.Fprintf(&b, `<li class="%s">%s</li>`, cls, html.EscapeString(l))
		}
		b.WriteString("</ul>")
	}
	if analyze.HasTrials(f.Runs) {
		header, rows := tableRows(f, pcts)
		b.WriteString(`<h2>Steps (the trials' medians, spread min-max)</h2><div class="scroll"><table id="trials"><tr>`)
		for _, h := range header {
			fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(strings.ToLower(h)))
		}
		b.WriteString("</tr>")
		for _, r := range rows {
			b.WriteString("<tr>")
			for _, c := range r {
				fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</table></div>")
	}
	if lines := intervalLines(f, pcts); len(lines) > 0 {
		b.WriteString(`<h2>95% confidence intervals</h2><ul id="intervals">`)
		for _, l := range lines {
			fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(l))
		}
		b.WriteString("</ul>")
	}
	return b.String()
}

package report

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// The sweet-spot searches of `inferbench sweep`, in every format: a table
// like the field guide's "deployment-specific recommendations", but
// measured, and in HTML a chart of each search's path.

// searchHeader names the columns of the searches table.
var searchHeader = []string{"DEPLOYMENT", "BASELINE P50", "SWEET SPOT", "THROUGHPUT", "P50", "P99", "ERRORS", "MAX USEFUL", "BREAKING POINT", "RECOMMENDED", "LEVELS", "ENDED"}

// searchRow is a search's cells.
func searchRow(se *result.Search) []string {
	cells := []string{se.Deployment.Name, "-", "-", "-", "-", "-", "-", "-", "-", "-", levelsCell(se), se.End}
	if b := se.Baseline; b != nil && b.ThroughputRPS > 0 {
		cells[1] = ms(b.P50Ms)
	}
	if sp := se.SweetSpot; sp != nil {
		label := analyze.LevelLabel(*sp)
		if !sp.Stable {
			label += " (unstable)"
		}
		cells[2], cells[3], cells[4], cells[5], cells[6] = label, fmt.Sprintf("%.1f req/s", sp.ThroughputRPS), ms(sp.P50Ms), ms(sp.P99Ms), fmt.Sprintf("%.1f%%", 100*sp.ErrorRate)
	}
	if len(se.Path) > 0 {
		if se.Mode == result.ModeRate {
			cells[7] = fmt.Sprintf("%g/s", se.MaxUsefulRate)
		} else {
			cells[7] = fmt.Sprintf("c=%d", se.MaxUsefulConcurrency)
		}
		cells[8] = "none met"
		if top := highest(se); top != "" {
			cells[8] = "none up to " + top
		}
	}
	if bp := se.BreakingPoint; bp != nil {
		cells[8] = fmt.Sprintf("%s (%.0f%% errors, p99 %s)", analyze.LevelLabel(*bp), 100*bp.ErrorRate, ms(bp.P99Ms))
	}
	if len(se.RecommendedRange) == 2 {
		cells[9] = analyze.RangeLabel(se.Mode, se.RecommendedRange)
	}
	return cells
}

// highest is the highest level a search measured, as a label.
func highest(se *result.Search) string {
	var top *result.OperatingPoint
	for i := range se.Path {
		p := &se.Path[i].OperatingPoint
		if top == nil || p.Concurrency > top.Concurrency || p.Rate > top.Rate {
			top = p
		}
	}
	if top == nil {
		return ""
	}
	return analyze.LevelLabel(*top)
}

// levelsCell counts a search's levels and the unstable ones.
func levelsCell(se *result.Search) string {
	unstable := 0
	for _, st := range se.Path {
		if !st.Stable {
			unstable++
		}
	}
	return fmt.Sprintf("%d (%d unstable)", len(se.Path), unstable)
}

// objectiveLine says what the searches' levels had to meet.
func objectiveLine(o result.SearchObjective) string {
	parts := []string{fmt.Sprintf("errors <= %g%%", 100*o.MaxErrorRate)}
	if o.MaxLatencyRatio > 0 {
		parts = append(parts, fmt.Sprintf("p50 <= %gx baseline", o.MaxLatencyRatio))
	}
	if o.SLO != "" {
		parts = append(parts, o.SLO)
	}
	return strings.Join(parts, ", ")
}

// searchNotes are a search's reason and notes, one line each.
func searchNotes(se *result.Search) []string {
	lines := []string{se.Reason}
	return append(lines, se.Notes...)
}

// searchesText writes the searches table and each search's notes.
func searchesText(w io.Writer, f *result.File) error {
	if len(f.Searches) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nSweet spots (measured by search; objective: %s):\n", objectiveLine(f.Searches[0].Objective))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(searchHeader, "\t")+"\t")
	for i := range f.Searches {
		fmt.Fprintln(tw, "  "+strings.Join(lineCells(searchRow(&f.Searches[i])), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i := range f.Searches {
		se := &f.Searches[i]
		fmt.Fprintf(w, "\n%s search (%s%s):\n", sanitize.Line(se.Deployment.Name), sanitize.Line(se.Mode), sanitize.Line(objectiveIfOwn(f, se)))
		fmt.Fprintf(w, "  path: %s\n", sanitize.Line(pathLine(se)))
		for _, n := range searchNotes(se) {
			fmt.Fprintf(w, "  %s\n", sanitize.Line(n))
		}
	}
	return nil
}

// objectiveIfOwn names a search's objective when it differs from the first's.
func objectiveIfOwn(f *result.File, se *result.Search) string {
	if se.Objective == f.Searches[0].Objective {
		return ""
	}
	return "; objective " + objectiveLine(se.Objective)
}

// pathLine is the levels in the order measured: "c=1 ok, c=2 ok, c=4 MISS".
func pathLine(se *result.Search) string {
	var parts []string
	for i, st := range se.Path {
		verdict := "ok"
		if !st.Passed {
			verdict = "miss"
		}
		if !st.Stable {
			verdict += ", unstable"
		}
		parts = append(parts, fmt.Sprintf("%d. %s %.1f req/s (%s)", i+1, analyze.LevelLabel(st.OperatingPoint), st.ThroughputRPS, verdict))
	}
	if len(parts) == 0 {
		return "no level measured"
	}
	return strings.Join(parts, "; ")
}

// searchesMarkdown writes the searches table and notes as Markdown.
func searchesMarkdown(w io.Writer, f *result.File) {
	if len(f.Searches) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Sweet spots (measured by search)\n\nObjective: %s.\n\n", sanitize.Markdown(objectiveLine(f.Searches[0].Objective)))
	fmt.Fprintf(w, "| %s |\n|---|%s\n", strings.Join(searchHeader, " | "), strings.Repeat("---:|", len(searchHeader)-1))
	for i := range f.Searches {
		fmt.Fprintf(w, "| %s |\n", strings.Join(mdCells(searchRow(&f.Searches[i])), " | "))
	}
	fmt.Fprintln(w)
	for i := range f.Searches {
		se := &f.Searches[i]
		fmt.Fprintf(w, "- **%s** (%s%s): %s\n", sanitize.Markdown(se.Deployment.Name), sanitize.Markdown(se.Mode),
			sanitize.Markdown(objectiveIfOwn(f, se)), sanitize.Markdown(pathLine(se)))
		for _, n := range searchNotes(se) {
			fmt.Fprintf(w, "  - %s\n", sanitize.Markdown(n))
		}
	}
}

// searchCSVHeader names the columns of the CSV's second table.
var searchCSVHeader = []string{"search_deployment", "mode", "status", "end", "max_error_rate", "max_latency_ratio", "slo",
	"baseline_p50_ms", "sweet_spot_concurrency", "sweet_spot_rate", "sweet_spot_throughput_rps", "sweet_spot_p50_ms",
	"sweet_spot_p99_ms", "sweet_spot_error_rate", "sweet_spot_stable", "max_useful_concurrency", "max_useful_rate",
	"breaking_point_concurrency", "breaking_point_rate", "breaking_point_error_rate", "breaking_point_p99_ms",
	"recommended_low", "recommended_high", "levels", "unstable_levels", "reason"}

// searchesCSV writes the searches as a second table after a blank line
// (readers of the whole file need variable fields per record).
func searchesCSV(cw *csv.Writer, f *result.File) error {
	if len(f.Searches) == 0 {
		return nil
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := cw.Write([]string{}); err != nil {
		return err
	}
	if err := cw.Write(searchCSVHeader); err != nil {
		return err
	}
	fl := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for i := range f.Searches {
		se := &f.Searches[i]
		rec := make([]string, len(searchCSVHeader))
		rec[0], rec[1], rec[2], rec[3] = se.Deployment.Name, se.Mode, se.Status, se.End
		rec[4], rec[5], rec[6] = fl(se.Objective.MaxErrorRate), fl(se.Objective.MaxLatencyRatio), se.Objective.SLO
		if b := se.Baseline; b != nil {
			rec[7] = fl(b.P50Ms)
		}
		if sp := se.SweetSpot; sp != nil {
			rec[8], rec[9], rec[10], rec[11], rec[12], rec[13], rec[14] = strconv.Itoa(sp.Concurrency), fl(sp.Rate), fl(sp.ThroughputRPS),
				fl(sp.P50Ms), fl(sp.P99Ms), fl(sp.ErrorRate), strconv.FormatBool(sp.Stable)
		}
		rec[15], rec[16] = strconv.Itoa(se.MaxUsefulConcurrency), fl(se.MaxUsefulRate)
		if bp := se.BreakingPoint; bp != nil {
			rec[17], rec[18], rec[19], rec[20] = strconv.Itoa(bp.Concurrency), fl(bp.Rate), fl(bp.ErrorRate), fl(bp.P99Ms)
		}
		if r := se.RecommendedRange; len(r) == 2 {
			rec[21], rec[22] = fl(r[0]), fl(r[1])
		}
		unstable := 0
		for _, st := range se.Path {
			if !st.Stable {
				unstable++
			}
		}
		rec[23], rec[24], rec[25] = strconv.Itoa(len(se.Path)), strconv.Itoa(unstable), se.Reason
		if err := cw.Write(csvCells(rec)); err != nil {
			return err
		}
	}
	return nil
}

// stabilityCSV is a run's stability cells (the last four of csvHeader);
// empty for a run without windows.
func stabilityCSV(r *result.Run) []string {
	st := r.Stability
	if st == nil {
		return []string{"", "", "", ""}
	}
	fl := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return []string{strconv.FormatBool(st.Stable), strconv.Itoa(st.Windows), fl(st.ThroughputSpread), fl(st.P50Spread)}
}

// hasStability reports whether any run was measured in windows: the run
// tables then get a STABLE column.
func hasStability(f *result.File) bool {
	for i := range f.Runs {
		if f.Runs[i].Stability != nil {
			return true
		}
	}
	return false
}

// runHeader and runRow are the run table's columns for this file.
// pcts, if set, are the latency columns (Options.Percentiles).
func runHeader(f *result.File, pcts []float64) []string {
	if !hasStability(f) {
		return tableHeader(pcts)
	}
	return append(append([]string(nil), tableHeader(pcts)...), "STABLE")
}

func runRow(f *result.File, r *result.Run, pcts []float64) []string {
	cells := row(r, pcts)
	if !hasStability(f) {
		return cells
	}
	st := r.Stability
	switch {
	case st == nil:
		return append(cells, "-")
	case st.Stable:
		return append(cells, fmt.Sprintf("yes (%d)", st.Windows))
	}
	return append(cells, fmt.Sprintf("NO (%d)", st.Windows))
}

// searched reports whether a deployment has a search: its measured
// recommendation then replaces the operating-point estimate.
func searched(f *result.File, deployment string) bool {
	for i := range f.Searches {
		if f.Searches[i].Deployment.Name == deployment {
			return true
		}
	}
	return false
}

// searchesHTML is the searches section: the table, each search's notes,
// and a chart of each search's path.
func searchesHTML(f *result.File, color map[string]string) string {
	if len(f.Searches) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<h2>Sweet spots (measured by search)</h2><p class="meta">Objective: %s. Each level was measured until stable (the last 3 windows within 10%%) or flagged.</p>`,
		html.EscapeString(objectiveLine(f.Searches[0].Objective)))
	b.WriteString(`<div class="scroll"><table id="searches"><tr>`)
	for _, h := range searchHeader {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(strings.ToLower(h)))
	}
	b.WriteString("</tr>")
	for i := range f.Searches {
		b.WriteString("<tr>")
		for j, c := range searchRow(&f.Searches[i]) {
			cls := ""
			if j == 0 || j == 2 || j >= 7 {
				cls = ` class="l"`
			}
			fmt.Fprintf(&b, "<td%s>%s</td>", cls, html.EscapeString(c))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table></div><ul>")
	for i := range f.Searches {
		se := &f.Searches[i]
		fmt.Fprintf(&b, "<li><b>%s</b> (%s%s): %s</li>", html.EscapeString(se.Deployment.Name), html.EscapeString(se.Mode),
			html.EscapeString(objectiveIfOwn(f, se)), html.EscapeString(strings.Join(searchNotes(se), " · ")))
	}
	b.WriteString(`</ul><div class="charts">`)
	for i := range f.Searches {
		b.WriteString(searchChart(i, &f.Searches[i], color[f.Searches[i].Deployment.Name]))
	}
	b.WriteString("</div>")
	return b.String()
}

// searchChart draws one search's path: level against throughput, the
// points numbered and joined in the order measured, a ring for a level
// that missed the objective, the sweet spot circled.
func searchChart(i int, se *result.Search, color string) string {
	if color == "" {
		color = palette[i%len(palette)]
	}
	s := series{name: se.Deployment.Name, color: color, ordered: true}
	xLabel, xUnit := "concurrency (log scale)", "concurrent"
	if se.Mode == result.ModeRate {
		xLabel, xUnit = "arrival rate (req/s, log scale)", "req/s offered"
	}
	for n, st := range se.Path {
		x := float64(st.Concurrency)
		if se.Mode == result.ModeRate {
			x = st.Rate
		}
		s.points = append(s.points, xy{x, st.ThroughputRPS})
		s.labels = append(s.labels, strconv.Itoa(n+1))
		s.hollow = append(s.hollow, !st.Passed)
		if sp := se.SweetSpot; sp != nil && sp.Concurrency == st.Concurrency && sp.Rate == st.Rate {
			s.spot = n + 1
		}
	}
	title := fmt.Sprintf("Search path: %s (numbered in order; rings missed the objective)", se.Deployment.Name)
	return chart{id: fmt.Sprintf("chart-search-%d", i), title: title, xLabel: xLabel, yLabel: "throughput (req/s)",
		xUnit: xUnit, yUnit: "req/s", logX: true, series: []series{s}}.svg()
}

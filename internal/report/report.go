// Package report renders a result file for people and tools: an aligned
// terminal table with a one-line verdict first, JSON (the result file
// itself), CSV, Markdown, and a self-contained HTML page with SVG charts.
// Reports read only the result file, never live state, so any old run can
// be rendered again; and every format renders analyze's judgement of it,
// recomputed from its measurements and facts (analyze.Judged), never the
// copy of a judgement the file keeps, so an old file rendered with new
// rules gives the new judgement.
package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// Formats a report can take.
var Formats = []string{"text", "json", "csv", "md", "html"}

// Options shape a rendering.
type Options struct {
	Color bool // ANSI colour, for a terminal only
	// Percentiles, when set, replace the tables' p50 to p99.9 columns
	// with these (ParsePercentiles), computed from each run's histogram;
	// a run without one (a v1 file) shows those it stored, n/a for the
	// others, and a footnote says so. Not used by the JSON.
	Percentiles []float64
}

// Write renders f in the named format.
func Write(w io.Writer, format string, f *result.File, opts Options) error {
	switch format {
	case "text", "":
		return Text(w, f, opts)
	case "json":
		return JSON(w, f)
	case "csv":
		return csvReport(w, f, opts)
	case "md", "markdown":
		return markdown(w, f, opts)
	case "html":
		return htmlReport(w, f, opts)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// JSON writes the result file itself, with the judgement's copy in it
// recomputed.
func JSON(w io.Writer, f *result.File) error {
	f = analyze.Judged(f)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

func loadLevel(r *result.Run) string {
	if r.Load.Mode == result.ModeRate {
		return fmt.Sprintf("%.0f/s", r.Load.Rate)
	}
	return fmt.Sprintf("c=%d", r.Load.Concurrency)
}

// row is a run's cells, shared by the text and Markdown tables; pcts, if
// set, are the latency columns (Options.Percentiles).
func row(r *result.Run, pcts []float64) []string {
	status := r.Status
	if r.Validity != nil && !r.Validity.Valid && r.Status != result.StatusFailed {
		status = "INVALID"
	}
	latency := []string{ms(r.LatencyMs.P50), ms(r.LatencyMs.P90), ms(r.LatencyMs.P95), ms(r.LatencyMs.P99), ms(r.LatencyMs.P999)}
	if len(pcts) > 0 {
		latency = latencyCells(r, pcts)
	}
	if r.Status == result.StatusFailed {
		cells := []string{r.Deployment.Name, loadLevel(r), status, "-", "-", "-"}
		for range latency {
			cells = append(cells, "-")
		}
		return append(cells, "-", fmt.Sprintf("%d/%d", r.Warmup.Succeeded, r.Warmup.Attempted))
	}
	cells := []string{
		r.Deployment.Name, loadLevel(r), status,
		fmt.Sprintf("%d/%d", r.Counts.OK, r.Counts.Sent),
		fmt.Sprintf("%.1f%% %s", 100*r.ErrorRate, r.Assessment.ErrorBand),
		fmt.Sprintf("%.1f req/s", r.ThroughputRPS),
	}
	cells = append(cells, latency...)
	return append(cells, ratio(r.Assessment.LatencyVsBaselineP50), fmt.Sprintf("%d/%d", r.Warmup.Succeeded, r.Warmup.Attempted))
}

var header = []string{"DEPLOYMENT", "LOAD", "STATUS", "OK/SENT", "ERRORS", "THROUGHPUT", "P50", "P90", "P95", "P99", "P99.9", "P50 VS BASE", "WARMUP"}

// latencyFrom and latencyTo bound header's latency columns.
const latencyFrom, latencyTo = 6, 11

// tableHeader is header with pcts, if set, as its latency columns.
func tableHeader(pcts []float64) []string {
	if len(pcts) == 0 {
		return header
	}
	out := append([]string(nil), header[:latencyFrom]...)
	out = append(out, latencyHeader(pcts)...)
	return append(out, header[latencyTo:]...)
}

// Text writes the verdict, the table, then errors and notes per run. Every
// line is rendered first and then has its control characters quoted
// (sanitize.Lines), so that no text from the file, a server's error
// message, a deployment's name, can reach the terminal's escape sequences;
// only the verdict's own colour is added after.
func Text(w io.Writer, f *result.File, opts Options) error {
	f = analyze.Judged(f)
	verdict := sanitize.Line(analyze.Verdict(f))
	if opts.Color {
		colour := "\x1b[32m" // green
		switch {
		case strings.HasPrefix(verdict, "FAIL"), strings.HasPrefix(verdict, "POOR"):
			colour = "\x1b[31m"
		case strings.HasPrefix(verdict, "INTERRUPTED"):
			colour = "\x1b[33m"
		}
		verdict = colour + "\x1b[1m" + verdict + "\x1b[0m"
	}
	if _, err := fmt.Fprintln(w, verdict); err != nil {
		return err
	}
	var body bytes.Buffer
	if err := textBody(&body, f, opts); err != nil {
		return err
	}
	_, err := io.WriteString(w, sanitize.Lines(body.String()))
	return err
}

// textBody writes what follows the verdict.
func textBody(w io.Writer, f *result.File, opts Options) error {
	for _, warning := range clientWarnings(f) {
		fmt.Fprintln(w, "WARNING: "+warning)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header, rows := tableRows(f, opts.Percentiles)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, cells := range rows {
		fmt.Fprintln(tw, strings.Join(lineCells(cells), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range percentileFootnotes(f, opts.Percentiles) {
		fmt.Fprintln(w, n)
	}
	for i := range f.Runs {
		r := &f.Runs[i]
		var lines []string
		if r.Failure != "" {
			lines = append(lines, "failed: "+sanitize.Line(r.Failure))
		}
		if v := r.Validity; v != nil && !v.Valid && r.Status != result.StatusFailed {
			lines = append(lines, "INVALID: "+strings.Join(v.Reasons, "; "))
		}
		if r.ServiceTimeMs != nil && r.Counts.Sent > 0 {
			lines = append(lines, fmt.Sprintf("open loop (%s arrivals): sent at %.1f req/s, %d late sends; latency above counts from the intended send time, service time from the actual send: p50 %s, p99 %s",
				r.Load.Arrival, r.SendRateRPS, r.Client.LateSends, ms(r.ServiceTimeMs.P50), ms(r.ServiceTimeMs.P99)))
		}
		for _, e := range reportedErrors(r.Warmup.Errors) {
			lines = append(lines, fmt.Sprintf("warmup error x%d %s: %s", e.Count, sanitize.Line(e.Class), sanitize.Line(e.Example)))
		}
		for _, e := range reportedErrors(r.Errors) {
			lines = append(lines, fmt.Sprintf("%6d x %s: %s", e.Count, sanitize.Line(e.Class), sanitize.Line(e.Example)))
		}
		if r.Assessment.Check != "" {
			lines = append(lines, r.Assessment.Check)
		}
		for _, n := range r.Assessment.Notes {
			lines = append(lines, "note: "+n)
		}
		if p := podsSummary(r.Pods); p != "" {
			lines = append(lines, p)
		}
		if len(lines) == 0 {
			continue
		}
		trial := ""
		if r.Trial > 0 {
			trial = fmt.Sprintf(" trial %d", r.Trial)
		}
		fmt.Fprintf(w, "\n%s %s%s:\n", r.Deployment.Name, loadLevel(r), trial)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", sanitize.Line(l))
		}
	}
	outputsText(w, f)
	if err := searchesText(w, f); err != nil {
		return err
	}
	if err := comparison(w, f); err != nil {
		return err
	}
	statsText(w, f, opts.Percentiles)
	if n := len(f.Runs); n > 0 {
		cpu := f.Runs[n-1].Client.CPUPercent
		fmt.Fprintf(w, "\nclient CPU during the last level: %.1f%% of one core\n", cpu)
	}
	return nil
}

// lineCells quotes the control characters of each cell, tabs included,
// for a tabwriter.
func lineCells(cells []string) []string {
	for i, c := range cells {
		cells[i] = sanitize.Line(c)
	}
	return cells
}

// csvCells are lineCells that a spreadsheet cannot take for formulas.
func csvCells(cells []string) []string {
	for i, c := range lineCells(cells) {
		cells[i] = csvSafe(c)
	}
	return cells
}

// csvSafe keeps a spreadsheet from reading a text cell as a formula: a
// cell that starts with =, +, -, @ (or a tab or carriage return) and is
// not a number gets a leading apostrophe, as OWASP advises against CSV
// injection. A server's error message or a deployment's name could
// otherwise run =HYPERLINK(...) in the reader's spreadsheet.
func csvSafe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// mdCells makes each cell literal Markdown.
func mdCells(cells []string) []string {
	for i, c := range cells {
		cells[i] = sanitize.Markdown(c)
	}
	return cells
}

// reportedErrors are the error groups a report lists: at most
// measure.GroupsPerClass a class, the rest counted as other messages, so
// that a file with thousands of groups (an older one, or one written by
// hand) still gives a report of bounded length.
func reportedErrors(groups []measure.ErrorGroup) []measure.ErrorGroup {
	return measure.CapGroups(groups, measure.GroupsPerClass)
}

// mdClass is an error class in Markdown: as code when it is a word of
// lower-case letters and underscores (every class inferbench writes), else
// as escaped text.
func mdClass(class string) string {
	if class == "" {
		return ""
	}
	for _, c := range class {
		if (c < 'a' || c > 'z') && c != '_' {
			return sanitize.Markdown(class)
		}
	}
	return "`" + class + "`"
}

// comparison writes the rankings and the operating ranges when several
// deployments or levels were measured.
func comparison(w io.Writer, f *result.File) error {
	deps := analyze.Deployments(f.Runs)
	if ranks := analyze.Rank(f.Runs, deps); len(ranks) > 0 {
		fmt.Fprintln(w, "\nComparison:")
		for _, r := range ranks {
			fmt.Fprintf(w, "  %s\n", r.Objective)
			for _, l := range r.Lines {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	rows := operatingRows(f)
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nOperating points (measured):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  DEPLOYMENT\tRECOMMENDED\tMAX USEFUL\tBEST THROUGHPUT\tBASELINE P50\tSCALING AT BEST\t")
	for _, r := range rows {
		r = lineCells(r)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t\n", r[0], r[1], r[2], r[3], r[4], r[5])
	}
	return tw.Flush()
}

// operatingRows are the cells of the operating-point table, one row per
// deployment with at least two measured levels.
func operatingRows(f *result.File) [][]string {
	var rows [][]string
	for _, d := range analyze.Deployments(f.Runs) {
		pts := analyze.Points(f.Runs, d)
		if len(pts) < 2 || searched(f, d) {
			continue
		}
		o := analyze.Operating(d, pts)
		rec, maxUseful := "-", "needs 3+ levels"
		if o.RecommendedLow > 0 {
			rec = fmt.Sprintf("c=%d", o.RecommendedLow)
			if o.RecommendedHigh != o.RecommendedLow {
				rec = fmt.Sprintf("c=%d-%d", o.RecommendedLow, o.RecommendedHigh)
			}
		}
		if o.EnoughLevels {
			maxUseful = fmt.Sprintf("c=%d", o.MaxUseful)
			if !o.PlateauReached && o.MaxUseful == pts[len(pts)-1].Concurrency {
				maxUseful += " or more (no plateau yet)"
			}
		}
		scaling := "-"
		if o.ScalingAtBest > 0 {
			scaling = fmt.Sprintf("%.0f%%", 100*o.ScalingAtBest)
		}
		rows = append(rows, []string{d, rec, maxUseful, fmt.Sprintf("%.1f req/s at c=%d", o.Best.Throughput, o.Best.Concurrency), ms(o.BaselineP50), scaling})
	}
	return rows
}

// clientWarnings lists the self-check's warnings, each once, with the
// levels it concerns.
func clientWarnings(f *result.File) []string {
	var out []string
	for i := range f.Runs {
		if r := &f.Runs[i]; r.Client.Limited {
			out = append(out, fmt.Sprintf("%s %s: %s", r.Deployment.Name, loadLevel(r), r.Client.Warning))
		}
	}
	return out
}

// Markdown writes the verdict and the table as GitHub-flavoured Markdown.
func Markdown(w io.Writer, f *result.File) error { return markdown(w, f, Options{}) }

func markdown(w io.Writer, f *result.File, opts Options) error {
	f = analyze.Judged(f)
	fmt.Fprintf(w, "**%s**\n\n", sanitize.Markdown(analyze.Verdict(f)))
	for _, warning := range clientWarnings(f) {
		fmt.Fprintf(w, "> **Warning:** %s\n\n", sanitize.Markdown(warning))
	}
	cols, rows := tableRows(f, opts.Percentiles)
	fmt.Fprintf(w, "| %s |\n", strings.Join(cols, " | "))
	aligns := make([]string, len(cols))
	for i := range aligns {
		aligns[i] = "---:"
	}
	aligns[0], aligns[2] = "---", "---"
	fmt.Fprintf(w, "|%s|\n", strings.Join(aligns, "|"))
	for _, cells := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(mdCells(cells), " | "))
	}
	for _, n := range percentileFootnotes(f, opts.Percentiles) {
		fmt.Fprintf(w, "\n_%s_\n", sanitize.Markdown(n))
	}
	outputsMarkdown(w, f)
	searchesMarkdown(w, f)
	if ranks := analyze.Rank(f.Runs, analyze.Deployments(f.Runs)); len(ranks) > 0 {
		fmt.Fprintln(w, "\n### Comparison")
		for _, r := range ranks {
			fmt.Fprintf(w, "\n%s:\n\n", sanitize.Markdown(r.Objective))
			for _, l := range r.Lines {
				fmt.Fprintf(w, "%s\n", sanitize.Markdown(l))
			}
		}
	}
	statsMarkdown(w, f, opts.Percentiles)
	if rows := operatingRows(f); len(rows) > 0 {
		fmt.Fprintln(w, "\n### Operating points (measured)")
		fmt.Fprintln(w, "\n| DEPLOYMENT | RECOMMENDED | MAX USEFUL | BEST THROUGHPUT | BASELINE P50 | SCALING AT BEST |\n|---|---|---|---:|---:|---:|")
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(mdCells(r), " | "))
		}
	}
	fmt.Fprintln(w)
	for i := range f.Runs {
		r := &f.Runs[i]
		if r.Failure != "" {
			fmt.Fprintf(w, "\n- %s %s failed: %s", sanitize.Markdown(r.Deployment.Name), loadLevel(r), sanitize.Markdown(r.Failure))
		}
		for _, e := range reportedErrors(r.Errors) {
			fmt.Fprintf(w, "\n- %s %s: %d x %s: %s", sanitize.Markdown(r.Deployment.Name), loadLevel(r), e.Count, mdClass(e.Class), sanitize.Markdown(e.Example))
		}
		for _, n := range analyze.TimelineNotes(r) {
			fmt.Fprintf(w, "\n- %s %s: **%s**", sanitize.Markdown(r.Deployment.Name), loadLevel(r), sanitize.Markdown(n))
		}
	}
	fmt.Fprintln(w)
	return nil
}

// csvHeader names the CSV columns: one row per run, units in the names.
var csvHeader = []string{"deployment", "protocol", "url", "model", "model_version", "mode", "concurrency", "rate",
	"requests", "duration_s", "status", "failure", "warmup_attempted", "warmup_succeeded", "sent", "ok", "errors",
	"error_rate", "error_band", "throughput_rps", "elapsed_s", "latency_min_ms", "latency_mean_ms", "latency_stddev_ms",
	"latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms",
	"latency_vs_baseline_p50", "latency_vs_baseline_p99", "client_cpu_percent", "late_sends",
	"valid", "server_queue_ms", "server_compute_ms", "server_avg_batch_size",
	"stable", "stability_windows", "throughput_spread", "p50_spread",
	"request_bytes", "response_bytes", "preprocess_mean_ms"}

// CSV writes one row per run, then the sweet-spot searches, if any, as a
// second table after a blank line.
func CSV(w io.Writer, f *result.File) error { return csvReport(w, f, Options{}) }

// csvLatencyFrom and csvLatencyTo bound csvHeader's p50 to p99.9 columns,
// which Options.Percentiles replace.
const csvLatencyFrom, csvLatencyTo = 24, 29

func csvReport(w io.Writer, f *result.File, opts Options) error {
	f = analyze.Judged(f)
	cw := csv.NewWriter(w)
	pcts := opts.Percentiles
	header := csvColumns(csvHeader, csvLatencyHeader(pcts), pcts)
	trials := analyze.HasTrials(f.Runs)
	if trials {
		// A column of its own only with trials: a file without them
		// renders as before.
		header = append(header, "trial")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	fl := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range f.Runs {
		l := r.LatencyMs
		rec := []string{r.Deployment.Name, r.Deployment.Protocol, r.Deployment.URL, r.Deployment.Model, r.Deployment.ModelVersion,
			r.Load.Mode, strconv.Itoa(r.Load.Concurrency), fl(r.Load.Rate), strconv.Itoa(r.Load.Requests), fl(r.Load.DurationS),
			r.Status, r.Failure, strconv.Itoa(r.Warmup.Attempted), strconv.Itoa(r.Warmup.Succeeded),
			strconv.FormatInt(r.Counts.Sent, 10), strconv.FormatInt(r.Counts.OK, 10), strconv.FormatInt(r.Counts.Errors, 10),
			fl(r.ErrorRate), r.Assessment.ErrorBand, fl(r.ThroughputRPS), fl(r.ElapsedS),
			fl(l.Min), fl(l.Mean), fl(l.Stddev), fl(l.P50), fl(l.P90), fl(l.P95), fl(l.P99), fl(l.P999), fl(l.Max),
			fl(r.Assessment.LatencyVsBaselineP50), fl(r.Assessment.LatencyVsBaselineP99), fl(r.Client.CPUPercent),
			strconv.FormatInt(r.Client.LateSends, 10), "", "", "", ""}
		if r.Validity != nil {
			rec[len(rec)-4] = strconv.FormatBool(r.Validity.Valid)
		}
		if b := r.Server; b != nil {
			rec[len(rec)-3], rec[len(rec)-2], rec[len(rec)-1] = fl(b.QueueMs), fl(b.ComputeMs()), fl(b.AvgBatchSize)
		}
		rec = csvColumns(rec, csvLatencyCells(&r, pcts), pcts)
		rec = append(append(rec, stabilityCSV(&r)...), payloadCSV(&r)...)
		if trials {
			rec = append(rec, strconv.Itoa(r.Trial))
		}
		if err := cw.Write(csvCells(rec)); err != nil {
			return err
		}
	}
	if err := searchesCSV(cw, f); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvColumns is a CSV record with its p50 to p99.9 cells replaced by
// latency when pcts are set.
func csvColumns(rec, latency []string, pcts []float64) []string {
	if len(pcts) == 0 {
		return rec
	}
	out := append([]string(nil), rec[:csvLatencyFrom]...)
	out = append(out, latency...)
	return append(out, rec[csvLatencyTo:]...)
}

package report

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
)

// htmlStyle keeps the page readable with no external resource.
const htmlStyle = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1360px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 10px}
.verdict{font-size:17px;font-weight:600;padding:12px 16px;border-radius:6px;background:#e7f5ec;border-left:5px solid #009E73}
.verdict.bad{background:#fdecea;border-color:#D55E00} .warn{background:#fff6e0;border-left:5px solid #E69F00;padding:8px 14px;margin:8px 0;border-radius:6px}
.meta{color:#5b6473;font-size:13px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure.chart{margin:0;background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px}
svg{width:100%;height:auto} .title{font-weight:600;font-size:14px} .tick{font-size:11px;fill:#5b6473} .label{font-size:12px;fill:#333}
.grid{stroke:#eceff3} .axis{stroke:#8a93a3} .line{fill:none;stroke-width:2} .empty{fill:#999}
.legend{font-size:12px;padding:4px 8px} .key{margin-right:14px;white-space:nowrap} .key i{display:inline-block;width:14px;height:4px;margin-right:5px;vertical-align:middle}
.key.dashed i{background-image:linear-gradient(90deg,transparent 50%,#fff 50%)!important;background-size:6px 4px}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%} th,td{border:1px solid #dde1e7;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#eef1f5} td:first-child,th:first-child,td.l{text-align:left}
.scroll{overflow-x:auto} pre{background:#fff;border:1px solid #dde1e7;padding:10px;overflow-x:auto;font-size:12px}
ol{margin:4px 0 12px} .num{font-size:11px;fill:#333}
`

// runKey labels a run in charts: its step, or its load level.
func stepLabel(r *result.Run) string {
	if r.Step != "" {
		return r.Step
	}
	return loadLevel(r)
}

// HTML writes a self-contained page: no script, style or font is fetched.
func HTML(w io.Writer, f *result.File) error { return htmlReport(w, f, Options{}) }

func htmlReport(w io.Writer, f *result.File, opts Options) error {
	f = analyze.Judged(f)
	deps := analyze.Deployments(f.Runs)
	color := map[string]string{}
	for i, d := range deps {
		color[d] = palette[i%len(palette)]
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
	b.WriteString(`<meta name="viewport" content="width=device-width,initial-scale=1">`)
	b.WriteString("<title>inferbench report</title><style>" + htmlStyle + "</style>")
	// The page's only script: it records errors so that a headless check
	// can see them in the DOM, and marks the page ready.
	b.WriteString(`<script>(function(){var h=document.documentElement;function note(m){h.setAttribute("data-errors",(h.getAttribute("data-errors")||"")+m+";")}` +
		`window.addEventListener("error",function(e){note(e.message)});var ce=console.error;console.error=function(){note(Array.prototype.join.call(arguments," "));ce.apply(console,arguments)}})();` +
		`document.addEventListener("DOMContentLoaded",function(){document.documentElement.setAttribute("data-points",document.querySelectorAll("svg .pt, svg .bar").length)});</script>`)
	b.WriteString("</head><body><main>")
	fmt.Fprintf(&b, "<h1>inferbench report</h1><p class=\"meta\">%s · created %s · %s</p>",
		html.EscapeString(f.Tool.Version), f.Created.Format("2006-01-02 15:04 MST"), map[bool]string{true: "complete", false: "INCOMPLETE (interrupted)"}[f.Complete])
	verdict := analyze.Verdict(f)
	class := "verdict"
	if strings.HasPrefix(verdict, "FAIL") || strings.HasPrefix(verdict, "POOR") || strings.HasPrefix(verdict, "INTERRUPTED") {
		class += " bad"
	}
	fmt.Fprintf(&b, `<p class="%s" id="verdict">%s</p>`, class, html.EscapeString(verdict))
	for _, warning := range clientWarnings(f) {
		fmt.Fprintf(&b, `<p class="warn">%s</p>`, html.EscapeString(warning))
	}

	// Charts.
	var thr, lat, latThr []series
	for _, d := range deps {
		var t, p50, p99, lt []xy
		for _, p := range analyze.Points(f.Runs, d) {
			t = append(t, xy{float64(p.Concurrency), p.Throughput})
			p50 = append(p50, xy{float64(p.Concurrency), p.P50})
			p99 = append(p99, xy{float64(p.Concurrency), p.P99})
			lt = append(lt, xy{p.Throughput, p.P50})
		}
		if len(t) == 0 {
			continue
		}
		thr = append(thr, series{name: d, color: color[d], points: t})
		lat = append(lat, series{name: d + " p50", color: color[d], points: p50}, series{name: d + " p99", color: color[d], dashed: true, points: p99})
		latThr = append(latThr, series{name: d, color: color[d], points: lt})
	}
	errs := bars{id: "chart-errors", title: "Error rate per step", yLabel: "errors (%)", yUnit: "%", series: deps, values: map[[2]string]float64{}}
	for _, d := range deps {
		errs.colors = append(errs.colors, color[d])
	}
	seenStep := map[string]bool{}
	for i := range f.Runs {
		r := &f.Runs[i]
		if r.Status == result.StatusFailed {
			continue
		}
		label := stepLabel(r)
		if !seenStep[label] {
			seenStep[label] = true
			errs.categories = append(errs.categories, label)
		}
		errs.values[[2]string{label, r.Deployment.Name}] = 100 * r.ErrorRate
	}
	b.WriteString(`<h2>Charts</h2><div class="charts">`)
	b.WriteString(chart{id: "chart-throughput", title: "Throughput vs concurrency", xLabel: "concurrency (log scale)", yLabel: "throughput (req/s)", xUnit: "concurrent", yUnit: "req/s", logX: true, series: thr}.svg())
	b.WriteString(chart{id: "chart-latency", title: "Latency vs concurrency (p50 solid, p99 dashed)", xLabel: "concurrency (log scale)", yLabel: "latency (ms, log scale)", xUnit: "concurrent", yUnit: "ms", logX: true, logY: true, series: lat}.svg())
	b.WriteString(chart{id: "chart-latency-throughput", title: "Latency (p50) vs throughput", xLabel: "throughput (req/s)", yLabel: "p50 latency (ms, log scale)", xUnit: "req/s", yUnit: "ms", logY: true, series: latThr}.svg())
	b.WriteString(errs.svg())
	b.WriteString(`</div>`)
	b.WriteString(distributionHTML(f, color, opts.Percentiles))
	b.WriteString(timelinesHTML(f, color))

	// Comparison and operating points.
	if ranks := analyze.Rank(f.Runs, deps); len(ranks) > 0 {
		b.WriteString("<h2>Comparison</h2>")
		for _, r := range ranks {
			fmt.Fprintf(&b, "<p><b>%s</b></p><ol>", html.EscapeString(r.Objective))
			for _, l := range r.Lines {
				_, text, _ := strings.Cut(l, ". ")
				fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(text))
			}
			b.WriteString("</ol>")
		}
	}
	if rows := operatingRows(f); len(rows) > 0 {
		b.WriteString(`<h2>Recommendations (measured)</h2><div class="scroll"><table id="recommendations"><tr><th>deployment</th><th>recommended</th><th>max useful</th><th>best throughput</th><th>baseline p50</th><th>scaling at best</th></tr>`)
		for _, r := range rows {
			b.WriteString("<tr>")
			for i, c := range r {
				cls := ""
				if i < 3 {
					cls = ` class="l"`
				}
				fmt.Fprintf(&b, "<td%s>%s</td>", cls, html.EscapeString(c))
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</table></div>")
	}

	b.WriteString(searchesHTML(f, color))

	b.WriteString(statsHTML(f, opts.Percentiles))

	// Every run.
	b.WriteString(`<h2>All runs</h2><div class="scroll"><table id="runs"><tr><th>step</th>`)
	for _, h := range runHeader(f, opts.Percentiles) {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(strings.ToLower(h)))
	}
	b.WriteString("<th>check and notes</th></tr>")
	for i := range f.Runs {
		r := &f.Runs[i]
		step := r.Step
		if r.Trial > 0 {
			step += fmt.Sprintf(" (trial %d)", r.Trial)
		}
		fmt.Fprintf(&b, `<tr><td class="l">%s</td>`, html.EscapeString(step))
		for _, c := range runRow(f, r, opts.Percentiles) {
			fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
		}
		notes := []string{}
		if r.Failure != "" {
			notes = append(notes, "failed: "+r.Failure)
		}
		if v := r.Validity; v != nil && !v.Valid && r.Status != result.StatusFailed {
			notes = append(notes, "INVALID: "+strings.Join(v.Reasons, "; "))
		}
		if r.Assessment.Check != "" {
			notes = append(notes, r.Assessment.Check)
		}
		for _, e := range reportedErrors(r.Errors) {
			notes = append(notes, fmt.Sprintf("%d x %s: %s", e.Count, e.Class, e.Example))
		}
		notes = append(notes, r.Assessment.Notes...)
		if p := podsSummary(r.Pods); p != "" {
			notes = append(notes, p)
		}
		fmt.Fprintf(&b, `<td class="l">%s</td></tr>`, html.EscapeString(strings.Join(notes, " · ")))
	}
	b.WriteString("</table></div>")
	for _, n := range percentileFootnotes(f, opts.Percentiles) {
		fmt.Fprintf(&b, `<p class="meta footnote">%s</p>`, html.EscapeString(n))
	}

	// What it ran with.
	if e := f.Environment; e != nil {
		fmt.Fprintf(&b, `<h2>Environment</h2><p class="meta" id="environment">%s · %s/%s · %d CPUs · %s</p>`,
			html.EscapeString(e.Hostname), e.OS, e.Arch, e.CPUs, e.GoVersion)
	}
	if p := f.Plan; p != nil {
		quick := ""
		if p.Quick {
			quick = " (run with --quick: every step scaled down)"
		}
		fmt.Fprintf(&b, `<h2>Plan</h2><p class="meta">%s%s</p><pre id="plan">%s</pre>`, html.EscapeString(p.Path), quick, html.EscapeString(p.Text))
	}
	b.WriteString("</main></body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// spectrumTicksPerHalf is the points a spectrum has per halving of the
// distance to 100% (HdrHistogram's percentile output uses 5).
const spectrumTicksPerHalf = 5

// defaultMarks are the percentiles a distribution chart marks with a dot
// when no --percentiles were asked for.
var defaultMarks = []float64{50, 90, 99, 99.9, 99.99}

// spectrumX is log10(1/(1-p)), p in percent: 0% at 0, 90% at 1, 99% at 2.
func spectrumX(p float64) float64 {
	return math.Log10(100 / math.Max(100-p, 1e-9))
}

// spectrumAxis is the "1/(1-p)" axis, with ticks 0%, 90%, 99%, ... up to
// the first at or past maxP.
func spectrumAxis(maxP float64) *axis {
	a := &axis{transform: spectrumX, format: func(p float64) string { return "p" + pctLabel(p) }}
	a.ticks = append(a.ticks, tick{0, "0%"})
	for n := 1; n <= 9; n++ {
		p := 100 - 100*math.Pow(10, -float64(n))
		p = roundTo(p, n)
		a.ticks = append(a.ticks, tick{p, pctLabel(p) + "%"})
		if p >= maxP {
			break
		}
	}
	return a
}

// roundTo rounds p to n decimals (99.9, not 99.90000000000001).
func roundTo(p float64, n int) float64 {
	m := math.Pow(10, float64(n))
	return math.Round(p*m) / m
}

// spectrumSeries is a run's latency spectrum as a chart's line, without
// the 100% point (at infinity on the axis: its value, the max, is the last
// point's), and dots at the marked percentiles it reaches.
func spectrumSeries(name, color string, h *measure.Histogram, marks []float64) (series, bool) {
	pts := h.Spectrum(spectrumTicksPerHalf)
	if len(pts) < 2 {
		return series{}, false
	}
	pts = pts[:len(pts)-1]
	s := series{name: name, color: color, dots: []xy{}}
	for _, p := range pts {
		s.points = append(s.points, xy{p.Percentile, p.LatencyMs})
	}
	last := pts[len(pts)-1].Percentile
	for _, m := range marks {
		if m < 100 && m <= last {
			s.dots = append(s.dots, xy{m, h.Percentile(m)})
		}
	}
	return s, true
}

// distributionHTML is the latency distribution section: one chart per
// step that has a run with a histogram, one line per deployment (its
// first run at the step). "" when no run has a histogram (v1 files).
func distributionHTML(f *result.File, color map[string]string, pcts []float64) string {
	marks := pcts
	if len(marks) == 0 {
		marks = defaultMarks
	}
	type stepChart struct {
		label  string
		series []series
		maxP   float64
	}
	var charts []*stepChart
	byStep := map[string]*stepChart{}
	seen := map[[2]string]bool{}
	for i := range f.Runs {
		r := &f.Runs[i]
		if r.Histograms == nil || r.Histograms.Latency == "" || r.Status == result.StatusFailed {
			continue
		}
		label := stepLabel(r)
		if seen[[2]string{label, r.Deployment.Name}] {
			continue
		}
		h, err := measure.DecodeHistogram(r.Histograms.Latency)
		if err != nil {
			continue // the runs table's footnote says so when percentiles are asked for
		}
		s, ok := spectrumSeries(r.Deployment.Name, color[r.Deployment.Name], h, marks)
		if !ok {
			continue
		}
		seen[[2]string{label, r.Deployment.Name}] = true
		c := byStep[label]
		if c == nil {
			c = &stepChart{label: label}
			byStep[label] = c
			charts = append(charts, c)
		}
		c.series = append(c.series, s)
		c.maxP = math.Max(c.maxP, s.points[len(s.points)-1].x)
	}
	if len(charts) == 0 {
		return ""
	}
	var b strings.Builder
	marked := make([]string, len(marks))
	for i, m := range marks {
		marked[i] = "p" + pctLabel(m)
	}
	fmt.Fprintf(&b, `<h2>Latency distribution</h2><p class="meta">Each run's whole latency distribution from its histogram, one chart per step: the percentile on a log "1/(1-p)" axis, as HdrHistogram's plotter draws it, so the tail is as wide as the body; dots at %s.</p><div class="charts">`,
		html.EscapeString(strings.Join(marked, ", ")))
	for i, c := range charts {
		b.WriteString(chart{id: fmt.Sprintf("chart-distribution-%d", i), title: "Latency distribution: " + c.label,
			xLabel: "percentile (log 1/(1-p) scale)", yLabel: "latency (ms, log scale)", yUnit: "ms", logY: true,
			x: spectrumAxis(c.maxP), series: c.series}.svg())
	}
	b.WriteString("</div>")
	return b.String()
}

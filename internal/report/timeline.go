package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
)

// maxTimelinePoints is the most points a series of an over-time chart
// draws; a longer timeline is cut into buckets that keep their lowest and
// highest values (downsample).
const maxTimelinePoints = 1000

// minRateSpanS is the shortest interval whose rates are drawn: the
// partial first and last seconds of a run can be a few milliseconds long,
// and three answers in 5 ms are not 600 req/s.
const minRateSpanS = 0.5

// downsample returns pts, or, when they are more than limit, one point
// of the lowest and one of the highest y of each of limit/2 buckets of
// consecutive points, in their order, so that spikes and dips survive.
// A NaN y is a gap in the line: a bucket of gaps gives one.
func downsample(pts []xy, limit int) []xy {
	if len(pts) <= limit || limit < 2 {
		return pts
	}
	buckets := limit / 2
	size := (len(pts) + buckets - 1) / buckets
	out := make([]xy, 0, limit)
	for from := 0; from < len(pts); from += size {
		to := min(from+size, len(pts))
		lo, hi := -1, -1
		for i := from; i < to; i++ {
			if math.IsNaN(pts[i].y) {
				continue
			}
			if lo < 0 || pts[i].y < pts[lo].y {
				lo = i
			}
			if hi < 0 || pts[i].y > pts[hi].y {
				hi = i
			}
		}
		switch {
		case lo < 0:
			out = append(out, xy{pts[from].x, math.NaN()})
		case lo == hi:
			out = append(out, pts[lo])
		case lo < hi:
			out = append(out, pts[lo], pts[hi])
		default:
			out = append(out, pts[hi], pts[lo])
		}
	}
	return out
}

// tlSeries is one line of an over-time panel.
type tlSeries struct {
	name, color string
	dashed      bool
	points      []xy // NaN y: no value (a gap)
}

// tlPanel is one panel of an over-time figure.
type tlPanel struct {
	title  string
	unit   string
	series []tlSeries
}

// timelineSeries are a run's over-time series: successes and errors per
// second, p50 and p99 latency, and requests in flight, x in seconds from
// the run's start.
func timelineSeries(r *result.Run, color string) []tlPanel {
	origin, _ := analyze.RunStart(r)
	errColor := "#D55E00"
	if color == errColor {
		errColor = "#CC79A7"
	}
	var okS, errS, p50, p99, fly, target []xy
	for _, iv := range r.Timeline {
		if iv.Target > 0 && iv.DurationS > 0 {
			target = append(target, xy{iv.Start.Sub(origin).Seconds() + iv.DurationS/2, iv.Target})
		}
		if iv.DurationS <= 0 {
			continue
		}
		from := iv.Start.Sub(origin).Seconds()
		mid, end := from+iv.DurationS/2, from+iv.DurationS
		if iv.DurationS >= minRateSpanS {
			okS = append(okS, xy{mid, iv.ThroughputRPS()})
			errS = append(errS, xy{mid, float64(iv.ErrorCount()) / iv.DurationS})
		}
		if q := iv.LatencyMs; q != nil {
			p50 = append(p50, xy{mid, q.P50})
			p99 = append(p99, xy{mid, q.P99})
		} else {
			p50 = append(p50, xy{mid, math.NaN()})
			p99 = append(p99, xy{mid, math.NaN()})
		}
		fly = append(fly, xy{end, float64(iv.InFlight)})
	}
	d := func(p []xy) []xy { return downsample(p, maxTimelinePoints) }
	panels := []tlPanel{
		{title: "successes/s (solid) and errors/s (dashed)", unit: "req/s", series: []tlSeries{
			{name: "successes/s", color: color, points: d(okS)}, {name: "errors/s", color: errColor, dashed: true, points: d(errS)}}},
		{title: "latency of that second's successes: p50 (solid) and p99 (dashed), ms", unit: "ms", series: []tlSeries{
			{name: "p50", color: color, points: d(p50)}, {name: "p99", color: color, dashed: true, points: d(p99)}}},
		{title: "requests in flight at the end of each second", unit: "in flight", series: []tlSeries{
			{name: "in flight", color: color, points: d(fly)}}},
	}
	if len(target) > 0 { // a load in stages: its target, grey and dashed
		at := 0
		if r.Load.Mode == result.ModeConcurrency {
			at = 2
		}
		panels[at].title += "; the stages' target (grey, dashed)"
		panels[at].series = append(panels[at].series, tlSeries{name: "target", color: "#999999", dashed: true, points: d(target)})
	}
	if s := r.Scaling; s != nil && len(s.Seconds) > 0 {
		var ready, desired []xy
		for _, sec := range s.Seconds {
			if sec.Second < 0 {
				continue
			}
			x := float64(sec.Second + 1)
			ready = append(ready, xy{x, float64(sec.Ready)})
			desired = append(desired, xy{x, float64(sec.Desired)})
		}
		panels = append(panels, tlPanel{title: "replicas ready (solid) and desired (dashed) at the end of each second; ready events marked", unit: "replicas", series: []tlSeries{
			{name: "ready replicas", color: color, points: d(ready)}, {name: "desired replicas", color: color, dashed: true, points: d(desired)}}})
	}
	return panels
}

// Geometry of an over-time figure: three panels over one x axis.
const (
	tlPanelH, tlPanelGap, tlTop, tlBottom = 96.0, 34.0, 44.0, 44.0
)

// timelineFigure draws a run's over-time panels, the stall shaded.
func timelineFigure(id string, r *result.Run, color string) string {
	panels := timelineSeries(r, color)
	height := tlTop + float64(len(panels))*tlPanelH + float64(len(panels)-1)*tlPanelGap + tlBottom
	maxX := 0.0
	origin, _ := analyze.RunStart(r)
	for _, iv := range r.Timeline {
		maxX = math.Max(maxX, iv.End().Sub(origin).Seconds())
	}
	xt := niceTicks(maxX, 6)
	right := xt[len(xt)-1]
	px := func(x float64) float64 { return padL + x/right*(chartW-padL-padR) }
	title := "Over time: " + r.Deployment.Name + " " + stepLabel(r)
	if r.Step != "" && r.Step != loadLevel(r) {
		title += " (" + loadLevel(r) + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><svg viewBox="0 0 %d %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		id, chartW, height, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="20" text-anchor="middle">%s</text>`, chartW/2, html.EscapeString(title))
	bottom := height - tlBottom
	for _, t := range xt {
		x := px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x, tlTop, x, bottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, bottom+18, fmtNum(t))
	}
	fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle">seconds from the run's start</text>`, (padL+chartW-padR)/2, height-8)
	if s, ok := analyze.Stall(r); ok {
		x0, x1 := px(s.AtS), px(math.Min(s.AtS+s.ForS, right))
		fmt.Fprintf(&b, `<rect class="stall" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#D55E00" fill-opacity="0.15" data-at="%g" data-for="%g"><title>%s</title></rect>`,
			x0, tlTop, math.Max(x1-x0, 1), bottom-tlTop, s.AtS, s.ForS, html.EscapeString(s.Note()))
	}
	for i, p := range panels {
		top := tlTop + float64(i)*(tlPanelH+tlPanelGap)
		b.WriteString(p.svg(top, px))
	}
	if s := r.Scaling; s != nil {
		// A replica made ready (or first answering, after scale-from-zero)
		// is a dotted line across the panels.
		for _, e := range s.Events {
			if (e.Kind != result.ScaleReady && e.Kind != result.ScaleFirstSuccess) || e.AtS < 0 || e.AtS > right {
				continue
			}
			fmt.Fprintf(&b, `<line class="scale-event" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#009E73" stroke-dasharray="2 3" data-kind="%s" data-at="%g"><title>%s</title></line>`,
				px(e.AtS), tlTop, px(e.AtS), bottom, e.Kind, e.AtS, html.EscapeString(fmt.Sprintf("replica %s %s at %.2f s", e.Replica, strings.ReplaceAll(e.Kind, "_", " "), e.AtS)))
		}
	}
	b.WriteString(`</svg><figcaption class="legend">`)
	fmt.Fprintf(&b, `<span class="key"><i style="background:%s"></i>%s</span>`, color, html.EscapeString(r.Deployment.Name))
	for _, n := range analyze.TimelineNotes(r) {
		fmt.Fprintf(&b, `<br><span class="tlnote">%s</span>`, html.EscapeString(n))
	}
	b.WriteString(`</figcaption></figure>`)
	return b.String()
}

// svg draws the panel with its top at top.
func (p tlPanel) svg(top float64, px func(float64) float64) string {
	var b strings.Builder
	maxY := 0.0
	for _, s := range p.series {
		for _, q := range s.points {
			if !math.IsNaN(q.y) {
				maxY = math.Max(maxY, q.y)
			}
		}
	}
	ticks := niceTicks(math.Max(maxY*1.05, 1), 3)
	topY := ticks[len(ticks)-1]
	py := func(y float64) float64 { return top + tlPanelH - y/topY*tlPanelH }
	fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">%s</text>`, padL, top-8, html.EscapeString(p.title))
	for _, t := range ticks {
		y := py(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, fmtNum(t))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, top+tlPanelH, chartW-padR, top+tlPanelH)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, top, padL, top+tlPanelH)
	for _, s := range p.series {
		var path strings.Builder
		n, pen := 0, "M"
		for _, q := range s.points {
			if math.IsNaN(q.y) {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, px(q.x), py(q.y))
			pen = "L"
			n++
		}
		if n == 0 {
			continue
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		// A lone point is drawn as a dot: a path of one move shows nothing.
		if n == 1 {
			fmt.Fprintf(&path, "l0.1 0")
		}
		fmt.Fprintf(&b, `<path class="line tl" d="%s" stroke="%s" stroke-width="1.6" stroke-linecap="round"%s data-series="%s" data-n="%d"><title>%s (%s)</title></path>`,
			strings.TrimSpace(path.String()), s.color, dash, html.EscapeString(s.name), n, html.EscapeString(s.name), html.EscapeString(p.unit))
	}
	return b.String()
}

// timelinesHTML is the over-time section: a figure per run with a
// timeline; "" when none has one (v1 files).
func timelinesHTML(f *result.File, color map[string]string) string {
	var b strings.Builder
	for i := range f.Runs {
		r := &f.Runs[i]
		if len(r.Timeline) == 0 || r.Status == result.StatusFailed {
			continue
		}
		if b.Len() == 0 {
			fmt.Fprintf(&b, `<h2>Over time</h2><p class="meta">Each run second by second (x: seconds from the start of its measured phase); a shaded band is a stall (no answer for at least %s and %dx the run's p50 while requests were in flight). Rates leave out partial seconds under %g s; past %d points a line keeps each bucket's lowest and highest values.</p><div class="charts">`,
				analyze.StallMinSilence, analyze.StallP50Factor, minRateSpanS, maxTimelinePoints)
		}
		b.WriteString(timelineFigure(fmt.Sprintf("chart-timeline-%d", i), r, color[r.Deployment.Name]))
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteString("</div>")
	return b.String()
}

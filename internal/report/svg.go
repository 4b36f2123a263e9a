package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// palette is Okabe and Ito's colour-blind-safe palette.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"}

// xy is one data point.
type xy struct{ x, y float64 }

// series is one line of a chart.
type series struct {
	name   string
	color  string
	dashed bool
	points []xy
	// ordered joins the points in the order given (a search's path)
	// instead of by x; labels then number them, hollow draws some as
	// rings, and spot (1-based, 0 for none) circles one of them.
	ordered bool
	labels  []string
	hollow  []bool
	spot    int
	// dots, when set, are the points drawn as dots, with their tooltips;
	// points is then only the line.
	dots []xy
}

// axis is an x axis of the chart's own: a transform of the values
// (monotonic) and the ticks, which also bound it.
type axis struct {
	transform func(float64) float64
	ticks     []tick
	// format writes a value in a tooltip.
	format func(float64) string
}

// tick is a labelled value on an axis.
type tick struct {
	v     float64
	label string
}

// chart is a line chart drawn as inline SVG, with a point (and its
// tooltip) for every data point so that readers and tests can find them.
type chart struct {
	id, title, xLabel, yLabel string
	logX, logY                bool
	series                    []series
	xUnit, yUnit              string
	// x, when set, replaces the linear or log x axis.
	x *axis
}

const (
	chartW, chartH                 = 640, 360
	padL, padR, padT, padB float64 = 64, 16, 36, 48
)

// niceTicks picks about n round tick values covering 0..max.
func niceTicks(max float64, n int) []float64 {
	if max <= 0 {
		max = 1
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for i := 0; ; i++ {
		// Twelve significant digits drop the float drift of i*step (0.6, not 0.6000000000000001).
		v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(i)*step, 'g', 12, 64), 64)
		ticks = append(ticks, v)
		if v >= max {
			return ticks
		}
	}
}

func fmtNum(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// logTicks are 1-2-5 ticks from the largest one at or below min to the
// first one at or above max, for a log axis.
func logTicks(min, max float64) []float64 {
	if min <= 0 || max <= 0 {
		min, max = 1, 10
	}
	var ticks []float64
	for decade := math.Pow(10, math.Floor(math.Log10(min))); ; decade *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v, _ := strconv.ParseFloat(strconv.FormatFloat(decade*m, 'g', 12, 64), 64)
			if v <= min {
				ticks = ticks[:0] // a larger tick at or below min replaces it
			}
			ticks = append(ticks, v)
			if v >= max {
				return ticks
			}
		}
	}
}

// svg renders the chart.
func (c chart) svg() string {
	var xs []float64
	maxY := 0.0
	for _, s := range c.series {
		for _, p := range s.points {
			xs = append(xs, p.x)
			maxY = math.Max(maxY, p.y)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><svg viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		c.id, chartW, chartH, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="20" text-anchor="middle">%s</text>`, chartW/2, html.EscapeString(c.title))
	if len(xs) == 0 {
		b.WriteString(`<text x="320" y="180" text-anchor="middle" class="empty">no data</text></svg></figure>`)
		return b.String()
	}
	sort.Float64s(xs)
	minX, maxX := xs[0], xs[len(xs)-1]
	tx := func(x float64) float64 { return x }
	if c.logX {
		tx = func(x float64) float64 { return math.Log2(math.Max(x, 1e-9)) }
	}
	lo, hi := tx(minX), tx(maxX)
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	var linearX []float64
	if c.x != nil {
		tx = c.x.transform
		lo, hi = tx(c.x.ticks[0].v), tx(c.x.ticks[len(c.x.ticks)-1].v)
	} else if !c.logX {
		lo = math.Min(lo, 0)
		// The axis ends at its last tick, so that every tick label fits.
		linearX = niceTicks(maxX*1.02, 6)
		hi = math.Max(hi, linearX[len(linearX)-1])
	}
	ticksY := niceTicks(maxY*1.05, 5)
	topY := ticksY[len(ticksY)-1]
	px := func(x float64) float64 { return padL + (tx(x)-lo)/(hi-lo)*(chartW-padL-padR) }
	py := func(y float64) float64 { return chartH - padB - y/topY*(chartH-padT-padB) }
	if c.logY {
		minY := maxY
		for _, s := range c.series {
			for _, p := range s.points {
				if p.y > 0 {
					minY = math.Min(minY, p.y)
				}
			}
		}
		ticksY = logTicks(minY, maxY)
		bottom, top := math.Log10(ticksY[0]), math.Log10(ticksY[len(ticksY)-1])
		py = func(y float64) float64 {
			y = math.Max(y, ticksY[0])
			return chartH - padB - (math.Log10(y)-bottom)/(top-bottom)*(chartH-padT-padB)
		}
	}

	// Axes, grid and ticks.
	for _, t := range ticksY {
		y := py(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, fmtNum(t))
	}
	var xticks []float64
	if c.x != nil {
		for i, t := range c.x.ticks {
			anchor := "middle"
			if i == len(c.x.ticks)-1 {
				anchor = "end" // at the axis's end: inside the figure
			}
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, px(t.v), chartH-padB+18, anchor, html.EscapeString(t.label))
		}
	} else if c.logX {
		seen := map[float64]bool{}
		for _, x := range xs {
			if !seen[x] {
				seen[x] = true
				xticks = append(xticks, x)
			}
		}
	} else {
		xticks = linearX
	}
	for _, t := range xticks {
		x := px(t)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, chartH-padB+18, fmtNum(t))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, padT, padL, chartH-padB)
	fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text>`, (padL+chartW-padR)/2, chartH-8, html.EscapeString(c.xLabel))
	fmt.Fprintf(&b, `<text class="label" transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (padT+chartH-padB)/2, html.EscapeString(c.yLabel))

	// Lines and points.
	for _, s := range c.series {
		pts := append([]xy(nil), s.points...)
		if !s.ordered {
			sort.Slice(pts, func(i, j int) bool { return pts[i].x < pts[j].x })
		}
		var path strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, px(p.x), py(p.y))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<path class="line" d="%s" stroke="%s"%s/>`, strings.TrimSpace(path.String()), s.color, dash)
		if s.dots != nil {
			pts = s.dots
		}
		for i, p := range pts {
			if s.ordered {
				b.WriteString(s.mark(i, px(p.x), py(p.y), p, c))
				continue
			}
			xText := fmtNum(p.x) + " " + c.xUnit
			if c.x != nil && c.x.format != nil {
				xText = c.x.format(p.x)
			}
			fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="3.5" fill="%s" data-series="%s" data-x="%g" data-y="%g"><title>%s: %s, %s %s</title></circle>`,
				px(p.x), py(p.y), s.color, html.EscapeString(s.name), p.x, p.y,
				html.EscapeString(s.name), html.EscapeString(xText), fmtNum(p.y), c.yUnit)
		}
	}
	b.WriteString(`</svg><figcaption class="legend">`)
	for _, s := range c.series {
		style := ""
		if s.dashed {
			style = " dashed"
		}
		fmt.Fprintf(&b, `<span class="key%s"><i style="background:%s"></i>%s</span>`, style, s.color, html.EscapeString(s.name))
	}
	b.WriteString(`</figcaption></figure>`)
	return b.String()
}

// mark draws point i of an ordered series at (x, y): a dot, or a ring
// when hollow, its number beside it, and a circle around the spot.
func (s series) mark(i int, x, y float64, p xy, c chart) string {
	var b strings.Builder
	label := ""
	if i < len(s.labels) {
		label = s.labels[i]
	}
	fill, stroke := s.color, ""
	if i < len(s.hollow) && s.hollow[i] {
		fill, stroke = "#fff", fmt.Sprintf(` stroke="%s" stroke-width="2"`, s.color)
	}
	if s.spot == i+1 {
		fmt.Fprintf(&b, `<circle class="spot" cx="%.1f" cy="%.1f" r="9" fill="none" stroke="%s" stroke-width="1.5"/>`, x, y, s.color)
	}
	fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="4" fill="%s"%s data-series="%s" data-order="%s" data-x="%g" data-y="%g"><title>%s, level %s: %s %s, %s %s</title></circle>`,
		x, y, fill, stroke, html.EscapeString(s.name), html.EscapeString(label), p.x, p.y,
		html.EscapeString(s.name), html.EscapeString(label), fmtNum(p.x), c.xUnit, fmtNum(p.y), c.yUnit)
	if label != "" {
		fmt.Fprintf(&b, `<text class="num" x="%.1f" y="%.1f">%s</text>`, x+6, y-7, html.EscapeString(label))
	}
	return b.String()
}

// bars is a grouped bar chart: one group per category, one bar per series.
type bars struct {
	id, title, yLabel, yUnit string
	categories               []string
	series                   []string
	colors                   []string
	values                   map[[2]string]float64 // (category, series) -> value; absent: no bar
}

func (c bars) svg() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="%s"><svg viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		c.id, chartW, chartH, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="20" text-anchor="middle">%s</text>`, chartW/2, html.EscapeString(c.title))
	maxY := 0.0
	for _, v := range c.values {
		maxY = math.Max(maxY, v)
	}
	if len(c.categories) == 0 || len(c.series) == 0 {
		b.WriteString(`<text x="320" y="180" text-anchor="middle" class="empty">no data</text></svg></figure>`)
		return b.String()
	}
	ticks := niceTicks(math.Max(maxY*1.05, 1), 5)
	top := ticks[len(ticks)-1]
	py := func(y float64) float64 { return chartH - padB - y/top*(chartH-padT-padB) }
	for _, t := range ticks {
		y := py(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, fmtNum(t))
	}
	groupW := (chartW - padL - padR) / float64(len(c.categories))
	barW := groupW * 0.8 / float64(len(c.series))
	for gi, cat := range c.categories {
		gx := padL + float64(gi)*groupW
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, gx+groupW/2, chartH-padB+18, html.EscapeString(cat))
		for si, s := range c.series {
			v, ok := c.values[[2]string{cat, s}]
			if !ok {
				continue
			}
			x := gx + groupW*0.1 + float64(si)*barW
			h := math.Max(chartH-padB-py(v), 1) // a zero still shows as a hairline
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" data-series="%s" data-x="%s" data-y="%g"><title>%s, %s: %s %s</title></rect>`,
				x, chartH-padB-h, barW*0.92, h, c.colors[si], html.EscapeString(s), html.EscapeString(cat), v,
				html.EscapeString(s), html.EscapeString(cat), fmtNum(v), c.yUnit)
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(&b, `<text class="label" transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (padT+chartH-padB)/2, html.EscapeString(c.yLabel))
	b.WriteString(`</svg><figcaption class="legend">`)
	for si, s := range c.series {
		fmt.Fprintf(&b, `<span class="key"><i style="background:%s"></i>%s</span>`, c.colors[si], html.EscapeString(s))
	}
	b.WriteString(`</figcaption></figure>`)
	return b.String()
}

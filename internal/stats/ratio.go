package stats

import (
	"fmt"
	"math"
)

// Ratio is a over b with its 95% interval.
type Ratio struct {
	Value float64
	// OK says whether the interval exists; Why says why not.
	OK     bool
	Lo, Hi float64
	Why    string
}

// MinDifference is the smallest difference ever called significant: an
// interval must exclude every ratio within 1% of 1 (0.990-1.010). Below
// that are the timers' and the histograms' resolution (0.1%) and the
// client's own cost, which tight intervals over trials would otherwise
// rank: two copies of one emulator measured 1.00x-1.01x apart at p50.
const MinDifference = 0.01

// Significant reports whether the interval excludes 1, and every ratio
// within MinDifference of it: a real difference.
func (r Ratio) Significant() bool {
	return r.OK && (r.Lo > 1+MinDifference || r.Hi < 1/(1+MinDifference))
}

// RatioOf is a over b. With both intervals its interval is, on the log
// scale, the difference of their centres plus or minus t times the root
// of the sum of their squared errors, the degrees of freedom Welch and
// Satterthwaite's (a bootstrap counts as many). Its value is then the
// ratio of the centres (for trials: of their geometric means).
func RatioOf(a, b Estimate) Ratio {
	r := Ratio{}
	if b.Value > 0 {
		r.Value = a.Value / b.Value
	}
	switch {
	case !a.OK:
		r.Why = a.Why
		return r
	case !b.OK:
		r.Why = b.Why
		return r
	}
	va, vb := a.LogSE*a.LogSE, b.LogSE*b.LogSE
	df := welch(va, a.DF, vb, b.DF)
	d := a.LogCenter - b.LogCenter
	w := TCrit(df) * math.Sqrt(va+vb)
	r.OK, r.Value, r.Lo, r.Hi = true, math.Exp(d), math.Exp(d-w), math.Exp(d+w)
	return r
}

// welch is the Welch-Satterthwaite degrees of freedom of a sum of two
// variances with df each (0: as many as a normal's); 0 when both are.
func welch(va float64, dfa int, vb float64, dfb int) int {
	term := func(v float64, df int) float64 {
		if df <= 0 {
			return 0
		}
		return v * v / float64(df)
	}
	den := term(va, dfa) + term(vb, dfb)
	if den == 0 {
		return 0
	}
	return max(1, int(math.Floor((va+vb)*(va+vb)/den)))
}

// Change is the ratio as a relative change: "+18% (+9 to +27%)".
func (r Ratio) Change() string {
	pct := func(v float64) string { return fmt.Sprintf("%+.0f%%", 100*(v-1)) }
	if !r.OK {
		return pct(r.Value)
	}
	return fmt.Sprintf("%s (%s to %s)", pct(r.Value), pct(r.Lo), pct(r.Hi))
}

// Times is the ratio as a factor: "1.22x (95% CI 1.15-1.30)", or "no
// significant difference (0.97-1.04)".
func (r Ratio) Times() string {
	switch {
	case !r.OK:
		return fmt.Sprintf("%.2fx (no interval: %s)", r.Value, r.Why)
	case !r.Significant():
		return fmt.Sprintf("no significant difference (%.2f-%.2f)", r.Lo, r.Hi)
	}
	return fmt.Sprintf("%.2fx (95%% CI %.2f-%.2f)", r.Value, r.Lo, r.Hi)
}

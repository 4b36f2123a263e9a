package analyze

import (
	"fmt"
	"math"
)

// perf_analyzer's stability rule: a level is stable when, over its last
// three measurement windows, the highest throughput is within 10% of the
// lowest, and so is the highest p50 of the lowest (max/min <= 1.10).
const (
	StabilityWindows   = 3
	StabilityThreshold = 0.10
	// MaxSpread caps a reported spread: a window without a success has a
	// throughput of zero, and max/min no bound.
	MaxSpread = 10.0
)

// WindowStats is what one measurement window of a level saw, as the
// stability rule needs it (load.Window is the engine's whole window).
type WindowStats struct {
	Throughput float64 // successes per second
	P50        float64 // ms
	OK, Errors int64
}

// ErrorRate is the window's errors over its answered requests.
func (w WindowStats) ErrorRate() float64 {
	if w.OK+w.Errors == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.OK+w.Errors)
}

// Stability is the verdict on a level's windows.
type Stability struct {
	Stable  bool
	Windows int
	// ThroughputSpread and P50Spread are max/min - 1 over the last three
	// windows (over those there are, with fewer), at most MaxSpread.
	ThroughputSpread, P50Spread float64
}

// StabilityRule is how a level's windows are judged.
type StabilityRule struct {
	// Threshold bounds max/min - 1 of p50 (and of throughput unless
	// ThroughputThreshold is set) over the last three windows;
	// StabilityThreshold if zero.
	Threshold           float64
	ThroughputThreshold float64
	// MaxWindows ends an unsettled level (it is then flagged unstable).
	MaxWindows int
	// FailFast ends a level after its first window when more than this
	// share of its requests failed: the objective's error rate for the
	// baseline (which fails fast when the deployment does not work),
	// OverloadErrorRate for the others. A first window without a success
	// always ends it.
	FailFast float64
}

// PoissonThroughputThreshold widens the throughput threshold for windows
// of Poisson arrivals: a window of n requests spans a random time whose
// relative spread is 1/sqrt(n), which says nothing of the server; the
// rule allows three times that on top of the threshold (30% more at 100
// requests a window). The p50 keeps the plain threshold: a server that
// falls behind an open loop shows it in its latency.
func PoissonThroughputThreshold(windowRequests int, threshold float64) float64 {
	if threshold <= 0 {
		threshold = StabilityThreshold
	}
	if windowRequests <= 0 {
		return threshold
	}
	return threshold + 3/math.Sqrt(float64(windowRequests))
}

// Stable applies the rule to a level's windows, in the order measured.
func (r StabilityRule) Stable(ws []WindowStats) Stability {
	p50Max := r.Threshold
	if p50Max <= 0 {
		p50Max = StabilityThreshold
	}
	thrMax := r.ThroughputThreshold
	if thrMax <= 0 {
		thrMax = p50Max
	}
	st := Stability{Windows: len(ws)}
	last := ws[max(0, len(ws)-StabilityWindows):]
	if len(last) == 0 {
		return st
	}
	thr, p50 := make([]float64, len(last)), make([]float64, len(last))
	for i, w := range last {
		thr[i], p50[i] = w.Throughput, w.P50
	}
	st.ThroughputSpread, st.P50Spread = spread(thr), spread(p50)
	st.Stable = len(last) == StabilityWindows && st.ThroughputSpread <= thrMax+1e-9 && st.P50Spread <= p50Max+1e-9
	return st
}

// spread is max/min - 1, rounded to 4 decimals, at most MaxSpread.
func spread(vs []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo <= 0 {
		if hi <= 0 {
			return 0
		}
		return MaxSpread
	}
	return math.Min(MaxSpread, math.Round((hi/lo-1)*1e4)/1e4)
}

// Settle decides, after each window of a level, whether its measurement
// is over, and why: it is stable; it reached MaxWindows without settling;
// or its first window failed so clearly that more would be wasted.
func (r StabilityRule) Settle(ws []WindowStats) (bool, string) {
	if len(ws) == 0 {
		return false, ""
	}
	if first := ws[0]; len(ws) == 1 && (first.OK == 0 || first.ErrorRate() > r.FailFast) {
		return true, fmt.Sprintf("first window failed (%.0f%% errors): not measured further", 100*first.ErrorRate())
	}
	st := r.Stable(ws)
	switch {
	case st.Stable:
		return true, fmt.Sprintf("stable after %d windows", len(ws))
	case len(ws) >= r.MaxWindows:
		return true, fmt.Sprintf("NOT stable after %d windows (throughput spread %.0f%%, p50 spread %.0f%%)", len(ws), 100*st.ThroughputSpread, 100*st.P50Spread)
	}
	return false, ""
}

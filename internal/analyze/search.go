package analyze

import (
	"fmt"
	"math"
	"sort"
)

// Objective is what a sweep's levels must meet to pass.
type Objective struct {
	// MaxErrorRate a passing level stays within (default 5%).
	MaxErrorRate float64
	// MaxLatencyRatio bounds p50 over the baseline's (default 2x); 0
	// switches the check off.
	MaxLatencyRatio float64
	// SLO, if set, bounds a percentile absolutely ("p99<=200ms").
	SLO *SLO
}

// DefaultObjective is the field guide's: errors under 5%, p50 under twice
// the baseline.
var DefaultObjective = Objective{MaxErrorRate: 0.05, MaxLatencyRatio: 2}

// SLO is a latency objective on one percentile.
type SLO struct {
	Percentile float64 // 50, 90, 95, 99 or 99.9
	MaxMs      float64
}

func (s SLO) String() string { return fmt.Sprintf("p%g<=%gms", s.Percentile, s.MaxMs) }

// Search thresholds from the field guide.
const (
	// BreakingErrorRate: a level with more errors than this is past the
	// breaking point, and rising stops.
	BreakingErrorRate = 0.10
	// OverloadErrorRate: past it the system is overloaded; the search backs
	// off to half the level.
	OverloadErrorRate = 0.50
	// BisectResolution: bisection stops when the failing level is within
	// 10% of the passing one.
	BisectResolution = 1.10
	// SweetSpotTie: levels whose throughput is within 5% of the best are
	// as good; the lowest of them, with the least latency, is the sweet spot.
	SweetSpotTie = 0.05
)

// Measured is one measured level of a search as its policy sees it: a
// concurrency, or a rate (run.Level is the level to measure; this is what
// measuring it gave).
type Measured struct {
	Load       float64 // concurrency, or requests per second in rate mode
	Throughput float64
	ErrorRate  float64
	P50, P90   float64
	P95, P99   float64
	P999       float64
	Stable     bool
}

// percentile reads one of a level's percentiles.
func (l Measured) percentile(p float64) float64 {
	switch p {
	case 50:
		return l.P50
	case 90:
		return l.P90
	case 95:
		return l.P95
	case 99.9:
		return l.P999
	}
	return l.P99
}

// Passes reports whether a level meets the objective, with why not.
func (o Objective) Passes(l Measured, baselineP50 float64) (bool, string) {
	if l.ErrorRate > o.MaxErrorRate {
		return false, fmt.Sprintf("errors %.1f%% > %.0f%%", 100*l.ErrorRate, 100*o.MaxErrorRate)
	}
	if o.MaxLatencyRatio > 0 && baselineP50 > 0 && l.P50 > o.MaxLatencyRatio*baselineP50 {
		return false, fmt.Sprintf("p50 %.2f ms > %gx baseline %.2f ms", l.P50, o.MaxLatencyRatio, baselineP50)
	}
	if o.SLO != nil && l.percentile(o.SLO.Percentile) > o.SLO.MaxMs {
		return false, fmt.Sprintf("p%g %.2f ms misses the objective %s", o.SLO.Percentile, l.percentile(o.SLO.Percentile), o.SLO)
	}
	return true, ""
}

// Move is the search policy's next move after the levels measured so far
// (plan.Step is a step of a plan; this is a step of the search).
type Move struct {
	Next   float64 // the next level to measure, when Done is false
	Done   bool
	Phase  string // "rise", "back off", "bisect", or why the search ended
	Reason string
}

// Space bounds the levels a search may try.
type Space struct {
	Start, Max float64
	Factor     float64 // rising multiplies by it (2)
	Integer    bool    // concurrency: levels are whole numbers
}

// Next is the search policy, a pure function of the levels measured so
// far (in the order measured; the first is the baseline):
//
//   - rise geometrically from the start while levels pass the objective,
//     up to the maximum;
//   - stop rising at a plateau (two rises in a row each adding under 5%
//     throughput), or at the first level that fails;
//   - a level with more than 50% errors is overloaded: back off to half;
//   - then bisect between the highest passing level and the lowest failing
//     one above it until they are within 10% (and for concurrency, next
//     to each other).
func Next(sp Space, obj Objective, history []Measured) Move {
	if len(history) == 0 {
		return Move{Next: sp.Start, Phase: "rise", Reason: "baseline"}
	}
	base := history[0]
	if ok, why := obj.Passes(base, base.P50); !ok || base.Throughput == 0 {
		if why == "" {
			why = "nothing succeeded"
		}
		return Move{Done: true, Phase: "baseline failed", Reason: "the deployment does not work at the lowest load: " + why}
	}
	passing, failing := bounds(obj, base.P50, history)
	last := history[len(history)-1]
	rising := failing == nil && !plateau(history)
	if rising {
		if last.Load >= sp.Max {
			return Move{Done: true, Phase: "maximum reached", Reason: fmt.Sprintf("every level up to the maximum %g passed", sp.Max)}
		}
		next := math.Min(sp.Max, round(sp, last.Load*sp.Factor))
		return Move{Next: next, Phase: "rise"}
	}
	if failing == nil {
		return Move{Done: true, Phase: "plateau", Reason: "throughput stopped growing (under 5% twice in a row)"}
	}
	// Overloaded: back off to half, if that level is not known yet.
	if failing.ErrorRate > OverloadErrorRate {
		half := round(sp, failing.Load/2)
		if !measured(history, half) && (passing == nil || half > passing.Load) {
			return Move{Next: half, Phase: "back off", Reason: fmt.Sprintf("%.0f%% errors at %g: overloaded, backing off to half", 100*failing.ErrorRate, failing.Load)}
		}
	}
	lo := sp.Start
	if passing != nil {
		lo = passing.Load
	}
	hi := failing.Load
	if hi <= lo*BisectResolution || (sp.Integer && hi-lo <= 1) {
		return Move{Done: true, Phase: "bisected", Reason: fmt.Sprintf("the limit lies between %g and %g", lo, hi)}
	}
	mid := round(sp, math.Sqrt(lo*hi))
	if sp.Integer && (mid <= lo || mid >= hi) {
		mid = math.Floor((lo + hi) / 2)
	}
	if measured(history, mid) {
		return Move{Done: true, Phase: "bisected", Reason: fmt.Sprintf("the limit lies between %g and %g", lo, hi)}
	}
	return Move{Next: mid, Phase: "bisect"}
}

func round(sp Space, v float64) float64 {
	if sp.Integer {
		return math.Max(1, math.Round(v))
	}
	return math.Round(v*10) / 10
}

func measured(history []Measured, load float64) bool {
	for _, l := range history {
		if l.Load == load {
			return true
		}
	}
	return false
}

// bounds finds the highest passing level below the lowest failing one.
func bounds(obj Objective, baseP50 float64, history []Measured) (passing, failing *Measured) {
	sorted := append([]Measured(nil), history...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Load < sorted[j].Load })
	for i := range sorted {
		if ok, _ := obj.Passes(sorted[i], baseP50); !ok {
			failing = &sorted[i]
			break
		}
		passing = &sorted[i]
	}
	return passing, failing
}

// plateau reports whether the last two rises each added under 5%.
func plateau(history []Measured) bool {
	n := len(history)
	if n < 3 {
		return false
	}
	gain := func(a, b Measured) float64 {
		if a.Throughput <= 0 {
			return math.Inf(1)
		}
		return b.Throughput/a.Throughput - 1
	}
	return gain(history[n-3], history[n-2]) < PlateauGain && gain(history[n-2], history[n-1]) < PlateauGain
}

// usefulGain is the throughput gain a step from load a up to load b must
// bring for b to be useful: PlateauGain per doubling of the load, so that
// the small steps of a bisection are judged by their size (a step of 10%
// needs 0.7% more throughput, a doubling 5%).
func usefulGain(a, b float64) float64 {
	if a <= 0 || b <= a {
		return PlateauGain
	}
	return math.Pow(1+PlateauGain, math.Log2(b/a)) - 1
}

// Outcome is what a finished search found.
type Outcome struct {
	Baseline  Measured
	SweetSpot *Measured // highest throughput among passing levels (ties within 5%: the lowest load)
	// MaxUseful is the load where throughput stops growing by more than 5%
	// a doubling (errors within 10%).
	MaxUseful float64
	// Breaking is the lowest level with more than 10% errors or an
	// objective (SLO) miss; nil if none was seen.
	Breaking        *Measured
	RecommendedLow  float64
	RecommendedHigh float64
	Reason          string
}

// Conclude reads a finished search's levels.
func Conclude(obj Objective, history []Measured, reason string) Outcome {
	out := Outcome{Reason: reason}
	if len(history) == 0 {
		return out
	}
	out.Baseline = history[0]
	sorted := append([]Measured(nil), history...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Load < sorted[j].Load })
	best := -1
	for i, l := range sorted {
		if ok, _ := obj.Passes(l, out.Baseline.P50); ok && (best < 0 || l.Throughput > sorted[best].Throughput) {
			best = i
		}
	}
	if best >= 0 {
		spot := sorted[best]
		for _, l := range sorted { // the lowest load as good as the best
			if ok, _ := obj.Passes(l, out.Baseline.P50); ok && l.Throughput >= spot.Throughput*(1-SweetSpotTie) {
				spot = l
				break
			}
		}
		out.SweetSpot = &spot
	}
	out.MaxUseful = sorted[0].Load
	for i := 1; i < len(sorted); i++ {
		if sorted[i].ErrorRate > BreakingErrorRate || sorted[i].Throughput < sorted[i-1].Throughput*(1+usefulGain(sorted[i-1].Load, sorted[i].Load)) {
			break
		}
		out.MaxUseful = sorted[i].Load
	}
	for i := range sorted {
		l := sorted[i]
		sloMiss := obj.SLO != nil && l.percentile(obj.SLO.Percentile) > obj.SLO.MaxMs
		if l.ErrorRate > BreakingErrorRate || sloMiss {
			out.Breaking = &l
			break
		}
	}
	if out.SweetSpot != nil {
		for _, l := range sorted {
			if ok, _ := obj.Passes(l, out.Baseline.P50); ok && l.Throughput >= RecommendedShareOfBest*out.SweetSpot.Throughput && l.Load <= math.Max(out.MaxUseful, out.SweetSpot.Load) {
				if out.RecommendedLow == 0 {
					out.RecommendedLow = l.Load
				}
				out.RecommendedHigh = l.Load
			}
		}
	}
	return out
}

package analyze

import (
	"fmt"
	"sort"

	"github.com/inferbench/inferbench/internal/result"
)

// The field guide's checks per load level: at realistic load (up to
// concurrency 8) errors under 5% and p50 under 2x the baseline; at heavy
// load (up to 16) errors under 10% and p50 under 3x. Above 16 is stress:
// errors and latency are expected to grow, and nothing is checked.
type Check struct {
	Name         string
	MaxErrorRate float64
	MaxLatencyX  float64 // p50 over the baseline's
}

// CheckFor is the guide's check for a closed-loop concurrency, or false
// above the heavy level.
func CheckFor(concurrency int) (Check, bool) {
	switch {
	case concurrency <= 1:
		return Check{}, false // the baseline itself
	case concurrency <= 8:
		return Check{Name: "realistic", MaxErrorRate: 0.05, MaxLatencyX: 2}, true
	case concurrency <= 16:
		return Check{Name: "heavy", MaxErrorRate: 0.10, MaxLatencyX: 3}, true
	}
	return Check{}, false
}

// CheckNote applies the guide's check to a run whose p50 is p50x times
// its baseline's, as a note; "" when no check applies.
func CheckNote(r *result.Run, p50x float64) string {
	c, ok := CheckFor(r.Load.Concurrency)
	if !ok || r.Load.Mode != result.ModeConcurrency || r.Status == result.StatusFailed || p50x == 0 {
		return ""
	}
	errOK := r.ErrorRate < c.MaxErrorRate
	latOK := p50x < c.MaxLatencyX
	verdict := "passed"
	if !errOK || !latOK {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s check %s: %.1f%% errors (limit %.0f%%), p50 %.2fx baseline (limit %.0fx)",
		c.Name, verdict, 100*r.ErrorRate, 100*c.MaxErrorRate, p50x, c.MaxLatencyX)
}

// Thresholds of the operating-point analysis.
const (
	// PlateauGain: a level that adds less throughput than this over the
	// previous one has reached the plateau.
	PlateauGain = 0.05
	// MaxUsefulErrorRate: past it a level is not useful, whatever its throughput.
	MaxUsefulErrorRate = 0.10
	// RecommendedErrorRate, RecommendedShareOfBest and RecommendedLatencyX
	// bound the recommended range: few errors, most of the best usable
	// throughput, latency not far above the baseline. 4x is where the
	// guide's stress band (3-5x) begins to bite: its heavy check (3x at
	// c=16) is reported per level, but a single-instance server, whose
	// latency grows with concurrency by its nature, would otherwise never
	// be recommended at 16, where the guide recommends it.
	RecommendedErrorRate   = 0.05
	RecommendedShareOfBest = 0.70
	RecommendedLatencyX    = 4.0
)

// Point is one measured closed-loop level of a deployment.
type Point struct {
	Concurrency int
	Throughput  float64
	ErrorRate   float64
	LatencyX    float64 // p50 over the baseline's
	P50, P99    float64
}

// OperatingRange is what the levels of one deployment say about it.
type OperatingRange struct {
	Deployment string
	Levels     int
	// Recommended is the range of levels with errors at most 5%, at least
	// 70% of the best usable throughput and p50 within 3x the baseline,
	// up to MaxUseful. Zero when no level qualifies.
	RecommendedLow, RecommendedHigh int
	// MaxUseful is the last level before throughput stops growing by more
	// than 5% a step, or errors pass 10%. Zero with fewer than 3 levels.
	MaxUseful int
	// Best is the level with the highest usable throughput (errors at most 10%).
	Best           Point
	BaselineP50    float64
	ScalingAtBest  float64 // throughput at Best over concurrency x throughput at 1
	EnoughLevels   bool
	PlateauReached bool
}

// Points gathers a deployment's measured closed-loop levels, lowest
// concurrency first; a level measured more than once keeps its last run.
// Their latency ratios are against the baseline Judge finds.
func Points(runs []result.Run, deployment string) []Point {
	base := baselines(runs)
	by := map[int]Point{}
	for i, r := range runs {
		if r.Deployment.Name != deployment || r.Load.Mode != result.ModeConcurrency || r.Status == result.StatusFailed || r.Counts.Sent == 0 {
			continue
		}
		var x float64
		if base[i] >= 0 {
			x = Ratio(r.LatencyMs.P50, runs[base[i]].LatencyMs.P50)
		}
		by[r.Load.Concurrency] = Point{Concurrency: r.Load.Concurrency, Throughput: r.ThroughputRPS, ErrorRate: r.ErrorRate,
			LatencyX: x, P50: r.LatencyMs.P50, P99: r.LatencyMs.P99}
	}
	out := make([]Point, 0, len(by))
	for _, p := range by {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Concurrency < out[j].Concurrency })
	return out
}

// Operating finds a deployment's recommended range and max useful level
// from its points (lowest concurrency first).
func Operating(deployment string, pts []Point) OperatingRange {
	o := OperatingRange{Deployment: deployment, Levels: len(pts), EnoughLevels: len(pts) >= 3}
	if len(pts) == 0 {
		return o
	}
	o.BaselineP50 = pts[0].P50
	best := -1
	for i, p := range pts {
		if p.ErrorRate <= MaxUsefulErrorRate && (best < 0 || p.Throughput > pts[best].Throughput) {
			best = i
		}
	}
	if best < 0 {
		return o
	}
	o.Best = pts[best]
	if pts[0].Concurrency == 1 && pts[0].Throughput > 0 {
		o.ScalingAtBest = o.Best.Throughput / (float64(o.Best.Concurrency) * pts[0].Throughput)
	}
	// Max useful: walk up while each level still adds more than 5% and
	// keeps errors within 10%.
	if o.EnoughLevels {
		o.MaxUseful = pts[0].Concurrency
		for i := 1; i < len(pts); i++ {
			prev, p := pts[i-1], pts[i]
			if p.ErrorRate > MaxUsefulErrorRate {
				break
			}
			if prev.Throughput > 0 && p.Throughput < prev.Throughput*(1+PlateauGain) {
				o.PlateauReached = true
				break
			}
			o.MaxUseful = p.Concurrency
		}
	}
	for _, p := range pts {
		if o.MaxUseful > 0 && p.Concurrency > o.MaxUseful {
			break
		}
		if p.ErrorRate <= RecommendedErrorRate && p.Throughput >= RecommendedShareOfBest*o.Best.Throughput &&
			(p.LatencyX == 0 || p.LatencyX <= RecommendedLatencyX) {
			if o.RecommendedLow == 0 {
				o.RecommendedLow = p.Concurrency
			}
			o.RecommendedHigh = p.Concurrency
		}
	}
	return o
}

// Ranking is a comparison of deployments on one objective.
type Ranking struct {
	Objective string
	Lines     []string // best first, each with its difference to the best
}

// Rank compares deployments: lowest p50 at concurrency 1, and highest
// usable throughput (errors at most 10%, p50 within 4x its baseline).
func Rank(runs []result.Run, deployments []string) []Ranking {
	type entry struct {
		name  string
		value float64
		at    int
	}
	var lat, thr []entry
	for _, d := range deployments {
		pts := Points(runs, d)
		for _, p := range pts {
			if p.Concurrency == 1 && p.P50 > 0 {
				lat = append(lat, entry{d, p.P50, 1})
			}
		}
		var best *Point
		for i := range pts {
			p := &pts[i]
			if p.ErrorRate <= MaxUsefulErrorRate && (p.LatencyX == 0 || p.LatencyX <= RecommendedLatencyX) && (best == nil || p.Throughput > best.Throughput) {
				best = p
			}
		}
		if best != nil {
			thr = append(thr, entry{d, best.Throughput, best.Concurrency})
		}
	}
	var out []Ranking
	if len(lat) > 1 {
		sort.Slice(lat, func(i, j int) bool { return lat[i].value < lat[j].value })
		r := Ranking{Objective: "lowest latency at concurrency 1 (p50)"}
		for i, e := range lat {
			line := fmt.Sprintf("%d. %s: %.2f ms", i+1, e.name, e.value)
			if i > 0 {
				line += fmt.Sprintf(" (%.2fx the best)", e.value/lat[0].value)
			}
			r.Lines = append(r.Lines, line)
		}
		out = append(out, r)
	}
	if len(thr) > 1 {
		sort.Slice(thr, func(i, j int) bool { return thr[i].value > thr[j].value })
		r := Ranking{Objective: "highest throughput within limits (errors <= 10%, p50 <= 4x baseline)"}
		for i, e := range thr {
			line := fmt.Sprintf("%d. %s: %.1f req/s at c=%d", i+1, e.name, e.value, e.at)
			if i > 0 && e.value > 0 {
				line += fmt.Sprintf(" (the best is %.2fx this)", thr[0].value/e.value)
			}
			r.Lines = append(r.Lines, line)
		}
		out = append(out, r)
	}
	return out
}

// Deployments lists the deployment names of a file in first-seen order.
func Deployments(runs []result.Run) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range runs {
		if !seen[r.Deployment.Name] {
			seen[r.Deployment.Name] = true
			out = append(out, r.Deployment.Name)
		}
	}
	return out
}

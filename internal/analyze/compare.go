package analyze

import (
	"fmt"
	"sort"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/stats"
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
	if !ok || r.Load.Mode != result.ModeConcurrency || len(r.Load.Stages) > 0 || r.Status == result.StatusFailed || p50x == 0 {
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

// Point is one measured closed-loop level of a deployment: with
// repeated trials, their medians.
type Point struct {
	Concurrency int
	Throughput  float64
	ErrorRate   float64
	LatencyX    float64 // p50 over the baseline's
	P50, P99    float64
	// Group is the step's runs at this level (its trials).
	Group Group
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

// Points gathers a deployment's measured closed-loop levels (not those
// in stages, whose concurrency changed), lowest
// concurrency first; a level measured at more than one step keeps its
// last step, and a step's trials give their medians. Their latency
// ratios are against the baseline Judge finds.
func Points(runs []result.Run, deployment string) []Point {
	base := baselines(runs)
	by := map[int]Point{}
	for _, g := range Groups(runs) {
		var thr, errs, x, p50, p99 []float64
		for _, i := range g.Runs {
			r := &runs[i]
			if r.Deployment.Name != deployment || r.Load.Mode != result.ModeConcurrency || len(r.Load.Stages) > 0 || r.Status == result.StatusFailed || r.Counts.Sent == 0 {
				continue
			}
			var lx float64
			if base[i] >= 0 {
				lx = Ratio(r.LatencyMs.P50, runs[base[i]].LatencyMs.P50)
			}
			thr, errs, x = append(thr, r.ThroughputRPS), append(errs, r.ErrorRate), append(x, lx)
			p50, p99 = append(p50, r.LatencyMs.P50), append(p99, r.LatencyMs.P99)
		}
		if len(thr) == 0 {
			continue
		}
		c := runs[g.Runs[0]].Load.Concurrency
		by[c] = Point{Concurrency: c, Throughput: stats.Median(thr), ErrorRate: stats.Median(errs), LatencyX: stats.Median(x),
			P50: stats.Median(p50), P99: stats.Median(p99), Group: g}
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
	// Lead is the verdict's words on the first: its value, and how it
	// compares with the second (with the 95% interval when there is one).
	Lead string
}

// rankEntry is one deployment's figure on an objective.
type rankEntry struct {
	name  string
	value float64
	at    int
	est   stats.Estimate
}

// Rank compares deployments: lowest p50 at concurrency 1, and highest
// usable throughput (errors at most 10%, p50 within 4x its baseline). The
// difference to the best has its 95% interval when both have one, and a
// difference whose interval holds 1 is no significant difference: the
// lead then names every deployment the best is not significantly better
// than, instead of a winner.
func Rank(runs []result.Run, deployments []string) []Ranking {
	var lat, thr []rankEntry
	for _, d := range deployments {
		pts := Points(runs, d)
		for _, p := range pts {
			if p.Concurrency == 1 && p.P50 > 0 {
				est := Estimate(runs, p.Group, []float64{50}).Percentiles[50]
				lat = append(lat, rankEntry{d, p.P50, 1, est})
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
			thr = append(thr, rankEntry{d, best.Throughput, best.Concurrency, Estimate(runs, best.Group, nil).Throughput})
		}
	}
	var out []Ranking
	if len(lat) > 1 {
		sort.SliceStable(lat, func(i, j int) bool { return lat[i].value < lat[j].value })
		r := Ranking{Objective: "lowest latency at concurrency 1 (p50)"}
		for i, e := range lat {
			line := fmt.Sprintf("%d. %s: %.2f ms", i+1, e.name, e.value)
			if i > 0 {
				line += " (" + versus(stats.RatioOf(e.est, lat[0].est), "x the best") + ")"
			}
			r.Lines = append(r.Lines, line)
		}
		r.Lead = lead(lat, func(e rankEntry) string { return fmt.Sprintf("%.2f ms", e.value) }, func(i int) stats.Ratio { return stats.RatioOf(lat[i].est, lat[0].est) }, "faster than %s", false)
		out = append(out, r)
	}
	if len(thr) > 1 {
		sort.SliceStable(thr, func(i, j int) bool { return thr[i].value > thr[j].value })
		r := Ranking{Objective: "highest throughput within limits (errors <= 10%, p50 <= 4x baseline)"}
		for i, e := range thr {
			line := fmt.Sprintf("%d. %s: %.1f req/s at c=%d", i+1, e.name, e.value, e.at)
			if i > 0 && e.value > 0 {
				line += " (the best is " + versus(stats.RatioOf(thr[0].est, e.est), "x this") + ")"
			}
			r.Lines = append(r.Lines, line)
		}
		r.Lead = lead(thr, func(e rankEntry) string { return fmt.Sprintf("%.1f req/s at c=%d", e.value, e.at) }, func(i int) stats.Ratio { return stats.RatioOf(thr[0].est, thr[i].est) }, "%s's", true)
		out = append(out, r)
	}
	return out
}

// versus is a ratio to the best in a ranking's line: "1.22x the best, 95%
// CI 1.15-1.30", "no significant difference from the best (0.97-1.04)",
// or the bare ratio without an interval.
func versus(r stats.Ratio, what string) string {
	switch {
	case !r.OK:
		return fmt.Sprintf("%.2f%s", r.Value, what)
	case !r.Significant():
		return fmt.Sprintf("%.2f%s: no significant difference, 95%% CI %.2f-%.2f", r.Value, what, r.Lo, r.Hi)
	}
	return fmt.Sprintf("%.2f%s, 95%% CI %.2f-%.2f", r.Value, what, r.Lo, r.Hi)
}

// lead is what the verdict says of a ranking: the best and its figure;
// with an interval against the second, how much better (or, when the
// difference is not significant, the deployments it does not beat).
func lead(es []rankEntry, figure func(rankEntry) string, ratio func(i int) stats.Ratio, better string, bestOverOther bool) string {
	best := es[0].name + ": " + figure(es[0])
	r := ratio(1)
	if !r.OK {
		return best
	}
	if r.Significant() {
		return fmt.Sprintf("%s, %.2fx %s (95%% CI %.2f-%.2f)", best, r.Value, fmt.Sprintf(better, es[1].name), r.Lo, r.Hi)
	}
	tied := []string{es[0].name, es[1].name}
	for i := 2; i < len(es); i++ {
		if ri := ratio(i); !ri.Significant() {
			tied = append(tied, es[i].name)
		}
	}
	num, den := es[1].name, es[0].name
	if bestOverOther {
		num, den = den, num
	}
	return fmt.Sprintf("no significant difference between %s (%s; %s vs %s: 95%% CI %.2f-%.2f)", strings.Join(tied, ", "), figure(es[0]), num, den, r.Lo, r.Hi)
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

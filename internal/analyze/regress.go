package analyze

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/stats"
)

// Comparing two result files (inferbench compare): the steps of one
// deployment measured in both are matched by deployment name, step and
// load; each figure's change is NEW over BASE with its 95% interval
// (stats.RatioOf of the two estimates: over trials, or from each run's
// timeline), and a change is a regression when its interval excludes no
// change and it goes the wrong way: throughput down, latency up.

// Change is one figure's change between two files.
type Change struct {
	Metric    string // throughput, p50, p99, ...
	Unit      string // req/s or ms
	Base, New float64
	Ratio     stats.Ratio // New over Base
	// HigherIsBetter is true for throughput, false for latency.
	HigherIsBetter bool
}

// Worse is how much worse the change is, as a fraction (0.18: 18% worse),
// negative when it is better.
func (c Change) Worse() float64 {
	if c.HigherIsBetter {
		return 1 - c.Ratio.Value
	}
	return c.Ratio.Value - 1
}

// Regression reports whether the change is significant and worse.
func (c Change) Regression() bool { return c.Ratio.Significant() && c.Worse() > 0 }

// Improvement reports whether the change is significant and better.
func (c Change) Improvement() bool { return c.Ratio.Significant() && c.Worse() < 0 }

// Fails reports whether the change fails a gate of tolerance (0.10: a
// significant change worse by more than 10%).
func (c Change) Fails(tolerance float64) bool { return c.Regression() && c.Worse() > tolerance }

// Words is the change for people: "p99 +18% (+9 to +27%), regression",
// "throughput -1% (-3 to +1%), no significant change", or without an
// interval "p99 +4% (no interval)" (Matched.NoInterval says why).
func (c Change) Words() string {
	verdict := "no significant change"
	switch {
	case !c.Ratio.OK:
		return fmt.Sprintf("%s %s (no interval)", c.Metric, pct(c.Ratio.Value))
	case c.Regression():
		verdict = "regression"
	case c.Improvement():
		verdict = "improvement"
	}
	return fmt.Sprintf("%s %s (%s to %s), %s", c.Metric, pct(c.Ratio.Value), strings.TrimSuffix(pct(c.Ratio.Lo), "%"), pct(c.Ratio.Hi), verdict)
}

func pct(ratio float64) string {
	v := 100 * (ratio - 1)
	if math.Abs(v) < 0.5 {
		return "0%"
	}
	return fmt.Sprintf("%+.0f%%", v)
}

// Matched is one step of one deployment measured in both files.
type Matched struct {
	Deployment, Step, Load string
	// BaseTrials and NewTrials are the runs on each side.
	BaseTrials, NewTrials int
	Changes               []Change
	// Why says why a side was not compared: not measured in it.
	Why string
	// NoInterval says, each reason once, why some changes have no
	// interval.
	NoInterval []string
}

// Label names the step: "nim-grpc c=16 (step heavy)".
func (m Matched) Label() string {
	l := m.Deployment + " " + m.Load
	if m.Step != "" && m.Step != m.Load {
		l += " (step " + m.Step + ")"
	}
	return l
}

// FileComparison is what compare found.
type FileComparison struct {
	Matched []Matched
	// OnlyBase and OnlyNew label the steps measured in one file only.
	OnlyBase, OnlyNew []string
}

// matchKey is what matched steps share.
type matchKey struct {
	name, step, mode, arrival string
	concurrency               int
	rate                      float64
}

func matchKeyOf(r *result.Run) matchKey {
	return matchKey{r.Deployment.Name, r.Step, r.Load.Mode, r.Load.Arrival, r.Load.Concurrency, r.Load.Rate}
}

// CompareFiles compares NEW with BASE at throughput and the percentiles
// pcts, step by step, in NEW's order.
func CompareFiles(base, next *result.File, pcts []float64) FileComparison {
	var out FileComparison
	bg, ng := Groups(base.Runs), Groups(next.Runs)
	byKey := map[matchKey]Group{}
	for _, g := range bg {
		byKey[matchKeyOf(&base.Runs[g.Runs[0]])] = g
	}
	seen := map[matchKey]bool{}
	for _, g := range ng {
		r := &next.Runs[g.Runs[0]]
		k := matchKeyOf(r)
		m := Matched{Deployment: r.Deployment.Name, Step: r.Step, Load: loadWords(r), NewTrials: len(g.Runs)}
		b, ok := byKey[k]
		if !ok {
			out.OnlyNew = append(out.OnlyNew, m.Label())
			continue
		}
		seen[k] = true
		m.BaseTrials = len(b.Runs)
		be, ne := Estimate(base.Runs, b, pcts), Estimate(next.Runs, g, pcts)
		switch {
		case be.Measured == 0:
			m.Why = "not measured in BASE"
		case ne.Measured == 0:
			m.Why = "not measured in NEW"
		default:
			m.Changes = append(m.Changes, Change{Metric: "throughput", Unit: "req/s", Base: be.Throughput.Value, New: ne.Throughput.Value,
				Ratio: stats.RatioOf(ne.Throughput, be.Throughput), HigherIsBetter: true})
			for _, p := range pcts {
				bp, np := be.Percentiles[p], ne.Percentiles[p]
				if math.IsNaN(bp.Value) || math.IsNaN(np.Value) || bp.Value <= 0 {
					continue // a percentile a v1 run does not keep
				}
				m.Changes = append(m.Changes, Change{Metric: "p" + strings.TrimSuffix(fmt.Sprintf("%g", p), ".0"), Unit: "ms", Base: bp.Value, New: np.Value,
					Ratio: stats.RatioOf(np, bp)})
			}
		}
		for _, c := range m.Changes {
			if why := c.Ratio.Why; !c.Ratio.OK && !slices.Contains(m.NoInterval, why) {
				m.NoInterval = append(m.NoInterval, why)
			}
		}
		out.Matched = append(out.Matched, m)
	}
	for _, g := range bg {
		r := &base.Runs[g.Runs[0]]
		if !seen[matchKeyOf(r)] {
			out.OnlyBase = append(out.OnlyBase, Matched{Deployment: r.Deployment.Name, Step: r.Step, Load: loadWords(r)}.Label())
		}
	}
	return out
}

// Failing lists the changes that fail a gate of tolerance, one line each.
func (fc FileComparison) Failing(tolerance float64) []string {
	var out []string
	for _, m := range fc.Matched {
		for _, c := range m.Changes {
			if c.Fails(tolerance) {
				out = append(out, m.Label()+": "+c.Words())
			}
		}
	}
	return out
}

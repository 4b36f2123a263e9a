package analyze

import (
	"fmt"
	"math"
	"slices"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/stats"
)

// Repeated trials and confidence intervals (docs/statistics.md).
//
// A Group is one step of one deployment: its runs, one per trial
// (--repeat), or a single run. What a report shows of a group is the
// trials' median, their spread (min-max), and a 95% interval: over the
// trials when there are 3 or more measured ones (stats.Trials), else from
// a single run's per-second timeline (batch means for throughput, a
// block bootstrap for a percentile). Judgement: recomputed from the
// measurements whenever a report is rendered.

// ReportedPercentiles are the percentiles the tables show by default.
var ReportedPercentiles = []float64{50, 90, 95, 99, 99.9}

// Group is the runs of one step against one deployment: its trials.
type Group struct {
	Deployment string
	Step       string
	// Runs are the indexes of its runs in the file, in trial order.
	Runs []int
}

// groupKey is what the runs of a group share.
type groupKey struct {
	name, url, protocol, step, mode, arrival string
	concurrency                              int
	rate                                     float64
}

func keyOf(r *result.Run) groupKey {
	return groupKey{r.Deployment.Name, r.Deployment.URL, r.Deployment.Protocol, r.Step, r.Load.Mode, r.Load.Arrival, r.Load.Concurrency, r.Load.Rate}
}

// Groups gathers the runs of a file by step and deployment (and load),
// in the order their first runs appear.
func Groups(runs []result.Run) []Group {
	var out []Group
	at := map[groupKey]int{}
	for i := range runs {
		k := keyOf(&runs[i])
		g, ok := at[k]
		if !ok {
			g = len(out)
			at[k] = g
			out = append(out, Group{Deployment: runs[i].Deployment.Name, Step: runs[i].Step})
		}
		out[g].Runs = append(out[g].Runs, i)
	}
	for _, g := range out {
		slices.SortStableFunc(g.Runs, func(a, b int) int { return runs[a].Trial - runs[b].Trial })
	}
	return out
}

// HasTrials reports whether any step ran more than once.
func HasTrials(runs []result.Run) bool {
	for i := range runs {
		if runs[i].Trial > 0 {
			return true
		}
	}
	return false
}

// hasMeasured reports whether a run measured anything: not failed, and
// at least one success.
func hasMeasured(r *result.Run) bool { return r.Status != result.StatusFailed && r.Counts.OK > 0 }

// Estimates are a group's figures with their intervals.
type Estimates struct {
	// Trials is the group's runs, Measured those that measured something.
	Trials, Measured int
	Throughput       stats.Estimate
	// ThroughputMin and Max are the trials' spread.
	ThroughputMin, ThroughputMax float64
	// Percentiles are the latency at each percentile asked for, in
	// milliseconds, with their spread over the trials.
	Percentiles                  map[float64]stats.Estimate
	PercentileMin, PercentileMax map[float64]float64
	// ErrorRate is the trials' median error rate.
	ErrorRate float64
}

// Estimate finds a group's figures and intervals, at the percentiles pcts.
func Estimate(runs []result.Run, g Group, pcts []float64) Estimates {
	e := Estimates{Trials: len(g.Runs), Percentiles: map[float64]stats.Estimate{}, PercentileMin: map[float64]float64{}, PercentileMax: map[float64]float64{}}
	var measured []*result.Run
	for _, i := range g.Runs {
		if hasMeasured(&runs[i]) {
			measured = append(measured, &runs[i])
		}
	}
	e.Measured = len(measured)
	if len(measured) == 0 {
		e.Throughput = stats.None(0, "not measured")
		for _, p := range pcts {
			e.Percentiles[p] = stats.None(0, "not measured")
		}
		return e
	}
	thr := make([]float64, len(measured))
	errs := make([]float64, len(measured))
	for i, r := range measured {
		thr[i], errs[i] = r.ThroughputRPS, r.ErrorRate
	}
	e.ErrorRate = stats.Median(errs)
	e.ThroughputMin, e.ThroughputMax = slices.Min(thr), slices.Max(thr)
	lat := make([][]float64, len(pcts)) // [percentile][trial]
	for _, r := range measured {
		vals := RunPercentiles(r, pcts)
		for j := range pcts {
			lat[j] = append(lat[j], vals[j])
		}
	}
	for j, p := range pcts {
		e.PercentileMin[p], e.PercentileMax[p] = slices.Min(lat[j]), slices.Max(lat[j])
	}
	switch {
	case len(measured) >= stats.MinTrials:
		e.Throughput = stats.Trials(thr)
		for j, p := range pcts {
			e.Percentiles[p] = trialsOrWhy(lat[j], p)
		}
	case len(measured) == 1:
		e.Throughput, e.Percentiles = fromTimeline(measured[0], pcts)
	default:
		why := fmt.Sprintf("%d measured trials: an interval over trials needs %d or more", len(measured), stats.MinTrials)
		e.Throughput = stats.None(stats.Median(thr), why)
		for j, p := range pcts {
			e.Percentiles[p] = stats.None(stats.Median(lat[j]), why)
		}
	}
	return e
}

// trialsOrWhy is the interval over trials of a percentile; a trial
// without it (a v1 run, which keeps only some) leaves it out.
func trialsOrWhy(vals []float64, p float64) stats.Estimate {
	for _, v := range vals {
		if math.IsNaN(v) {
			return stats.None(0, fmt.Sprintf("p%g: a trial keeps no histogram (an %s file)", p, result.SchemaV1))
		}
	}
	return stats.Trials(vals)
}

// RunPercentiles are a run's latency at pcts in milliseconds: from its
// histogram, else (a v1 run) the ones it stored, NaN for the others.
func RunPercentiles(r *result.Run, pcts []float64) []float64 {
	out := make([]float64, len(pcts))
	var h *measure.Histogram
	if r.Histograms != nil && r.Histograms.Latency != "" {
		h, _ = measure.DecodeHistogram(r.Histograms.Latency)
	}
	for i, p := range pcts {
		switch {
		case h != nil && p == 100:
			out[i] = h.MaxMs()
		case h != nil:
			out[i] = h.Percentile(p)
		default:
			out[i] = storedPercentile(r.LatencyMs, p)
		}
	}
	return out
}

// storedPercentile is a percentile every run keeps, NaN for the others.
func storedPercentile(l measure.Latency, p float64) float64 {
	switch p {
	case 50:
		return l.P50
	case 90:
		return l.P90
	case 95:
		return l.P95
	case 99:
		return l.P99
	case 99.9:
		return l.P999
	case 100:
		return l.Max
	}
	return math.NaN()
}

// wholeSeconds are a run's timeline records of one second, the partial
// first and last left out (and the coarser records past an hour).
func wholeSeconds(r *result.Run) []measure.Interval {
	tl := r.Timeline
	if len(tl) < 3 {
		return nil
	}
	var out []measure.Interval
	for _, iv := range tl[1 : len(tl)-1] {
		if math.Abs(iv.DurationS-1) < 0.01 {
			out = append(out, iv)
		}
	}
	return out
}

// fromTimeline finds a single run's intervals from its per-second
// records; the point values are the run's own figures.
func fromTimeline(r *result.Run, pcts []float64) (stats.Estimate, map[float64]stats.Estimate) {
	own := RunPercentiles(r, pcts)
	out := map[float64]stats.Estimate{}
	secs := wholeSeconds(r)
	if len(r.Timeline) == 0 {
		why := "one run, without a timeline (an " + result.SchemaV1 + " file): an interval needs its per-second records or 3 trials"
		for i, p := range pcts {
			out[p] = stats.None(own[i], why)
		}
		return stats.None(r.ThroughputRPS, why), out
	}
	rates := make([]float64, len(secs))
	for i, iv := range secs {
		rates[i] = iv.ThroughputRPS()
	}
	thr := stats.BatchMeans(rates).Recentred(r.ThroughputRPS)
	bins := make([][]stats.Bin, 0, len(secs))
	bad := ""
	for _, iv := range secs {
		var sec []stats.Bin
		if iv.Histogram != "" {
			h, err := measure.DecodeHistogram(iv.Histogram)
			if err != nil {
				bad = fmt.Sprintf("a second's histogram could not be read (%v)", err)
				break
			}
			for _, b := range h.Bins() {
				sec = append(sec, stats.Bin{Value: b.ValueMs, Count: b.Count})
			}
		}
		bins = append(bins, sec)
	}
	for i, p := range pcts {
		switch {
		case bad != "":
			out[p] = stats.None(own[i], bad)
		case p >= 100:
			out[p] = stats.None(own[i], "the max has no interval")
		default:
			est := stats.PercentileInterval(bins, p)
			if est.OK && !math.IsNaN(own[i]) && own[i] > 0 {
				// Centred on the run's own percentile (3 significant
				// digits; the seconds keep 2).
				est.LogCenter += math.Log(own[i] / est.Value)
				est.Lo, est.Hi = est.Lo*own[i]/est.Value, est.Hi*own[i]/est.Value
			}
			est.Value = own[i]
			out[p] = est
		}
	}
	return thr, out
}

package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Within one run, intervals come from its per-second records.
const (
	// MinSeconds is the fewest whole seconds a run needs for an interval
	// of its own.
	MinSeconds = 10
	// MinBatches is the fewest batches batch means uses.
	MinBatches = 5
	// MinTail is the fewest values a percentile needs above it for an
	// interval (p99 needs 1,000 values, p99.9 10,000).
	MinTail = 10
	// Replicates and Seed are the bootstrap's: fixed, so a report
	// rendered twice gives the same intervals.
	Replicates = 400
	Seed       = 1
)

// Lag1 is the lag-1 autocorrelation of xs (0 for fewer than 3 values or
// none varying).
func Lag1(xs []float64) float64 {
	if len(xs) < 3 {
		return 0
	}
	m, _ := meanSD(xs)
	var num, den float64
	for i, x := range xs {
		den += (x - m) * (x - m)
		if i > 0 {
			num += (x - m) * (xs[i-1] - m)
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// CorrelationTime is the series' integrated autocorrelation time under an
// AR(1) model, (1+r)/(1-r) for its lag-1 autocorrelation r (clipped to
// [0, 0.9]): how many seconds' worth of values carry one independent
// value's information. 1 for an uncorrelated series.
func CorrelationTime(xs []float64) float64 {
	r := min(max(Lag1(xs), 0), 0.9)
	return (1 + r) / (1 - r)
}

// BatchSize is the batch length, in records, for n records whose
// correlation time is tau: at least 5 tau (the lag-1 correlation of
// AR(1) batch means is then under 0.07), at least sqrt(n) (the usual
// consistent choice), and at most n/MinBatches.
func BatchSize(n int, tau float64) int {
	b := max(int(math.Ceil(math.Sqrt(float64(n)))), int(math.Ceil(5*tau)))
	return max(1, min(b, n/MinBatches))
}

// BatchMeans is the interval of the mean of an autocorrelated series
// (a run's per-second throughput): the series is cut into k batches of
// BatchSize records, whose means are nearly independent, and the
// interval is t with k-1 degrees of freedom on them. Value is the
// series' mean; the log-scale error is the relative one (delta method).
func BatchMeans(xs []float64) Estimate {
	n := len(xs)
	var e Estimate
	if n > 0 {
		e.Value, _ = meanSD(xs)
	}
	if n < MinSeconds {
		e.Why = fmt.Sprintf("the run has %d whole seconds: an interval from one run needs %d or more (or 3 trials: --repeat 3)", n, MinSeconds)
		return e
	}
	if !(e.Value > 0) {
		e.Why = "nothing was measured per second"
		return e
	}
	b := BatchSize(n, CorrelationTime(xs))
	k := n / b
	means := make([]float64, k)
	for i := range k {
		// The records left over are spread: batch i covers
		// [i*n/k, (i+1)*n/k), so every record counts.
		lo, hi := i*n/k, (i+1)*n/k
		for _, x := range xs[lo:hi] {
			means[i] += x
		}
		means[i] /= float64(hi - lo)
	}
	_, sd := meanSD(means)
	e.OK, e.DF = true, k-1
	e.LogCenter, e.LogSE = math.Log(e.Value), sd/math.Sqrt(float64(k))/e.Value
	e.Lo, e.Hi = e.bounds()
	e.Method = fmt.Sprintf("batch means, %d batches of %d s", k, b)
	return e
}

// Recentred is e with its interval moved, on the log scale, to be
// centred on v (a run's own figure, where the interval was found from its
// per-second records), and v as its value.
func (e Estimate) Recentred(v float64) Estimate {
	e.Value = v
	if e.OK && v > 0 {
		e.LogCenter = math.Log(v)
		e.Lo, e.Hi = e.bounds()
	}
	return e
}

// Bin is a count of equal values: one bucket of a histogram.
type Bin struct {
	Value float64
	Count int64
}

// quantile is the p-th percentile (0..100] of a distribution given as
// counts over ascending values, as HdrHistogram finds it: the smallest
// value whose cumulative count reaches round(p/100 * total), at least 1.
func quantile(values []float64, counts []int64, total int64, p float64) float64 {
	target := max(int64(p/100*float64(total)+0.5), 1)
	var c int64
	for i, n := range counts {
		c += n
		if c >= target {
			return values[i]
		}
	}
	return values[len(values)-1]
}

// PercentileInterval is the interval of the p-th percentile (0 < p < 100)
// of a run given as its per-second histograms: a moving-block bootstrap
// over the seconds (blocks of BatchSize seconds for the correlation
// time of the per-second percentile), Replicates resamples with a fixed
// seed, gives the standard error of the percentile's log; the interval is
// the run's own percentile times exp(± t·se), t with k-1 degrees of
// freedom for the k = n/b blocks the error was estimated from (the plain
// bootstrap percentile interval covers 86-90% at 40 s: too few blocks).
// Value is the percentile of all the seconds together.
func PercentileInterval(seconds [][]Bin, p float64) Estimate {
	return percentileInterval(seconds, p, Replicates, Seed)
}

func percentileInterval(seconds [][]Bin, p float64, reps int, seed uint64) Estimate {
	// Index the distinct values, and each second as (index, count) pairs.
	var all []float64
	for _, s := range seconds {
		for _, b := range s {
			all = append(all, b.Value)
		}
	}
	slices.Sort(all)
	values := slices.Compact(all)
	type cell struct {
		at int
		n  int64
	}
	secs := make([][]cell, 0, len(seconds))
	perSecond := make([]float64, 0, len(seconds))
	whole := make([]int64, len(values))
	var total int64
	for _, s := range seconds {
		cs := make([]cell, 0, len(s))
		own := make([]int64, 0, len(s))
		vals := make([]float64, 0, len(s))
		var n int64
		for _, b := range s {
			if b.Count <= 0 {
				continue
			}
			i, _ := slices.BinarySearch(values, b.Value)
			cs = append(cs, cell{i, b.Count})
			whole[i] += b.Count
			n += b.Count
			vals, own = append(vals, b.Value), append(own, b.Count)
		}
		total += n
		secs = append(secs, cs)
		if n > 0 {
			perSecond = append(perSecond, quantile(vals, own, n, p))
		}
	}
	var e Estimate
	if total == 0 {
		e.Why = "no latency was recorded per second"
		return e
	}
	e.Value = quantile(values, whole, total, p)
	n := len(secs)
	switch tail := float64(total) * (1 - p/100); {
	case n < MinSeconds:
		e.Why = fmt.Sprintf("the run has %d whole seconds: an interval from one run needs %d or more (or 3 trials: --repeat 3)", n, MinSeconds)
		return e
	case tail < MinTail:
		e.Why = fmt.Sprintf("%d answers leave %.1f above p%g: an interval needs %d or more", total, tail, p, MinTail)
		return e
	case !(e.Value > 0):
		e.Why = "the percentile is 0"
		return e
	}
	b := BatchSize(n, CorrelationTime(perSecond))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	counts := make([]int64, len(values))
	logs := make([]float64, reps)
	for r := range reps {
		clear(counts)
		var sum int64
		for filled := 0; filled < n; {
			start := rng.IntN(n - b + 1)
			for j := start; j < start+b && filled < n; j++ {
				for _, c := range secs[j] {
					counts[c.at] += c.n
					sum += c.n
				}
				filled++
			}
		}
		q := e.Value
		if sum > 0 {
			q = quantile(values, counts, sum, p)
		}
		logs[r] = math.Log(max(q, 1e-9))
	}
	_, sd := meanSD(logs)
	e.OK, e.LogCenter, e.LogSE, e.DF = true, math.Log(e.Value), sd, n/b-1
	e.Lo, e.Hi = e.bounds()
	e.Method = fmt.Sprintf("block bootstrap over %d s in blocks of %d s", n, b)
	return e
}

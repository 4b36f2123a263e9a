// Package stats holds the statistics behind inferbench's confidence
// intervals, as pure functions: Student's t, the interval over repeated
// trials, batch means over a run's per-second series, a moving-block
// bootstrap of a percentile over a run's per-second histograms, and the
// ratio of two estimates. docs/statistics.md states the methods, their
// assumptions and their limits.
package stats

import (
	"fmt"
	"math"
	"slices"
)

// Level is the confidence of every interval: 95%.
const Level = 0.95

// Estimate is a value with its 95% confidence interval, when one could be
// computed. Intervals are built on the log scale (every quantity here is
// positive and its noise multiplicative), so LogCenter and LogSE describe
// the interval for ratios: Lo = exp(LogCenter - t·LogSE), Hi likewise.
type Estimate struct {
	Value float64 // the point shown (a trial median, a run's own figure)
	// OK says whether the interval exists; Why says why not.
	OK     bool
	Lo, Hi float64
	// LogCenter is the log of the value the interval is centred on;
	// LogSE its standard error; DF the degrees of freedom of its t (0:
	// normal, as a bootstrap's).
	LogCenter, LogSE float64
	DF               int
	// Method names how the interval was found, for people.
	Method string
	Why    string
}

// None is an estimate without an interval, and why.
func None(v float64, why string) Estimate { return Estimate{Value: v, Why: why} }

// tTable holds Student's t 97.5% quantiles for 1 to 30 degrees of freedom.
var tTable = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// z975 is the standard normal's 97.5% quantile.
const z975 = 1.959964

// TCrit is the 97.5% quantile of Student's t with df degrees of freedom
// (the two-sided 95% critical value); df <= 0 means the normal's.
func TCrit(df int) float64 {
	switch {
	case df <= 0:
		return z975
	case df <= len(tTable):
		return tTable[df-1]
	}
	// Cornish-Fisher expansion, within 0.001 of the exact value past 30.
	z, n := z975, float64(df)
	return z + (z*z*z+z)/(4*n) + (5*math.Pow(z, 5)+16*z*z*z+3*z)/(96*n*n)
}

// Median of xs (not changed); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// meanSD is the mean and the sample standard deviation of xs.
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// MinTrials is the fewest trials an interval is computed over.
const MinTrials = 3

// Trials is the interval over K independent trials' values (K >= 3, all
// above 0): a t-interval with K-1 degrees of freedom on their logs, that
// is around their geometric mean. Value is their median.
func Trials(values []float64) Estimate {
	e := Estimate{Value: Median(values)}
	if len(values) < MinTrials {
		e.Why = fmt.Sprintf("%d trials: an interval over trials needs %d or more", len(values), MinTrials)
		return e
	}
	logs := make([]float64, len(values))
	for i, v := range values {
		if !(v > 0) || math.IsInf(v, 0) {
			e.Why = fmt.Sprintf("trial %d measured %g: an interval needs values above 0", i+1, v)
			return e
		}
		logs[i] = math.Log(v)
	}
	m, sd := meanSD(logs)
	e.OK, e.LogCenter, e.LogSE, e.DF = true, m, sd/math.Sqrt(float64(len(logs))), len(logs)-1
	e.Lo, e.Hi = e.bounds()
	e.Method = fmt.Sprintf("t over %d trials", len(values))
	return e
}

// bounds are the interval's ends from its log centre and error.
func (e Estimate) bounds() (lo, hi float64) {
	w := TCrit(e.DF) * e.LogSE
	return math.Exp(e.LogCenter - w), math.Exp(e.LogCenter + w)
}

// Contains reports whether the interval holds v.
func (e Estimate) Contains(v float64) bool { return e.OK && e.Lo <= v && v <= e.Hi }

// Package analyze holds inferbench's judgement as pure functions: the field
// guide's warmup sizes, error-rate bands and concurrency warnings, the
// ratios that compare a load level with its baseline, the search policy,
// and Judge, which recomputes a result file's whole judgement from its
// measurements and facts whenever a report is rendered (judge.go draws the
// line between facts and judgement). It knows no network.
package analyze

import (
	"fmt"
	"math"
)

// Warmup counts from the field guide.
const (
	WarmupMin = 5
	WarmupMax = 10
)

// WarmupRequests is the field guide's warmup for a run of n measured
// requests: min(10, max(5, n/20)), so 50 requests warm up with 5 and 1000
// with 10. A run bounded by duration (n = 0) counts as a long run and
// warms up with the maximum, 10: its length is not known in requests, and
// any run of 200 requests or more gets 10 too.
func WarmupRequests(n int) int {
	if n <= 0 {
		return WarmupMax
	}
	return min(WarmupMax, max(WarmupMin, n/20))
}

// Band is an error-rate band from the field guide with its advice.
type Band struct {
	Name   string
	Advice string
}

// The field guide's error-rate bands.
var (
	BandExcellent  = Band{"excellent", "no action needed"}
	BandGood       = Band{"good", "acceptable; watch for timeouts as load grows"}
	BandMarginal   = Band{"marginal", "errors are significant: reduce concurrency"}
	BandPoor       = Band{"poor", "too many errors: reduce concurrency"}
	BandOverloaded = Band{"overloaded", "system overloaded: use 50% of this concurrency"}
)

// ErrorBand places an error rate (0..1) in the field guide's bands:
// 0-5% excellent, 5-10% good, 10-20% marginal, 20-50% poor, over 50%
// overloaded. A boundary belongs to the better band (exactly 5% is
// excellent).
func ErrorBand(rate float64) Band {
	switch {
	case rate <= 0.05:
		return BandExcellent
	case rate <= 0.10:
		return BandGood
	case rate <= 0.20:
		return BandMarginal
	case rate <= 0.50:
		return BandPoor
	default:
		return BandOverloaded
	}
}

// Concurrency zones from the field guide.
const (
	ConcurrencyWarnAbove     = 50
	ConcurrencyBreakingPoint = 64
)

// ConcurrencyWarning is the field guide's warning for a concurrency level,
// or "" when there is nothing to say.
func ConcurrencyWarning(c int) string {
	switch {
	case c > ConcurrencyBreakingPoint:
		return fmt.Sprintf("concurrency %d is in the breaking-point zone (above %d): expect saturation, timeouts and warmup failures; 8-16 is the realistic range for most benchmarks", c, ConcurrencyBreakingPoint)
	case c > ConcurrencyWarnAbove:
		return fmt.Sprintf("concurrency %d is above %d, a stress level: expect heavy queueing and errors; 8-16 is the realistic range for most benchmarks", c, ConcurrencyWarnAbove)
	}
	return ""
}

// Ratio is value / baseline rounded to two decimals, or 0 when either is
// missing (no baseline, or nothing measured).
func Ratio(value, baseline float64) float64 {
	if baseline <= 0 || value <= 0 {
		return 0
	}
	return math.Round(value/baseline*100) / 100
}

// Self-check thresholds: the client probably limited the result when it
// used this share of the machine's CPU, or sent more than this share of
// its open-loop requests late.
const (
	ClientCPUShareLimit = 0.80
	LateSendShareLimit  = 0.01
)

// ClientLimit says why the load generator itself probably limited a
// result, or "" when nothing suggests it: CPU near what the machine has
// (cpuPercent is of one core), or more than 1% of the sends late.
func ClientLimit(cpuPercent float64, cores int, late, sent int64) string {
	if cores > 0 && cpuPercent >= ClientCPUShareLimit*100*float64(cores) {
		return fmt.Sprintf("the client used %.0f%% CPU of the machine's %d cores: it, not the server, probably limited this result", cpuPercent, cores)
	}
	if sent > 0 && float64(late) > LateSendShareLimit*float64(sent) {
		return fmt.Sprintf("%d of %d sends (%.1f%%) left more than 2 ms after their intended time: the client could not keep the schedule, so the load was lower than asked", late, sent, 100*float64(late)/float64(sent))
	}
	return ""
}

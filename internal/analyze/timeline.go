package analyze

import (
	"fmt"
	"math"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// Rules read from a run's timeline (result schema v2; a v1 run has none,
// and none of these rules applies to it).
//
// A stall: some interval's longest silence (measure.Interval.MaxSilenceMs:
// no request answered while some were in flight) lasted at least
// StallMinSilence and at least StallP50Factor times the run's p50. The
// longest such silence is reported. A silence is measured between samples
// about 100 ms apart (the last that saw an answer, the last that saw
// none), so it lasted between MaxSilenceMs and 200 ms more: the rule takes
// it as MaxSilenceMs + 100 ms, to the nearest tenth of a second (the
// resolution it has; a stall of exactly a second, --stall-for 1s, is
// measured 0.9 s, give or take the sampler's jitter, and is a stall).
//
// A throughput drift: over the run's whole intervals (a second each, or
// longer past an hour; the partial first and last are left out), the
// successes per second of the last third differ from those of the first
// third by more than DriftLimit. A run with fewer than DriftMinIntervals
// whole intervals, or none answered in its first third, is not judged.
const (
	StallMinSilence   = time.Second
	StallP50Factor    = 3
	DriftLimit        = 0.20
	DriftMinIntervals = 6
)

// silenceSampleMs is how often the load generator looks for answers, and
// so the resolution of an interval's MaxSilenceMs.
const silenceSampleMs = 100

// StallFact is a stall seen in a run's timeline.
type StallFact struct {
	// AtS is when the silence began, in seconds from the run's start (to
	// the timeline's resolution: about a tenth of a second when the
	// silence spans an interval's end, else within its interval).
	AtS float64
	// ForS is how long no request was answered.
	ForS float64
	// InFlight is the requests in flight during the silence (the most
	// counted at an interval's end within it).
	InFlight int64
	// ThresholdS is the silence the rule required: the larger of
	// StallMinSilence and StallP50Factor × p50.
	ThresholdS float64
}

// Note is the stall as a report writes it.
func (s StallFact) Note() string {
	return fmt.Sprintf("stall: no answer for %.1f s at %.1f s into the run with %d %s in flight (a silence of at least %s and %dx p50 is a stall)",
		s.ForS, s.AtS, s.InFlight, plural(s.InFlight, "request", "requests"), seconds(s.ThresholdS), StallP50Factor)
}

// DriftFact is a throughput drift seen in a run's timeline.
type DriftFact struct {
	// FirstRPS and LastRPS are the successes per second of the first and
	// the last third of the run's whole intervals.
	FirstRPS, LastRPS float64
	// Change is (LastRPS - FirstRPS) / FirstRPS: -0.27 for a 27% fall.
	Change float64
	// Intervals is the whole intervals compared (a third of them each).
	Intervals int
}

// Note is the drift as a report writes it.
func (d DriftFact) Note() string {
	sign := "+"
	if d.Change < 0 {
		sign = "−"
	}
	return fmt.Sprintf("throughput drifted %s%.0f%% from the first third to the last (%.0f → %.0f req/s)",
		sign, math.Abs(100*d.Change), d.FirstRPS, d.LastRPS)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func seconds(s float64) string {
	return fmt.Sprintf("%g s", math.Round(s*1000)/1000)
}

// RunStart is the origin of a run's timeline: the start of its measured
// phase, or of its first interval in a file that lacks it. ok is false for
// a run without a timeline.
func RunStart(r *result.Run) (time.Time, bool) {
	if len(r.Timeline) == 0 {
		return time.Time{}, false
	}
	if r.Started != nil && !r.Started.After(r.Timeline[0].Start) {
		return *r.Started, true
	}
	return r.Timeline[0].Start, true
}

// Stall finds the longest silence of r's timeline and reports it when it
// is a stall (see the rules above).
func Stall(r *result.Run) (*StallFact, bool) {
	origin, ok := RunStart(r)
	if !ok {
		return nil, false
	}
	tl := r.Timeline
	k := -1
	for i := range tl {
		if tl[i].MaxSilenceMs > 0 && (k < 0 || tl[i].MaxSilenceMs > tl[k].MaxSilenceMs) {
			k = i
		}
	}
	if k < 0 {
		return nil, false
	}
	silenceMs := math.Round((tl[k].MaxSilenceMs+silenceSampleMs)/silenceSampleMs) * silenceSampleMs
	thresholdMs := math.Max(float64(StallMinSilence.Milliseconds()), StallP50Factor*r.LatencyMs.P50)
	if silenceMs < thresholdMs {
		return nil, false
	}
	// The silence ended during interval k. When it also covered the end
	// of the interval before (whose MaxSilenceMs, sampled at that end,
	// says how long it had lasted then), it began that long before k's
	// start; otherwise it lay within k, whose start bounds its beginning.
	iv := tl[k]
	begin, spans := iv.Start, false
	if k > 0 {
		prev := tl[k-1].MaxSilenceMs
		if prev > 0 && prev <= tl[k].MaxSilenceMs && tl[k].MaxSilenceMs-prev <= 1000*iv.DurationS+silenceSampleMs {
			begin, spans = iv.Start.Add(-ms(prev)), true
		}
	}
	if m := tl[k].MaxSilenceMs; !spans && m > 1000*iv.DurationS {
		begin = iv.End().Add(-ms(m)) // longer than k: it began before, unseen
	}
	if begin.Before(origin) {
		begin = origin
	}
	// In flight during the silence: as counted at the ends of the
	// intervals that ended within it, else at the end of k.
	end := begin.Add(ms(silenceMs))
	inFlight := int64(-1)
	for j := k - 1; j >= 0 && !tl[j].End().Before(begin); j-- {
		if !tl[j].End().After(end) {
			inFlight = max(inFlight, tl[j].InFlight)
		}
	}
	if inFlight < 0 {
		inFlight = iv.InFlight
	}
	return &StallFact{
		AtS:        round1(begin.Sub(origin).Seconds()),
		ForS:       round1(silenceMs / 1000),
		InFlight:   inFlight,
		ThresholdS: thresholdMs / 1000,
	}, true
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// wholeIntervals are the timeline's intervals of at least a second: all but
// a partial first and last.
func wholeIntervals(tl []measure.Interval) []measure.Interval {
	var out []measure.Interval
	for _, iv := range tl {
		if iv.DurationS >= 0.999 {
			out = append(out, iv)
		}
	}
	return out
}

// Drift compares the throughput of the first and last thirds of r's whole
// intervals and reports a change of more than DriftLimit.
func Drift(r *result.Run) (*DriftFact, bool) {
	whole := wholeIntervals(r.Timeline)
	n := len(whole)
	if n < DriftMinIntervals {
		return nil, false
	}
	rate := func(ivs []measure.Interval) float64 {
		var ok int64
		var s float64
		for _, iv := range ivs {
			ok += iv.OK
			s += iv.DurationS
		}
		return float64(ok) / s
	}
	third := n / 3
	first, last := rate(whole[:third]), rate(whole[n-third:])
	if first == 0 {
		return nil, false
	}
	change := (last - first) / first
	if math.Abs(change) <= DriftLimit {
		return nil, false
	}
	return &DriftFact{FirstRPS: first, LastRPS: last, Change: change, Intervals: n}, true
}

// TimelineNotes are the notes the timeline rules give a run: its stall and
// its drift, if any.
func TimelineNotes(r *result.Run) []string {
	var notes []string
	if s, ok := Stall(r); ok {
		notes = append(notes, s.Note())
	}
	if d, ok := Drift(r); ok {
		notes = append(notes, d.Note())
	}
	return append(notes, ScalingNotes(r)...)
}

package analyze

import (
	"fmt"
	"math"
	"sort"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// LatencyBackFactor is how close to its level before a change the
// per-second p50 must come for latency to be "back": within 1.5x.
const LatencyBackFactor = 1.5

// ScaleUpFact is a scale-up seen in a step: from the load change to the
// first replica made ready after it, to the replicas all ready, and to the
// per-second p50 back within LatencyBackFactor of its level.
type ScaleUpFact struct {
	ChangeAtS   float64 // the load change, in seconds from the run's start
	From, To    int     // ready replicas at the change, and at most after it
	FirstReadyS float64 // change -> first new replica ready
	AllReadyS   float64 // change -> To replicas ready; -1 if never
	// LatencyBackS is change -> the end of the first second, after the
	// worst, whose p50 is within LatencyBackFactor x BaselineMs; 0 when
	// latency never left it, -1 when it never came back.
	LatencyBackS float64
	BaselineMs   float64
}

// Note is the scale-up as a report writes it.
func (f ScaleUpFact) Note() string {
	back := "latency never left 1.5x its level"
	switch {
	case f.LatencyBackS < 0:
		back = fmt.Sprintf("p50 not back within 1.5x of %.1f ms by the end", f.BaselineMs)
	case f.LatencyBackS > 0:
		back = fmt.Sprintf("p50 back within 1.5x of %.1f ms after %.1f s", f.BaselineMs, f.LatencyBackS)
	}
	all := ""
	if f.AllReadyS >= 0 && f.AllReadyS != f.FirstReadyS {
		all = fmt.Sprintf(", all %d ready after %.1f s", f.To, f.AllReadyS)
	}
	return fmt.Sprintf("scale-up: %d → %d replicas; first new replica ready %.1f s after the load change%s; %s",
		f.From, f.To, f.FirstReadyS, all, back)
}

// ScaleUp finds the first replica made ready after a load change at
// changeAtS (seconds from the run's start) and measures the lag; false
// when no replica became ready after it. baselineMs is the p50 before
// the change; the timeline gives the per-second p50 after it.
func ScaleUp(s *result.Scaling, tl []measure.Interval, changeAtS, baselineMs float64) (ScaleUpFact, bool) {
	if s == nil {
		return ScaleUpFact{}, false
	}
	f := ScaleUpFact{ChangeAtS: changeAtS, FirstReadyS: -1, AllReadyS: -1, BaselineMs: baselineMs}
	// The ready replicas at the change: the last record by then, else the
	// first (the end of the change's own second).
	for i, sec := range s.Seconds {
		if i == 0 || float64(sec.Second+1) <= changeAtS {
			f.From = sec.Ready
		}
		if float64(sec.Second+1) > changeAtS {
			f.To = max(f.To, sec.Ready)
		}
	}
	var readies []float64
	for _, e := range s.Events {
		if e.Kind == result.ScaleReady && e.AtS > changeAtS {
			readies = append(readies, e.AtS)
		}
	}
	if len(readies) == 0 {
		return ScaleUpFact{}, false
	}
	sort.Float64s(readies)
	f.FirstReadyS = readies[0] - changeAtS
	f.To = max(f.To, f.From+len(readies))
	if n := f.To - f.From; n > 0 && n <= len(readies) {
		f.AllReadyS = readies[n-1] - changeAtS
	}
	f.LatencyBackS = latencyBack(tl, changeAtS, baselineMs)
	return f, true
}

// latencyBack is the time from at to the end of the first second after
// the worst one past at whose p50 is within LatencyBackFactor x base.
func latencyBack(tl []measure.Interval, at, base float64) float64 {
	if base <= 0 || len(tl) == 0 {
		return -1
	}
	limit := base * LatencyBackFactor
	worst, worstP := -1, 0.0
	end := 0.0
	ends := make([]float64, len(tl))
	for i, iv := range tl {
		end += iv.DurationS
		ends[i] = end
		if end <= at || iv.LatencyMs == nil {
			continue
		}
		if p := iv.LatencyMs.P50; p > limit && p > worstP {
			worst, worstP = i, p
		}
	}
	if worst < 0 {
		return 0
	}
	for i := worst + 1; i < len(tl); i++ {
		if q := tl[i].LatencyMs; q != nil && q.P50 <= limit {
			return ends[i] - at
		}
	}
	return -1
}

// ColdStartFact is a scale-from-zero seen at a step's start: no replica
// ready when the run began, the time to its first success, and the
// latency of its first requests (the slowest of the first second that
// answered).
type ColdStartFact struct {
	FirstSuccessS  float64
	FirstLatencyMs float64
}

// Note is the cold start as a report writes it.
func (f ColdStartFact) Note() string {
	return fmt.Sprintf("cold start: no replica ready at the start; first success after %.2f s, first requests' latency up to %.0f ms", f.FirstSuccessS, f.FirstLatencyMs)
}

// ColdStart reports a scale-from-zero: the scaling's first record at or
// before the run's start has no replica ready. The first success is the
// earliest first_success event after the start when the source records
// them, else the end of the first timeline second with a success.
func ColdStart(s *result.Scaling, tl []measure.Interval) (ColdStartFact, bool) {
	if s == nil || len(s.Seconds) == 0 || s.Seconds[0].Ready != 0 {
		return ColdStartFact{}, false
	}
	f := ColdStartFact{FirstSuccessS: -1}
	for _, e := range s.Events {
		if e.Kind == result.ScaleFirstSuccess && e.AtS >= 0 && (f.FirstSuccessS < 0 || e.AtS < f.FirstSuccessS) {
			f.FirstSuccessS = e.AtS
		}
	}
	end := 0.0
	for _, iv := range tl {
		end += iv.DurationS
		if iv.OK > 0 {
			if f.FirstSuccessS < 0 {
				f.FirstSuccessS = end
			}
			if iv.LatencyMs != nil {
				f.FirstLatencyMs = iv.LatencyMs.Max
			}
			break
		}
	}
	return f, f.FirstSuccessS >= 0
}

// RecoveryFact is an outage in a step's timeline (a second with errors and
// no success, as during a restart) and the recovery after it.
type RecoveryFact struct {
	OutageAtS     float64 // start of the first second without success
	FirstSuccessS float64 // outage -> end of the next second with a success
	LatencyBackS  float64 // outage -> p50 back within 1.5x; -1 never
	BaselineMs    float64 // p50 of the seconds before the outage
}

// Note is the recovery as a report writes it.
func (f RecoveryFact) Note() string {
	back := "p50 not back within 1.5x by the end"
	if f.LatencyBackS >= 0 {
		back = fmt.Sprintf("p50 back within 1.5x of %.1f ms after %.0f s", f.BaselineMs, f.LatencyBackS)
	}
	return fmt.Sprintf("recovery: no success from %.0f s into the run; first success after %.0f s, %s (to the timeline's second)", f.OutageAtS, f.FirstSuccessS, back)
}

// Recovery finds the first outage after some success (a second that sent
// or answered requests, all failed or unanswered) and the recovery.
func Recovery(tl []measure.Interval) (RecoveryFact, bool) {
	var start float64
	var before []float64
	for i, iv := range tl {
		if iv.OK > 0 {
			if iv.LatencyMs != nil {
				before = append(before, iv.LatencyMs.P50)
			}
			start += iv.DurationS
			continue
		}
		if len(before) == 0 || (errorsIn(iv) == 0 && iv.Sent == 0) {
			start += iv.DurationS
			continue
		}
		f := RecoveryFact{OutageAtS: start, FirstSuccessS: -1, LatencyBackS: -1, BaselineMs: median(before)}
		end := start + iv.DurationS
		for j := i + 1; j < len(tl); j++ {
			end += tl[j].DurationS
			if tl[j].OK > 0 && f.FirstSuccessS < 0 {
				f.FirstSuccessS = end - start
			}
			if q := tl[j].LatencyMs; f.FirstSuccessS >= 0 && q != nil && q.P50 <= f.BaselineMs*LatencyBackFactor {
				f.LatencyBackS = end - start
				break
			}
		}
		return f, f.FirstSuccessS >= 0
	}
	return RecoveryFact{}, false
}

func errorsIn(iv measure.Interval) int64 {
	var n int64
	for _, v := range iv.Errors {
		n += v
	}
	return n
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// ScalingNotes are the notes of a step's scaling: its cold start, its
// scale-up after the load change at its start (the level before it taken
// as the p50 of the run's last third, the load's level once scaled, until
// steps carry the level before), and a recovery after an outage; none
// without a scaling record.
func ScalingNotes(r *result.Run) []string {
	if r.Scaling == nil {
		return nil
	}
	var notes []string
	if c, ok := ColdStart(r.Scaling, r.Timeline); ok {
		notes = append(notes, c.Note())
	} else if f, ok := ScaleUp(r.Scaling, r.Timeline, 0, steadyP50(r.Timeline)); ok {
		notes = append(notes, f.Note())
	}
	if f, ok := Recovery(r.Timeline); ok {
		notes = append(notes, f.Note())
	}
	return notes
}

// steadyP50 is the median per-second p50 of the last third of a timeline.
func steadyP50(tl []measure.Interval) float64 {
	var v []float64
	for _, iv := range tl[len(tl)*2/3:] {
		if iv.LatencyMs != nil {
			v = append(v, iv.LatencyMs.P50)
		}
	}
	if len(v) == 0 {
		return 0
	}
	return median(v)
}

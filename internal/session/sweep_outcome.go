package session

import (
	"fmt"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
)

// finish concludes the search from its history, writes the outcome into
// the search, logs it and saves the file. err, if any, is returned as is
// (a failed checkpoint).
func (s *sweeper) finish(history []analyze.Measured, end analyze.Move, err error) error {
	se := s.search()
	se.End, se.Reason = end.Phase, end.Reason
	switch end.Phase {
	case result.SearchInterrupted:
		se.Status = result.SearchInterrupted
	case "baseline failed":
		se.Status = result.SearchBaselineFailed
	default:
		se.Status = result.SearchComplete
	}
	out := analyze.Conclude(s.o.Objective, history, end.Reason)
	rate := s.o.Mode == result.ModeRate
	if out.SweetSpot != nil {
		p := s.pointAt(out.SweetSpot.Load)
		se.SweetSpot = &p
		se.RecommendedRange = []float64{out.RecommendedLow, out.RecommendedHigh}
	}
	if out.Breaking != nil {
		p := s.pointAt(out.Breaking.Load)
		se.BreakingPoint = &p
	}
	if len(history) > 0 {
		if rate {
			se.MaxUsefulRate = out.MaxUseful
		} else {
			se.MaxUsefulConcurrency = int(out.MaxUseful)
		}
	}
	s.addNotes(out)
	s.logf("  %s", analyze.SearchSummary(se))
	if err == nil {
		err = s.sess.Save()
	}
	return err
}

// pointAt is the measured level at a load, in short.
func (s *sweeper) pointAt(at float64) result.OperatingPoint {
	for i := len(s.levels) - 1; i >= 0; i-- {
		if lv := s.levels[i]; lv.level.Load == at && (s.o.Mode == result.ModeConcurrency || lv.phase != "baseline") {
			return point(lv.run)
		}
	}
	return result.OperatingPoint{}
}

// addNotes flags what the reader should know: unstable levels, above all
// an unstable sweet spot or breaking point, and why no breaking point was
// met.
func (s *sweeper) addNotes(out analyze.Outcome) {
	se := s.search()
	var unstable []string
	for _, st := range se.Path {
		if !st.Stable {
			unstable = append(unstable, analyze.LevelLabel(st.OperatingPoint))
		}
	}
	if len(unstable) > 0 {
		s.note(fmt.Sprintf("%d of %d levels did not settle (%v): their numbers are less certain", len(unstable), len(se.Path), unstable))
	}
	if sp := se.SweetSpot; sp != nil {
		var top *result.OperatingPoint
		for i := range se.Path {
			if p := &se.Path[i].OperatingPoint; se.Path[i].Passed && (top == nil || p.Concurrency > top.Concurrency || p.Rate > top.Rate) {
				top = p
			}
		}
		if top != nil && (top.Concurrency > sp.Concurrency || top.Rate > sp.Rate) {
			s.note(fmt.Sprintf("%s passes too, with no more throughput (%.1f req/s, within %.0f%% of the best): the sweet spot is the lowest level as good",
				analyze.LevelLabel(*top), top.ThroughputRPS, 100*analyze.SweetSpotTie))
		}
	}
	if sp := se.SweetSpot; sp != nil && !sp.Stable {
		again := fmt.Sprintf("-c %d -d 30s", sp.Concurrency)
		if sp.Rate > 0 {
			again = fmt.Sprintf("--rate %g --arrival poisson -d 30s", sp.Rate)
		}
		s.note(fmt.Sprintf("the sweet spot %s was not stable: confirm it with a longer run (inferbench bench %s)", analyze.LevelLabel(*sp), again))
	}
	if se.BreakingPoint == nil && se.Status == result.SearchComplete {
		s.note("no breaking point met (no level with more than 10% errors or an SLO miss): the search ended by " + se.End)
	}
}

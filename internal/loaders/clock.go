package loaders

import (
	"fmt"
	"time"

	"github.com/inferbench/inferbench/internal/clock"
	"github.com/inferbench/inferbench/internal/result"
)

// ClockCheck compares each loader's clock (files[i].Environment.Clock)
// with the coordinator's, both measured against the same reference:
// Warnings are the loaders whose skew passes threshold beyond the
// estimates' uncertainty (each starts every step that much early or
// late), Summary one line on them all ("" when nothing was measured).
func ClockCheck(coordinator *result.Clock, files []*result.File, threshold time.Duration) (warnings []string, summary string) {
	if coordinator == nil {
		return nil, ""
	}
	ref := estimate(coordinator)
	var worst clock.Skew
	measured, worstAt := 0, -1
	var missing []int
	for i, f := range files {
		if f == nil {
			continue
		}
		if f.Environment == nil || f.Environment.Clock == nil {
			missing = append(missing, i)
			continue
		}
		measured++
		s := clock.CompareSkew(fmt.Sprintf("loader %d", i), ref, estimate(f.Environment.Clock), threshold)
		if s.Over {
			warnings = append(warnings, s.Message)
		}
		if worstAt < 0 || abs(s.Skew) > abs(worst.Skew) {
			worst, worstAt = s, i
		}
	}
	switch {
	case measured == 0:
		summary = "Clocks: no loader measured its clock"
	default:
		dir := "ahead of"
		if worst.Skew < 0 {
			dir = "behind"
		}
		noun := "loaders"
		if measured == 1 {
			noun = "loader"
		}
		summary = fmt.Sprintf("Clocks: %d %s measured against %s; the farthest, loader %d, is %.1f ms %s the coordinator's (±%.1f ms)",
			measured, noun, coordinator.Against, worstAt, float64(abs(worst.Skew))/float64(time.Millisecond), dir, float64(worst.Uncertainty)/float64(time.Millisecond))
	}
	if len(missing) > 0 {
		summary += fmt.Sprintf("; loaders %v did not measure theirs", missing)
	}
	return warnings, summary
}

// ResultClock is an estimate against the reference named against, as a
// results file keeps it (environment.clock); estimate reads it back.
func ResultClock(against string, e clock.Estimate) *result.Clock {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &result.Clock{Against: against, OffsetMs: ms(e.Offset), UncertaintyMs: ms(e.Uncertainty), Probes: e.Probes}
}

func estimate(c *result.Clock) clock.Estimate {
	return clock.Estimate{Offset: time.Duration(c.OffsetMs * float64(time.Millisecond)),
		Uncertainty: time.Duration(c.UncertaintyMs * float64(time.Millisecond)), Probes: c.Probes}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

package analyze

import (
	"fmt"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
)

// LevelLabel is "c=8" or "250/s".
func LevelLabel(p result.OperatingPoint) string {
	if p.Rate > 0 {
		return fmt.Sprintf("%g/s", p.Rate)
	}
	return fmt.Sprintf("c=%d", p.Concurrency)
}

// SearchSummary is one line about a search's outcome.
func SearchSummary(se *result.Search) string {
	if se.Status == result.SearchBaselineFailed {
		return "search ended: " + se.Reason
	}
	line := "no level met the objective"
	if sp := se.SweetSpot; sp != nil {
		line = fmt.Sprintf("sweet spot %s: %.1f req/s, p50 %.2f ms, p99 %.2f ms, %.1f%% errors", LevelLabel(*sp), sp.ThroughputRPS, sp.P50Ms, sp.P99Ms, 100*sp.ErrorRate)
	}
	if se.Mode == result.ModeRate {
		line += fmt.Sprintf("; max useful %g/s", se.MaxUsefulRate)
	} else {
		line += fmt.Sprintf("; max useful c=%d", se.MaxUsefulConcurrency)
	}
	if bp := se.BreakingPoint; bp != nil {
		line += fmt.Sprintf("; breaking point %s (%.1f%% errors, p99 %.2f ms)", LevelLabel(*bp), 100*bp.ErrorRate, bp.P99Ms)
	} else {
		line += "; no breaking point met"
	}
	if r := se.RecommendedRange; len(r) == 2 {
		line += "; recommended " + RangeLabel(se.Mode, r)
	}
	return line + " (" + se.End + ")"
}

// RangeLabel writes a recommended range: "c=4-8", "c=4", "120-250/s".
func RangeLabel(mode string, r []float64) string {
	if len(r) != 2 {
		return "-"
	}
	if mode == result.ModeRate {
		if r[0] == r[1] {
			return fmt.Sprintf("%g/s", r[0])
		}
		return fmt.Sprintf("%g-%g/s", r[0], r[1])
	}
	if r[0] == r[1] {
		return fmt.Sprintf("c=%g", r[0])
	}
	return fmt.Sprintf("c=%g-%g", r[0], r[1])
}

// searchVerdict opens the report of a sweep: each deployment's sweet spot,
// and which has the most throughput there; "" without searches.
func searchVerdict(searches []result.Search) string {
	if len(searches) == 0 {
		return ""
	}
	var parts []string
	best := -1
	for i := range searches {
		sp := searches[i].SweetSpot
		if sp == nil {
			parts = append(parts, searches[i].Deployment.Name+" none")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%.1f req/s, p50 %.2f ms)", searches[i].Deployment.Name, LevelLabel(*sp), sp.ThroughputRPS, sp.P50Ms))
		if best < 0 || sp.ThroughputRPS > searches[best].SweetSpot.ThroughputRPS {
			best = i
		}
	}
	if best < 0 {
		return "FAIL: no level of any deployment met the objective (" + searches[0].Reason + ")"
	}
	if len(searches) == 1 {
		return "OK, sweet spot of " + parts[0]
	}
	return fmt.Sprintf("OK, sweet spots: %s; the most throughput at its sweet spot: %s", strings.Join(parts, ", "), searches[best].Deployment.Name)
}

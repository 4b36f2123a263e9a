package report

import (
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// TestTimelineShowsTheStagesTarget: a run in stages draws its target
// beside the throughput (rate) or the in-flight requests (concurrency).
func TestTimelineShowsTheStagesTarget(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tl []measure.Interval
	for i := range 3 {
		tl = append(tl, measure.Interval{Start: start.Add(time.Duration(i) * time.Second), DurationS: 1, Sent: 10, OK: 10, Target: float64(10 * (i + 1))})
	}
	for _, mode := range []string{result.ModeRate, result.ModeConcurrency} {
		r := &result.Run{Load: result.Load{Mode: mode}, Timeline: tl, Started: &start}
		panels := timelineSeries(r, "#0072B2")
		at := map[string]int{result.ModeRate: 0, result.ModeConcurrency: 2}[mode]
		last := panels[at].series[len(panels[at].series)-1]
		if last.name != "target" || len(last.points) != 3 || last.points[2].y != 30 || !strings.Contains(panels[at].title, "target") {
			t.Errorf("%s: panel %q series %+v", mode, panels[at].title, last)
		}
	}
	r := &result.Run{Load: result.Load{Mode: result.ModeRate}, Timeline: []measure.Interval{{Start: start, DurationS: 1, Sent: 1}}, Started: &start}
	for _, p := range timelineSeries(r, "#0072B2") {
		for _, s := range p.series {
			if s.name == "target" {
				t.Error("a run without stages draws a target")
			}
		}
	}
}

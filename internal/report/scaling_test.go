package report

import (
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// TestTimelineShowsReplicas: a run with a scaling record gets a replicas
// panel (ready and desired) and a marker per replica made ready, and its
// scale-up note.
func TestTimelineShowsReplicas(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &result.Run{Deployment: result.Deployment{Name: "auto"}, Started: &t0}
	for i, p := range []float64{20, 200, 400, 500, 450, 300, 60, 25} {
		r.Timeline = append(r.Timeline, measure.Interval{Start: t0.Add(time.Duration(i) * time.Second), DurationS: 1, Sent: 300, OK: 300,
			LatencyMs: &measure.Quantiles{P50: p, P90: p, P99: p, Max: p}})
	}
	r.Scaling = &result.Scaling{Source: "refserver pod auto", Seconds: []result.ScaleSecond{{Second: 0, Desired: 1, Ready: 1}, {Second: 3, Desired: 4, Ready: 1}, {Second: 5, Desired: 4, Ready: 4}},
		Events: []result.ScaleEvent{{AtS: 3.1, Kind: result.ScaleCreated, Replica: "auto-2"}, {AtS: 5.1, Kind: result.ScaleReady, Replica: "auto-2"}}}
	html := timelineFigure("t", r, "#0072B2")
	for _, want := range []string{`data-series="ready replicas"`, `data-series="desired replicas"`, `class="scale-event"`, `data-at="5.1"`, "replica auto-2 ready at 5.10 s", "scale-up: 1 → 4 replicas; first new replica ready 5.1 s"} {
		if !strings.Contains(html, want) {
			t.Errorf("figure lacks %q", want)
		}
	}
	if n := strings.Count(html, `class="scale-event"`); n != 1 {
		t.Errorf("%d event markers, want 1 (created is not marked)", n)
	}
}

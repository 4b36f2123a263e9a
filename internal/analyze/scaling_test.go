package analyze

import (
	"math"
	"testing"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// secs is a timeline of one-second intervals with these p50s (0: no
// success in that second, with errors).
func secs(p50s ...float64) []measure.Interval {
	out := make([]measure.Interval, len(p50s))
	for i, p := range p50s {
		out[i] = measure.Interval{DurationS: 1, Sent: 10}
		if p > 0 {
			out[i].OK = 10
			out[i].LatencyMs = &measure.Quantiles{P50: p, Max: 2 * p}
		} else {
			out[i].Errors = map[string]int64{"connection": 10}
		}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScaleUp(t *testing.T) {
	ready := func(at ...float64) []result.ScaleEvent {
		var ev []result.ScaleEvent
		for i, a := range at {
			ev = append(ev, result.ScaleEvent{AtS: a, Kind: result.ScaleReady, Replica: string(rune('a' + i))})
		}
		return ev
	}
	scaled := &result.Scaling{Seconds: []result.ScaleSecond{{Second: -1, Desired: 1, Ready: 1}, {Second: 0, Desired: 1, Ready: 1}, {Second: 5, Desired: 4, Ready: 4}},
		Events: append(ready(-30), ready(5.1, 5.1, 5.2)...)}
	for _, tc := range []struct {
		name      string
		s         *result.Scaling
		tl        []measure.Interval
		base      float64
		ok        bool
		first     float64
		all, back float64
		from, to  int
	}{
		{"lag to the first new replica, all ready, latency back", scaled, secs(20, 80, 200, 400, 500, 300, 25, 20), 20, true, 5.1, 5.2, 7, 1, 4},
		{"latency never left", scaled, secs(20, 25, 29), 20, true, 5.1, 5.2, 0, 1, 4},
		{"latency never back", scaled, secs(20, 80, 200), 20, true, 5.1, 5.2, -1, 1, 4},
		{"no replica ready after the change", &result.Scaling{Events: ready(-3)}, secs(20), 20, false, 0, 0, 0, 0, 0},
		{"no scaling", nil, secs(20), 20, false, 0, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ScaleUp(tc.s, tc.tl, 0, tc.base)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if !near(f.FirstReadyS, tc.first) || !near(f.AllReadyS, tc.all) || !near(f.LatencyBackS, tc.back) || f.From != tc.from || f.To != tc.to {
				t.Errorf("got %+v, want first %v all %v back %v, %d -> %d", f, tc.first, tc.all, tc.back, tc.from, tc.to)
			}
			if f.Note() == "" {
				t.Error("empty note")
			}
		})
	}
}

func TestColdStart(t *testing.T) {
	zero := []result.ScaleSecond{{Second: 0, Desired: 1, Ready: 0}, {Second: 1, Desired: 1, Ready: 1}}
	for _, tc := range []struct {
		name        string
		s           *result.Scaling
		tl          []measure.Interval
		ok          bool
		first, late float64
	}{
		{"from the first_success event", &result.Scaling{Seconds: zero, Events: []result.ScaleEvent{{AtS: 2.04, Kind: result.ScaleFirstSuccess, Replica: "r"}}}, append([]measure.Interval{{DurationS: 1, Sent: 5}}, secs(1020, 20)...), true, 2.04, 2040},
		{"from the timeline without events", &result.Scaling{Seconds: zero}, append([]measure.Interval{{DurationS: 1, Sent: 5}}, secs(1020)...), true, 2, 2040},
		{"a replica ready at the start", &result.Scaling{Seconds: []result.ScaleSecond{{Second: 0, Desired: 1, Ready: 1}}}, secs(20), false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := ColdStart(tc.s, tc.tl)
			if ok != tc.ok || (ok && (!near(f.FirstSuccessS, tc.first) || !near(f.FirstLatencyMs, tc.late))) {
				t.Errorf("got %+v %v, want first %v latency %v ok %v", f, ok, tc.first, tc.late, tc.ok)
			}
		})
	}
}

func TestRecovery(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tl        []measure.Interval
		ok        bool
		at, first float64
		back      float64
	}{
		{"restart: 3 s down, slow then back", secs(20, 22, 0, 0, 0, 90, 25), true, 2, 4, 5},
		{"never back", secs(20, 0, 0), false, 0, 0, 0},
		{"no outage", secs(20, 22, 21), false, 0, 0, 0},
		{"failing from the start is not a recovery", secs(0, 0, 20), false, 0, 0, 0},
		{"first success but latency never back", secs(20, 0, 90, 95), true, 1, 2, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := Recovery(tc.tl)
			if ok != tc.ok || (ok && (!near(f.OutageAtS, tc.at) || !near(f.FirstSuccessS, tc.first) || !near(f.LatencyBackS, tc.back))) {
				t.Errorf("got %+v %v, want at %v first %v back %v ok %v", f, ok, tc.at, tc.first, tc.back, tc.ok)
			}
		})
	}
}

package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// sec is one interval of a timeline: its offset and length in seconds from
// t0, successes, in flight at its end and longest silence.
type sec struct {
	at, dur   float64
	ok, fly   int64
	silenceMs float64
}

func timelineRun(p50 float64, secs ...sec) *result.Run {
	r := &result.Run{Status: result.StatusOK, LatencyMs: measure.Latency{P50: p50}}
	started := t0
	r.Started = &started
	for _, s := range secs {
		r.Timeline = append(r.Timeline, measure.Interval{Start: t0.Add(time.Duration(s.at * float64(time.Second))),
			DurationS: s.dur, OK: s.ok, Sent: s.ok, InFlight: s.fly, MaxSilenceMs: s.silenceMs})
	}
	return r
}

// steady is n whole seconds after a partial first one of 0.4 s, ok
// answers each, 4 in flight, no silence.
func steady(n int, ok int64) []sec {
	out := []sec{{at: 0, dur: 0.4, ok: ok / 3, fly: 4}}
	for i := 0; i < n; i++ {
		out = append(out, sec{at: 0.4 + float64(i), dur: 1, ok: ok, fly: 4})
	}
	return out
}

func TestStall(t *testing.T) {
	spanning := steady(6, 100)
	// A 1.5 s silence from 2.8 s (0.6 s before the boundary at 3.4 s) to
	// 4.3 s: the interval ending at 3.4 s saw 600 ms of it, the next all
	// (measured 1.4 s: the last sample that saw an answer is up to 100 ms
	// after it, the last that saw none up to 100 ms before the next).
	spanning[3].silenceMs, spanning[3].ok = 600, 40
	spanning[4].silenceMs, spanning[4].ok, spanning[4].fly = 1400, 60, 5
	long := steady(8, 100)
	// 2.5 s of silence from 3.1 s: three intervals see 300, 1300, 2300,
	// and the fourth (where it ends, at 5.6 s) 2400 ms.
	long[3].silenceMs, long[4].silenceMs, long[5].silenceMs, long[6].silenceMs = 300, 1300, 2300, 2400
	long[4].ok, long[5].ok, long[4].fly, long[5].fly = 0, 0, 7, 8
	inside := steady(6, 100)
	inside[2].silenceMs = 900 // a second within the interval from 1.4 s
	unseen := steady(6, 100)
	unseen[2].silenceMs = 1100 // longer than its interval, nothing before: from 2.4-1.1 s
	for _, tc := range []struct {
		name string
		run  *result.Run
		want *StallFact
	}{
		{"no timeline (v1)", &result.Run{LatencyMs: measure.Latency{P50: 5}}, nil},
		{"short silences", timelineRun(5, steady(6, 100)...), nil},
		{"a silence across an interval's end", timelineRun(5, spanning...), &StallFact{AtS: 2.8, ForS: 1.5, InFlight: 4, ThresholdS: 1}},
		{"under 3x p50 is no stall", timelineRun(600, spanning...), nil},
		{"exactly 3x p50 is", timelineRun(500, spanning...), &StallFact{AtS: 2.8, ForS: 1.5, InFlight: 4, ThresholdS: 1.5}},
		{"over several intervals: the most in flight during it", timelineRun(5, long...), &StallFact{AtS: 3.1, ForS: 2.5, InFlight: 8, ThresholdS: 1}},
		{"within one interval", timelineRun(5, inside...), &StallFact{AtS: 1.4, ForS: 1, InFlight: 4, ThresholdS: 1}},
		{"longer than its interval, unseen before", timelineRun(5, unseen...), &StallFact{AtS: 1.3, ForS: 1.2, InFlight: 4, ThresholdS: 1}},
		{"a second, the sampler late", timelineRun(1, sec{at: 0, dur: 1, ok: 10, fly: 1}, sec{at: 1, dur: 1, ok: 10, fly: 1, silenceMs: 851}), &StallFact{AtS: 1, ForS: 1, InFlight: 1, ThresholdS: 1}},
		{"under a second", timelineRun(1, sec{at: 0, dur: 1, ok: 10, fly: 1}, sec{at: 1, dur: 1, ok: 10, fly: 1, silenceMs: 849}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Stall(tc.run)
			if ok != (tc.want != nil) {
				t.Fatalf("Stall = %+v, %v; want %+v", got, ok, tc.want)
			}
			if ok && *got != *tc.want {
				t.Errorf("Stall = %+v, want %+v", *got, *tc.want)
			}
		})
	}
}

func TestDrift(t *testing.T) {
	falling := steady(9, 600)
	for i := 7; i <= 9; i++ {
		falling[i].ok = 450
	}
	rising := steady(6, 100)
	rising[5].ok, rising[6].ok = 130, 130
	slight := steady(6, 100)
	slight[5].ok, slight[6].ok = 120, 120 // +20%: not more than the limit
	coldStart := steady(6, 100)
	coldStart[1].ok, coldStart[2].ok = 0, 0
	// Partial seconds do not count: with them, the first third would be
	// 100 answers in 1.9 s, the last 100 in 1.2 s (+58%).
	partials := steady(6, 100)
	partials[0].ok, partials[0].dur = 0, 0.9
	partials = append(partials, sec{at: 6.4, dur: 0.2})
	for _, tc := range []struct {
		name   string
		run    *result.Run
		change float64 // 0: no drift
		first  float64
		last   float64
	}{
		{"no timeline (v1)", &result.Run{}, 0, 0, 0},
		{"steady", timelineRun(5, steady(9, 600)...), 0, 0, 0},
		{"falling by a quarter", timelineRun(5, falling...), -0.25, 600, 450},
		{"rising by 30%", timelineRun(5, rising...), 0.3, 100, 130},
		{"20% is within the limit", timelineRun(5, slight...), 0, 0, 0},
		{"fewer than 6 whole seconds", timelineRun(5, steady(5, 100)...), 0, 0, 0},
		{"nothing answered in the first third", timelineRun(5, coldStart...), 0, 0, 0},
		{"partial seconds are left out", timelineRun(5, partials...), 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Drift(tc.run)
			if ok != (tc.change != 0) {
				t.Fatalf("Drift = %+v, %v; want a change of %v", got, ok, tc.change)
			}
			if !ok {
				return
			}
			if diff := got.Change - tc.change; diff > 1e-9 || diff < -1e-9 || got.FirstRPS != tc.first || got.LastRPS != tc.last {
				t.Errorf("Drift = %+v, want %v%% (%v -> %v)", *got, 100*tc.change, tc.first, tc.last)
			}
		})
	}
}

func TestTimelineNotesReachTheJudgement(t *testing.T) {
	run := timelineRun(5, steady(9, 600)...)
	for i := 7; i <= 9; i++ {
		run.Timeline[i].OK = 444
	}
	run.Timeline[4].MaxSilenceMs, run.Timeline[5].MaxSilenceMs = 900, 1400
	run.Counts = result.Counts{Sent: 100, OK: 100}
	j := JudgeRun(run, nil, nil)
	want := []string{
		"stall: no answer for 1.5 s at 3.5 s into the run with 4 requests in flight (a silence of at least 1 s and 3x p50 is a stall)",
		"throughput drifted −26% from the first third to the last (600 → 444 req/s)",
	}
	if strings.Join(j.Notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(j.Notes, "\n"), strings.Join(want, "\n"))
	}
	// Recognised as judgement, not facts, in a file with no facts apart.
	run.Assessment.Notes = append([]string{"a fact"}, want...)
	if f := FactsOf(run); len(f.Notes) != 1 || f.Notes[0] != "a fact" {
		t.Errorf("facts: %q", f.Notes)
	}
}

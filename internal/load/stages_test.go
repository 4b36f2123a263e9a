package load

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestStagedPacerDue(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		stages []Stage
		start  float64
		hits   uint64
		want   time.Duration
	}{
		{"held: i/rate", []Stage{{time.Second, 100, true}}, 0, 7, 70 * ms},
		{"first at once", []Stage{{2 * time.Second, 100, false}}, 0, 0, 0},
		// 0 -> 100/s over 2 s: N(t) = 25 t^2
		{"ramp from 0, N=25", []Stage{{2 * time.Second, 100, false}}, 0, 25, time.Second},
		{"ramp from 0, N=100", []Stage{{2 * time.Second, 100, false}}, 0, 100, 2 * time.Second},
		{"ramp from 0, N=1", []Stage{{2 * time.Second, 100, false}}, 0, 1, 200 * ms},
		// from the start rate 100 to 300 over 1 s: N(t) = 100 t + 100 t^2; N(0.5) = 75
		{"ramp from start", []Stage{{time.Second, 300, false}}, 100, 75, 500 * ms},
		// 300 -> 100 over 1 s: N(t) = 300 t - 100 t^2; N(0.5) = 125, N(1) = 200
		{"ramp down", []Stage{{time.Second, 300, true}, {time.Second, 100, false}}, 0, 300 + 125, 1500 * ms},
		{"ramp down end", []Stage{{time.Second, 300, true}, {time.Second, 100, false}}, 0, 500, 2 * time.Second},
		// after the stages the last target holds
		{"after the end", []Stage{{time.Second, 100, true}}, 0, 150, 1500 * ms},
		{"ends at 0: never", []Stage{{time.Second, 100, true}, {time.Second, 0, true}}, 0, 101, Never},
		{"ends at 0: the last", []Stage{{time.Second, 100, true}, {time.Second, 0, true}}, 0, 99, 990 * ms},
		// a pause at 0 in the middle: requests resume after it
		{"pause", []Stage{{time.Second, 10, true}, {time.Second, 0, true}, {time.Second, 10, true}}, 0, 11, 2100 * ms},
	}
	for _, tt := range tests {
		p, err := NewStagedPacer(tt.stages, tt.start, false, 1)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := p.Due(tt.hits); got != tt.want {
			t.Errorf("%s: Due(%d) = %v, want %v", tt.name, tt.hits, got, tt.want)
		}
	}
}

// rampStages is the acceptance ramp: 100 -> 400/s over 10 s, then held 10 s.
var rampStages = []Stage{{10 * time.Second, 400, false}, {10 * time.Second, 400, true}}

// perSecond counts the pacer's sends in each second of d.
func perSecond(p Pacer, d time.Duration) []int {
	counts := make([]int, int(d/time.Second))
	for i := uint64(0); ; i++ {
		due := p.Due(i)
		if due >= d {
			return counts
		}
		counts[due/time.Second]++
	}
}

// TestStagedRampFollowsTheTarget is the acceptance over the pacer alone:
// from the second second on, each second's sends are within 3% of the
// target's integral over it.
func TestStagedRampFollowsTheTarget(t *testing.T) {
	for _, poisson := range []bool{false} {
		p, err := NewStagedPacer(rampStages, 100, poisson, 7)
		if err != nil {
			t.Fatal(err)
		}
		for s, got := range perSecond(p, 20*time.Second) {
			lo, hi := StageTarget(rampStages, 100, time.Duration(s)*time.Second), StageTarget(rampStages, 100, time.Duration(s+1)*time.Second)
			want := (lo + hi) / 2
			if s >= 1 && math.Abs(float64(got)-want) > 0.03*want {
				t.Errorf("second %d: %d sent, target %.1f", s, got, want)
			}
		}
	}
	p, _ := NewStagedPacer(rampStages, 100, false, 1)
	if got := p.Count(20 * time.Second); got != 2500+4000 {
		t.Errorf("the ramp sends %d in 20 s, want 6500", got)
	}
	if got := p.Rate(); got != 325 {
		t.Errorf("mean rate %v, want 325/s", got)
	}
}

// TestStagedPoisson: time-rescaled Poisson arrivals keep the stages'
// count on average, are seeded, and never go back.
func TestStagedPoisson(t *testing.T) {
	p, _ := NewStagedPacer(rampStages, 100, true, 7)
	q, _ := NewStagedPacer(rampStages, 100, true, 7)
	counts := perSecond(p, 20*time.Second)
	total := 0
	for _, c := range counts {
		total += c
	}
	if math.Abs(float64(total)-6500) > 6500*0.05 {
		t.Errorf("Poisson ramp sent %d in 20 s, want about 6500", total)
	}
	// the last 10 s hold 400/s: their mean is within 5%
	held := 0
	for _, c := range counts[10:] {
		held += c
	}
	if math.Abs(float64(held)-4000) > 200 {
		t.Errorf("held stage sent %d in 10 s, want about 4000", held)
	}
	prev := time.Duration(0)
	for i := uint64(0); i < 7000; i++ {
		d := p.Due(i)
		if d < prev {
			t.Fatalf("Due(%d) = %v goes back from %v", i, d, prev)
		}
		prev = d
	}
	if p.Due(1234) != q.Due(1234) || p.Due(3) != q.Due(3) {
		t.Error("the same seed gives another schedule")
	}
}

func TestParseStages(t *testing.T) {
	got, err := ParseStages("30s:200, 1m:400:hold")
	if err != nil {
		t.Fatal(err)
	}
	want := []Stage{{30 * time.Second, 200, false}, {time.Minute, 400, true}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []struct{ text, says string }{
		{"30s", "want DURATION:TARGET"},
		{"30s:abc", `target "abc" is not a number`},
		{"x:200", "is not a duration"},
		{"0s:200", "stage 1: duration 0s must be above 0"},
		{"10s:100,-5s:200", "stage 2: duration -5s must be above 0"},
		{"10s:-1", "target -1 must be"},
		{"10s:NaN", "target NaN must be"},
		{"10s:0", "nothing would be sent"},
		{"10s:5:ramp", "want DURATION:TARGET"},
	} {
		if _, err := ParseStages(bad.text); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("ParseStages(%q): %v, want %q", bad.text, err, bad.says)
		}
	}
}

func TestStageTarget(t *testing.T) {
	st := []Stage{{10 * time.Second, 400, false}, {5 * time.Second, 50, true}}
	for _, tt := range []struct {
		at   time.Duration
		want float64
	}{{0, 100}, {5 * time.Second, 250}, {10 * time.Second, 50}, {14 * time.Second, 50}, {time.Hour, 50}} {
		if got := StageTarget(st, 100, tt.at); got != tt.want {
			t.Errorf("StageTarget(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

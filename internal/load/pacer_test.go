package load

import (
	"math"
	"testing"
	"time"
)

func TestConstantPacer(t *testing.T) {
	p := ConstantPacer{PerSecond: 200} // one every 5 ms
	tests := []struct {
		elapsed time.Duration
		hits    uint64
		want    time.Duration
	}{
		{0, 0, 0},                    // the first is due at once
		{0, 1, 5 * time.Millisecond}, // the second at 5 ms
		{3 * time.Millisecond, 1, 2 * time.Millisecond},  // part of the way there
		{5 * time.Millisecond, 1, 0},                     // due now
		{20 * time.Millisecond, 2, 0},                    // behind schedule: no wait, no drift
		{20 * time.Millisecond, 5, 5 * time.Millisecond}, // ahead of schedule
		{time.Second, 200, 0},
		{time.Second, 201, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := p.Pace(tt.elapsed, tt.hits); got != tt.want {
			t.Errorf("Pace(%v, %d) = %v, want %v", tt.elapsed, tt.hits, got, tt.want)
		}
	}
}

func TestNewPacer(t *testing.T) {
	for _, tt := range []struct {
		arrival string
		rate    float64
		ok      bool
	}{{"constant", 10, true}, {"", 10, true}, {"poisson", 10, true}, {"uniform", 10, false}, {"constant", 0, false}, {"poisson", -1, false}, {"constant", math.Inf(1), false}} {
		_, err := NewPacer(tt.arrival, tt.rate, 1)
		if (err == nil) != tt.ok {
			t.Errorf("NewPacer(%q, %v): %v", tt.arrival, tt.rate, err)
		}
	}
}

// TestPoissonSchedule checks the seeded schedule itself, with no network:
// exponential gaps have a coefficient of variation of 1 and the mean rate
// is the target.
func TestPoissonSchedule(t *testing.T) {
	const rate, n = 500.0, 20000
	p := NewPoissonPacer(rate, 42)
	var sum, sumSq float64
	prev := p.Due(0)
	if prev != 0 {
		t.Errorf("the first request is due at %v", prev)
	}
	for i := uint64(1); i <= n; i++ {
		due := p.Due(i)
		gap := (due - prev).Seconds()
		if gap < 0 {
			t.Fatalf("schedule goes back at %d", i)
		}
		sum += gap
		sumSq += gap * gap
		prev = due
	}
	mean := sum / n
	cv := math.Sqrt(sumSq/n-mean*mean) / mean
	if cv < 0.9 || cv > 1.1 {
		t.Errorf("coefficient of variation %.3f, want within 10%% of 1", cv)
	}
	if got := 1 / mean; got < rate*0.97 || got > rate*1.03 {
		t.Errorf("mean rate %.1f/s, want %.0f", got, rate)
	}
	// Pure in the seed: replaying, or another pacer with the same seed,
	// gives the same schedule; another seed another.
	again := NewPoissonPacer(rate, 42)
	for _, i := range []uint64{5, 1000, 3, 20000} {
		if a, b := p.Due(i), again.Due(i); a != b {
			t.Errorf("Due(%d) = %v then %v", i, a, b)
		}
	}
	if NewPoissonPacer(rate, 43).Due(100) == again.Due(100) {
		t.Errorf("seeds 42 and 43 give the same schedule")
	}
	// Pace is Due against the clock.
	if got := again.Pace(again.Due(10)-time.Millisecond, 10); got != time.Millisecond {
		t.Errorf("Pace 1 ms before due = %v", got)
	}
}

func TestDueBefore(t *testing.T) {
	cases := []struct {
		name  string
		p     Pacer
		from  uint64
		d     time.Duration
		count uint64
	}{
		{"constant: all of 3 s at 100/s", ConstantPacer{PerSecond: 100}, 0, 3 * time.Second, 300},
		{"constant: 120 sent of 300", ConstantPacer{PerSecond: 100}, 120, 3 * time.Second, 180},
		{"constant: all sent", ConstantPacer{PerSecond: 100}, 300, 3 * time.Second, 0},
		{"constant: a fraction", ConstantPacer{PerSecond: 3}, 0, 1100 * time.Millisecond, 4}, // 0, 0.33, 0.67, 1.0
		{"constant: 1e9/s for 3 s", ConstantPacer{PerSecond: 1e9}, 5000, 3 * time.Second, 3e9 - 5000},
		{"poisson: the mean past the draw cap", NewPoissonPacer(1e9, 1), 0, time.Second, 1e9},
	}
	for _, c := range cases {
		if got := dueBefore(c.p, c.from, c.d); got != c.count {
			t.Errorf("%s: %d, want %d", c.name, got, c.count)
		}
	}
	// A Poisson schedule is counted exactly: as many as Due says.
	p := NewPoissonPacer(200, 7)
	var want uint64
	for i := uint64(10); p.Due(i) < 2*time.Second; i++ {
		want++
	}
	if got := dueBefore(p, 10, 2*time.Second); got != want {
		t.Errorf("poisson: %d, want %d", got, want)
	}
}

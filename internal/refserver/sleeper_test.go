package refserver

import (
	"testing"
	"time"
)

// lateClock is a clock whose every sleep overruns by a fixed amount, as a
// busy machine's timers do.
type lateClock struct {
	now  time.Time
	late time.Duration
}

func (c *lateClock) Now() time.Time        { return c.now }
func (c *lateClock) Sleep(d time.Duration) { c.now = c.now.Add(d + c.late) }

// TestSleeperLearnsTheOvershoot: with timers that always wake 300 µs late,
// the sleeper learns to sleep that much less, so its sleeps end on their
// deadlines; the estimate never exceeds its bound.
func TestSleeperLearnsTheOvershoot(t *testing.T) {
	for _, tt := range []struct {
		late, wantEnd time.Duration
	}{
		{300 * time.Microsecond, 0},
		{0, 0},
		{5 * time.Millisecond, 4 * time.Millisecond}, // compensation stops at its 1 ms bound
	} {
		c := &lateClock{now: time.Unix(0, 0), late: tt.late}
		s := sleeper{time: c}
		var off time.Duration
		for i := 0; i < 100; i++ {
			deadline := c.now.Add(5 * time.Millisecond)
			s.until(deadline)
			off = c.now.Sub(deadline)
		}
		if d := off - tt.wantEnd; d < -10*time.Microsecond || d > 10*time.Microsecond {
			t.Errorf("timers %v late: the 100th sleep ended %v after its deadline, want %v", tt.late, off, tt.wantEnd)
		}
		if est := time.Duration(s.overshoot.Load()); est > maxCompensation {
			t.Errorf("estimate %v above the bound", est)
		}
	}
	// A deadline already past does not sleep.
	c := &lateClock{now: time.Unix(10, 0)}
	s := sleeper{time: c}
	s.until(c.now.Add(-time.Millisecond))
	if c.now != time.Unix(10, 0) {
		t.Errorf("slept for a past deadline")
	}
}

package load

import (
	"testing"
	"time"
)

// nap never wakes before its time (the kernel's sleep may end late on a
// busy machine, never early; an interrupted one sleeps the rest).
func TestNapNeverWakesEarly(t *testing.T) {
	for _, d := range []time.Duration{0, 10 * time.Microsecond, 300 * time.Microsecond, 2 * time.Millisecond} {
		start := time.Now()
		nap(d)
		if got := time.Since(start); got < d {
			t.Errorf("nap(%v) returned after %v", d, got)
		}
	}
}

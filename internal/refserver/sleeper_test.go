package refserver

import (
	"testing"
	"time"
)

// TestSleeperCompensatesTheTimersOvershoot: over the same run of 5 ms
// sleeps, the compensating sleeper overruns its deadlines less on average
// than a plain sleep does, and never ends far before them.
func TestSleeperCompensatesTheTimersOvershoot(t *testing.T) {
	const n, d = 60, 5 * time.Millisecond
	var plain, compensated time.Duration
	var s sleeper
	earliest := time.Duration(0)
	for i := 0; i < n; i++ {
		start := time.Now()
		time.Sleep(d)
		plain += time.Since(start) - d

		deadline := time.Now().Add(d)
		s.until(deadline)
		off := time.Since(deadline)
		compensated += off
		earliest = min(earliest, off)
	}
	plainMean, compMean := plain/n, compensated/n
	t.Logf("mean overrun: plain sleep %v, compensated %v; earliest end %v before the deadline", plainMean, compMean, -earliest)
	if compMean >= plainMean {
		t.Errorf("compensated sleeps overrun by %v on average, plain ones by %v", compMean, plainMean)
	}
	if earliest < -maxCompensation {
		t.Errorf("a sleep ended %v before its deadline, more than the %v bound", -earliest, maxCompensation)
	}
}

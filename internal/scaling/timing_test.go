//go:build timing

package scaling_test

import (
	"math"
	"testing"
)

// TestScaleUpLagWithin10Percent: the acceptance, on a quiet machine
// (bench/acceptance.sh): the step from 50 to 300 req/s reports a
// scale-up lag within 10% of the emulated 5 s.
func TestScaleUpLagWithin10Percent(t *testing.T) {
	f, _ := scaleUp(t)
	if math.Abs(f.FirstReadyS-emulated.Seconds()) > 0.1*emulated.Seconds() {
		t.Errorf("scale-up lag %.2f s, want %v within 10%%", f.FirstReadyS, emulated)
	}
}

// TestColdStartWithin10Percent: scale-from-zero reports the emulated 2 s
// cold start within 10%.
func TestColdStartWithin10Percent(t *testing.T) {
	f := scaleFromZero(t)
	if math.Abs(f.FirstSuccessS-coldStart.Seconds()) > 0.1*coldStart.Seconds() {
		t.Errorf("cold start %.2f s, want %v within 10%%", f.FirstSuccessS, coldStart)
	}
}

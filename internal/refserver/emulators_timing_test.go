//go:build timing

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// the emulators' and faults' figures on an idle machine, ratios and upper
// bounds a busy machine can break. The default run holds their ceilings
// and floors.

package refserver_test

import (
	"testing"
	"time"
)

// TestBatcherScalesSeveralTimes: the batcher's throughput at 32 is
// several times that at 1, and a lone request takes about its 36 ms.
func TestBatcherScalesSeveralTimes(t *testing.T) {
	_, call := startBatcher(t)
	one, many := batcherAtOneAnd32(call)
	t.Logf("throughput at 1: %.0f/s (p50 %v); at 32: %.0f/s (p50 %v)", one.throughput(), one.percentile(.5), many.throughput(), many.percentile(.5))
	if ratio := many.throughput() / one.throughput(); ratio < 4 {
		t.Errorf("throughput at 32 is %.1f times that at 1, want several (>= 4)", ratio)
	}
	if p50 := one.percentile(.5); p50 < 30*time.Millisecond || p50 > 80*time.Millisecond {
		t.Errorf("p50 at concurrency 1 = %v, want about 36 ms (5 ms delay + 31 ms batch)", p50)
	}
}

// TestGILThroughputRatio: extra concurrency on the gil emulator adds
// latency, not throughput: 1.25 times concurrency 1's 50/s at most.
func TestGILThroughputRatio(t *testing.T) {
	one, eight := gilAtOneAndEight(t)
	ratio := eight.throughput() / one.throughput()
	if ratio > 1.5 || ratio < 0.9 {
		t.Errorf("throughput at 8 is %.2f times that at 1, want at most 1.5 (and no collapse)", ratio)
	}
	if eight.percentile(.5) < 4*one.percentile(.5) {
		t.Errorf("p50 at 8 = %v, at 1 = %v: extra concurrency should mostly add latency", eight.percentile(.5), one.percentile(.5))
	}
}

// TestPipelinedRatios: the pipelined emulator serves 1.5 times more with 3
// in flight than alone, and no more with 6 workers than with 3.
func TestPipelinedRatios(t *testing.T) {
	x1, x3, six := pipelinedAt1And3And6(t)
	if r := x3 / x1; r < 1.3 || r > 1.7 {
		t.Errorf("throughput at 3 is %.2f times that at 1, want about 1.5", r)
	}
	if r := six.throughput() / x3; r < 0.8 || r > 1.15 {
		t.Errorf("throughput at 6 is %.2f times that at 3, want the same (at most 3 in flight)", r)
	}
}

// TestSpikesOnlyInTheTail: the requests in the tail are exactly the
// injected spikes, and the median stays near the 5 ms service time.
func TestSpikesOnlyInTheTail(t *testing.T) {
	res, tail, injected := spikes(t)
	if float64(tail) != injected {
		t.Errorf("%d requests in the tail, %v spikes injected: want equal", tail, injected)
	}
	if res.percentile(.5) > 50*time.Millisecond {
		t.Errorf("p50 %v: want the spikes in the tail only", res.percentile(.5))
	}
}

// TestStallHoldsOnlyTheStall: each of the 4 workers is held about once,
// and no request longer than the stall.
func TestStallHoldsOnlyTheStall(t *testing.T) {
	res, stalled := stall(t)
	if stalled > 12 {
		t.Errorf("%d requests held: want each of the 4 workers held about once", stalled)
	}
	if max := res.latencies[len(res.latencies)-1]; max > 700*time.Millisecond {
		t.Errorf("longest request %v, want no more than the 400 ms stall and a little", max)
	}
}

//go:build timing

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// on an idle machine the emulators come close to their ceilings. The
// default run holds the bounds no load can break, TestEmulatorBounds.

package protocol_test

import (
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestEmulatorThroughput measures the emulators through a real client:
// fifo with S = 10 ms at concurrency 4 serves about 100 req/s at about
// 40 ms; 4 instances serve about 400 req/s at about 10 ms.
func TestEmulatorThroughput(t *testing.T) {
	small := func(name string, em refserver.Emulator) refserver.ModelSpec {
		return refserver.ModelSpec{
			Name: name, Emulator: em,
			Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
			Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
		}
	}
	r := serve(t, small("fifo", refserver.NewFIFO(10*time.Millisecond)), small("inst", refserver.NewInstances(4, 10*time.Millisecond)))
	c := clients(t, r, protocol.Options{})[protocol.KServeGRPC]

	rps, p50 := measure(t, c, "fifo", 4, 100)
	t.Logf("fifo S=10ms c=4: %.1f req/s, p50 %v", rps, p50)
	if rps < 75 || rps > 101 {
		t.Errorf("fifo throughput %.1f req/s, want about 100 (75..101)", rps)
	}
	if p50 < 35*time.Millisecond || p50 > 60*time.Millisecond {
		t.Errorf("fifo p50 %v, want about 40 ms (35..60)", p50)
	}

	rps, p50 = measure(t, c, "inst", 4, 200)
	t.Logf("instances N=4 S=10ms c=4: %.1f req/s, p50 %v", rps, p50)
	if rps < 280 || rps > 401 {
		t.Errorf("instances throughput %.1f req/s, want about 400 (280..401)", rps)
	}
	if p50 < 10*time.Millisecond || p50 > 20*time.Millisecond {
		t.Errorf("instances p50 %v, want about 10 ms (10..20)", p50)
	}
}

//go:build timing

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// the preset's deployments in the field guide's order, a comparison a
// busy machine can upset. The default run holds each one's ceiling,
// TestFieldGuideCeilingsAtConcurrency16.

package refserver_test

import (
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/refserver"
)

// TestFieldGuideOrderAtConcurrency16 drives each deployment of the preset
// with a closed loop of 16 and checks the field guide's order: batching
// highest, then the gRPC and the HTTP NIM, the GIL-bound service far
// below. The preset runs three times slower than life, which keeps every
// ratio: at full speed the client and the server of a 2-core machine
// under the race detector, not the emulated deployments, would set the
// pace.
func TestFieldGuideOrderAtConcurrency16(t *testing.T) {
	const scale = 3
	pods := startPreset(t, scale)
	calls := presetCallers(t, pods)
	tput := map[string]float64{}
	for _, name := range presetOrder {
		closedLoop(16, 50*time.Millisecond, 0, calls[name]) // warm up connections
		d := time.Second
		if name == refserver.PodBaseYOLO {
			d = 3 * time.Second // a request takes about 1 s at 16 in slow motion
		}
		res := closedLoop(16, d, 0, calls[name])
		if res.failed > 0 {
			t.Errorf("%s: %d failures at concurrency 16: %v", name, res.failed, res.errs)
		}
		tput[name] = res.throughput()
		t.Logf("%-13s %6.0f/s  p50 %v  p99 %v", name, res.throughput(), res.percentile(.5).Round(100*time.Microsecond), res.percentile(.99).Round(100*time.Microsecond))
	}
	yolo, binary, grpc, batching := tput[refserver.PodBaseYOLO], tput[refserver.PodNIMBinary], tput[refserver.PodNIMGRPC], tput[refserver.PodNIMBatching]
	if !(batching > grpc && grpc > binary && binary > 4*yolo) {
		t.Errorf("throughput at 16: batching %.0f, grpc %.0f, binary %.0f, base-yolo %.0f; want them in this order, base-yolo far below", batching, grpc, binary, yolo)
	}
}

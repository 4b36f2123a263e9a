//go:build timing && !race

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// where the sweet spots of the field-guide preset fall depends on
// latencies a busy machine changes. The default run holds
// TestSweepFieldGuidePreset.

package cli

import (
	"testing"

	"github.com/inferbench/inferbench/internal/refserver"
)

// TestSweepFieldGuideOrder: base-yolo's sweet spot is at low concurrency,
// nim-batching's the highest, the NIMs' between, as the guide's
// recommendations are ordered (base-yolo 4-8 < NIMs 8-16 < batching
// 16-32).
func TestSweepFieldGuideOrder(t *testing.T) {
	spot := presetSweep(t)
	base, bin, grpc, batch := spot[refserver.PodBaseYOLO], spot[refserver.PodNIMBinary], spot[refserver.PodNIMGRPC], spot[refserver.PodNIMBatching]
	if base > 4 || base >= min(bin, grpc) || max(bin, grpc) >= batch {
		t.Errorf("sweet spots base-yolo c=%d, nim-binary c=%d, nim-grpc c=%d, nim-batching c=%d: want base-yolo low, then the NIMs, nim-batching highest", base, bin, grpc, batch)
	}
}

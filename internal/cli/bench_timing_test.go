//go:build timing

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// on an idle machine inferbench comes within 15% of the emulator's
// ceiling. The default run holds the bounds no load can break,
// TestBenchAcceptance.

package cli

import (
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestBenchAcceptanceFigures: a 5 ms emulator with enough instances, c=8,
// n=800, over each protocol: throughput within 15% of the 1600/s ceiling,
// p50 within 1.5 ms of the 5 ms service time.
func TestBenchAcceptanceFigures(t *testing.T) {
	r := refServer(t, refserver.NewInstances(16, 5*time.Millisecond), 0)
	for _, kind := range protocol.KServeKinds {
		t.Run(string(kind), func(t *testing.T) {
			run, _ := benchAt8(t, r, kind)
			if run.Counts.OK != 800 {
				t.Errorf("counts %+v, want 800 ok", run.Counts)
			}
			if run.LatencyMs.P50 < 5 || run.LatencyMs.P50 > 6.5 {
				t.Errorf("p50 %.3f ms, want 5..6.5", run.LatencyMs.P50)
			}
			if run.ThroughputRPS < 1600*0.85 || run.ThroughputRPS > 1600*1.15 {
				t.Errorf("throughput %.1f req/s, want within 15%% of 1600", run.ThroughputRPS)
			}
		})
	}
}

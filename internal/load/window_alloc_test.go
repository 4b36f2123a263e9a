//go:build !race

// Allocation counts: the race detector's instrumentation allocates, so
// this runs in the test script's uninstrumented pass.

package load_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
)

// TestWindowedHotPathDoesNotAllocate: with windows, a run of ten times
// the requests (and as many windows) allocates no more: the per-request
// path allocates nothing, whatever it costs at window boundaries.
func TestWindowedHotPathDoesNotAllocate(t *testing.T) {
	allocs := func(n int) uint64 {
		cfg := load.Config{Client: fakeClient{}, Payloads: []protocol.Payload{fakePayload{}}, Concurrency: 4, Requests: n,
			WindowRequests: n / 2, OnWindow: func(load.Window) bool { return false }}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := load.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	allocs(1000) // warm up lazily initialised state
	small, large := allocs(2000), allocs(20000)
	t.Logf("allocations: %d for 2000 requests, %d for 20000", small, large)
	if large > small+200 {
		t.Errorf("18000 more requests allocated %d more times: the hot path allocates", large-small)
	}
}

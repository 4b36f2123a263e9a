//go:build !race

package protocol_test

import (
	"context"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
)

// TestCallAllocations: the hot path's allocations per call, against the
// benchmark server (a child process: the count is the client's alone).
// Compressed answers (HTTP with Accept-Encoding: gzip, gRPC with
// --compression gzip, which the server answers in gzip too) cost no more
// than plain ones: the decoders and their buffers are the caller's,
// reused. Plain calls allocate nothing.
func TestCallAllocations(t *testing.T) {
	for _, kind := range protocol.KServeKinds {
		var perCall [2]float64
		for i, opts := range []protocol.Options{{}, {Compression: "gzip", Headers: map[string]string{"Accept-Encoding": "gzip"}}} {
			c, p, md := benchClient(t, kind, "tiny", opts)
			caller := c.NewCaller(protocol.NewChecker(md, nil))
			ctx, cancel := context.WithCancel(context.Background()) // as the engine's
			var out protocol.Outcome
			call := func() { out = caller.Call(ctx, p) }
			for range 10 {
				call()
			}
			perCall[i] = testing.AllocsPerRun(300, call)
			if out.Err != nil {
				t.Fatalf("%s %+v: %v", kind, opts, out.Err)
			}
			cancel()
			caller.Close()
		}
		t.Logf("%s: %.2f allocations per call plain, %.2f compressed", kind, perCall[0], perCall[1])
		if perCall[1] > perCall[0] {
			t.Errorf("%s: %.2f allocations per call compressed, %.2f plain", kind, perCall[1], perCall[0])
		}
		if perCall[0] != 0 {
			t.Errorf("%s: %.2f allocations per call", kind, perCall[0])
		}
	}
}

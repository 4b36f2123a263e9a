//go:build !race && linux

package protocol_test

import (
	"context"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
)

// TestSharedMemoryCallAllocations: a call in shared memory allocates
// nothing in steady state either (its request is encoded once per caller
// and payload, its answer checked in place).
func TestSharedMemoryCallAllocations(t *testing.T) {
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
		c, p, md := benchClient(t, kind, "yolo", protocol.Options{SharedMemory: protocol.SharedMemorySystem, MaxConns: 1})
		caller := c.NewCaller(protocol.NewChecker(md, nil))
		ctx, cancel := context.WithCancel(context.Background())
		var out protocol.Outcome
		call := func() { out = caller.Call(ctx, p) }
		for range 10 {
			call()
		}
		if n := testing.AllocsPerRun(100, call); n != 0 || out.Err != nil {
			t.Errorf("%s: %.2f allocations per call (%v)", kind, n, out.Err)
		}
		cancel()
		caller.Close()
	}
}

package protocol_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// countingProxy forwards TCP connections to target and counts them.
func countingProxy(t *testing.T, target string) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), &n
}

// TestGRPCCallsAreSpreadOverConnections: Options.Connections channels,
// each used.
func TestGRPCCallsAreSpreadOverConnections(t *testing.T) {
	r := serve(t, refserver.ModelSpec{Name: "m", Emulator: refserver.NewInstances(4, 0),
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}}})
	addr, accepted := countingProxy(t, r.GRPCAddr)
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeGRPC, URL: addr, Connections: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	caller := c.NewCaller(nil)
	defer caller.Close()
	for range 9 {
		if out := caller.Call(context.Background(), p); out.Err != nil {
			t.Fatal(out.Err)
		}
	}
	if got := accepted.Load(); got != 3 {
		t.Errorf("%d connections, want 3", got)
	}
}

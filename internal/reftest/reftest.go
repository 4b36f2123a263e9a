// Package reftest starts the reference server for other packages' tests:
// a real peer on loopback, with ephemeral ports, stopped when the test
// ends.
package reftest

import (
	"context"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

// Serve starts a server on 127.0.0.1 (HTTP, gRPC and metrics on free
// ports) and shuts it down when the test ends.
func Serve(t testing.TB, opts refserver.Options) *refserver.Running {
	t.Helper()
	srv, err := refserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0", GRPC: "127.0.0.1:0", Metrics: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Shutdown(ctx)
	})
	return r
}

// Small is a small model: input x FP32 [4], output y FP32 [8].
func Small(name string, em refserver.Emulator) refserver.ModelSpec {
	return refserver.ModelSpec{
		Name: name, Emulator: em,
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
	}
}

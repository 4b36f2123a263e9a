package protocol_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
)

// The benchmarks run against the reference server in a child process (see
// benchserver_test.go), so that allocs/op, B/op and the CPU they report
// are the client's alone:
//
//	go test -run '^$' -bench . -benchmem ./internal/protocol/
//
// cpu-µs/op is the benchmark process's user+system CPU per request, the
// measure bench/peers.sh compares with other load generators.

// benchClient makes a client of kind for model on the benchmark server,
// with its metadata and a prepared random request.
func benchClient(b testing.TB, kind protocol.Kind, model string, opts protocol.Options) (protocol.Client, protocol.Payload, *kserve.ModelMetadata) {
	b.Helper()
	addrs := startBenchServer(b)
	opts.Kind, opts.URL = kind, "http://"+addrs.http
	if kind == protocol.KServeGRPC {
		opts.URL = addrs.grpc
	}
	c, err := protocol.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	md, err := c.ModelMetadata(context.Background(), model, "")
	if err != nil {
		b.Fatal(err)
	}
	ins, err := inputs.Random(md.Inputs, 1)
	if err != nil {
		b.Fatal(err)
	}
	p, err := c.Prepare(model, "", &kserve.InferRequest{Inputs: ins})
	if err != nil {
		b.Fatal(err)
	}
	return c, p, md
}

// reportCPU adds the CPU per request since start to the benchmark's output.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

var tinyKinds = protocol.KServeKinds

var yoloKinds = []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC}

// benchVariant is a protocol kind, and for gRPC a transport (empty: the
// default, fast): named as kserve-grpc, or kserve-grpc/grpc-go.
type benchVariant struct {
	kind      protocol.Kind
	transport string
}

func (v benchVariant) name() string {
	if v.transport == "" {
		return string(v.kind)
	}
	return string(v.kind) + "/" + v.transport
}

// variants lists kinds, and kserve-grpc's grpc-go transport beside the
// fast one.
func variants(kinds []protocol.Kind) []benchVariant {
	var out []benchVariant
	for _, k := range kinds {
		out = append(out, benchVariant{kind: k})
		if k == protocol.KServeGRPC {
			out = append(out, benchVariant{kind: k, transport: protocol.GRPCTransportGo})
		}
	}
	return out
}

// BenchmarkCall is the load engine's hot path, one worker: send a prepared
// request, check the answer against the model's metadata in place.
func BenchmarkCall(b *testing.B) {
	for _, m := range []struct {
		model string
		kinds []protocol.Kind
	}{{"tiny", tinyKinds}, {"yolo", yoloKinds}} {
		for _, v := range variants(m.kinds) {
			b.Run(m.model+"/"+v.name(), func(b *testing.B) {
				c, p, md := benchClient(b, v.kind, m.model, protocol.Options{GRPCTransport: v.transport})
				caller := c.NewCaller(protocol.NewChecker(md, nil))
				defer caller.Close()
				ctx, cancel := context.WithCancel(context.Background()) // as the engine's
				defer cancel()
				for range 10 {
					if out := caller.Call(ctx, p); out.Err != nil {
						b.Fatal(out.Err)
					}
				}
				b.ReportAllocs()
				start := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					if out := caller.Call(ctx, p); out.Err != nil {
						b.Fatal(out.Err)
					}
				}
				reportCPU(b, start)
			})
		}
	}
}

// BenchmarkCallParallel is 64 workers on the tiny model, as in the peers'
// comparison (bench/peers.sh), with the gRPC calls over 1, 2 or 4
// connections, on the fast transport and on grpc-go.
func BenchmarkCallParallel(b *testing.B) {
	const workers = 64
	type variant struct {
		benchVariant
		conns int
	}
	grpc, grpcGo := benchVariant{kind: protocol.KServeGRPC}, benchVariant{kind: protocol.KServeGRPC, transport: protocol.GRPCTransportGo}
	variants := []variant{{benchVariant{kind: protocol.KServeHTTP}, 0}, {benchVariant{kind: protocol.KServeHTTPJSON}, 0},
		{grpc, 1}, {grpc, 2}, {grpc, 4}, {grpcGo, 1}, {grpcGo, 2}, {grpcGo, 4}}
	for _, v := range variants {
		name := v.name()
		if v.conns > 0 {
			name += fmt.Sprintf("/conns=%d", v.conns)
		}
		b.Run(name, func(b *testing.B) {
			c, p, md := benchClient(b, v.kind, "tiny", protocol.Options{MaxConns: workers, Connections: v.conns, GRPCTransport: v.transport})
			check := protocol.NewChecker(md, nil)
			b.ReportAllocs()
			b.SetParallelism((workers + 1) / 2) // GOMAXPROCS 2 on the reference machine
			start := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				caller := c.NewCaller(check)
				defer caller.Close()
				for pb.Next() {
					if out := caller.Call(context.Background(), p); out.Err != nil {
						b.Error(out.Err)
						return
					}
				}
			})
			reportCPU(b, start)
		})
	}
}

// BenchmarkInfer is the full decode (Infer and ValidateResponse), as the
// check command and the engine before Caller used it.
func BenchmarkInfer(b *testing.B) {
	for _, v := range variants(tinyKinds) {
		b.Run("tiny/"+v.name(), func(b *testing.B) {
			c, p, md := benchClient(b, v.kind, "tiny", protocol.Options{GRPCTransport: v.transport})
			ctx := context.Background()
			b.ReportAllocs()
			start := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				resp, err := c.Infer(ctx, p)
				if err == nil {
					err = protocol.ValidateResponse(md, nil, resp)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

package load_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
)

// benchClosedLoop sends b.N measured requests at concurrency 4 over gRPC
// to an emulator of no cost on loopback, with or without the per-request
// export (to io.Discard). ns/op and allocs/op are per request, client and
// server together (cpu-ns/op is the process's CPU time, steadier than
// wall time on a busy machine); the difference between Off and On is the
// export's.
func benchClosedLoop(b *testing.B, export bool, counters *live.Counters) {
	r := reftest.Serve(b, refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(8, 0))}})
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeGRPC, URL: r.GRPCAddr, ConnectTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		b.Fatal(err)
	}
	cfg := load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: b.N, Live: counters}
	var log *load.RequestLog
	if export {
		log = load.NewRequestLog(io.Discard)
		cfg.Export, cfg.ExportLabel = log, load.ExportLabel{Deployment: "bench", Step: "c=4"}
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := load.Run(context.Background(), cfg)
	if err != nil || res.OK != int64(b.N) {
		b.Fatalf("%v; %d of %d ok", err, res.OK, b.N)
	}
	if res.CPUMeasured { // the process's CPU, client and server, per request
		b.ReportMetric(float64(res.CPU.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	if log != nil {
		if err := log.Close(); err != nil || log.Lines() != int64(b.N) {
			b.Fatalf("%v; %d lines, want %d", err, log.Lines(), b.N)
		}
	}
}

func BenchmarkClosedLoopExportOff(b *testing.B) { benchClosedLoop(b, false, nil) }
func BenchmarkClosedLoopExportOn(b *testing.B)  { benchClosedLoop(b, true, nil) }

// BenchmarkClosedLoopLive counts live figures (--metrics-addr): against
// ExportOff, the cost of load.Config.Live.
func BenchmarkClosedLoopLive(b *testing.B) {
	benchClosedLoop(b, false, live.NewRegistry().Counters("bench", "c=4"))
}

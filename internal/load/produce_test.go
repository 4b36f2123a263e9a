package load_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestProduceIsTimedApart: with Config.Produce every request's payload is
// made as it is sent, the time it takes is reported apart and kept out of
// the latency, and a failure to make one is a failed request (exported
// like any other).
func TestProduceIsTimedApart(t *testing.T) {
	// Preprocessing sleeps 20 ms, a floor no machine can undercut; a
	// loopback call to a model that costs nothing stays far below it even
	// on a busy machine, so latency and service time that held it would
	// show.
	const prepTime = 20 * time.Millisecond
	r, _ := server(t, refserver.NewInstances(8, 0), 0)
	c, p := client(t, r, protocol.KServeHTTP, 10*time.Second)
	for _, rate := range []float64{0, 200} {
		var calls, fails atomic.Int64
		seen := make([]atomic.Int64, 3)
		var exported bytes.Buffer
		log := load.NewRequestLog(&exported)
		cfg := load.Config{Export: log, Client: c, Payloads: []protocol.Payload{p, p, p}, Concurrency: 4, Rate: rate, Requests: 60, Warmup: 6,
			Produce: func(i int) (protocol.Payload, error) {
				n := calls.Add(1)
				seen[i].Add(1)
				time.Sleep(prepTime)
				if n%20 == 0 {
					fails.Add(1)
					return nil, errors.New("cannot decode frame")
				}
				return p, nil
			}}
		res, err := load.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := log.Close(); err != nil {
			t.Fatal(err)
		}
		failed := int64(0)
		lines := readExport(t, exported.Bytes())
		for _, l := range lines {
			if l.Status == "error" && l.ErrorClass == "other" {
				failed++
			}
		}
		if int64(len(lines)) != res.Sent || failed != res.Errors {
			t.Errorf("rate %v: %d lines, %d failed; want %d and %d", rate, len(lines), failed, res.Sent, res.Errors)
		}
		if got := calls.Load(); got != 66 {
			t.Errorf("rate %v: Produce called %d times, want 66 (warmup and measured)", rate, got)
		}
		for i := range seen {
			if seen[i].Load() == 0 {
				t.Errorf("rate %v: payload %d never produced", rate, i)
			}
		}
		if res.Preprocess == nil || res.Preprocess.Count() != 60 {
			t.Fatalf("rate %v: preprocess histogram %v, want 60 measured requests", rate, res.Preprocess)
		}
		if res.Sent != 60 || res.Errors < 2 || res.ErrorGroups[0].Class != "other" {
			t.Errorf("rate %v: sent %d, errors %d %+v", rate, res.Sent, res.Errors, res.ErrorGroups)
		}
		prep, lat := res.Preprocess.Summary(), res.Latency.Summary()
		if prep.P50 < 20 {
			t.Errorf("rate %v: preprocess p50 %.2f ms, want at least the 20 ms it sleeps", rate, prep.P50)
		}
		if rate == 0 && lat.P50 >= prep.P50 {
			t.Errorf("closed loop: latency p50 %.2f ms holds the preprocessing (%.2f ms)", lat.P50, prep.P50)
		}
		if rate > 0 && res.ServiceTime.Summary().P50 >= prep.P50 {
			t.Errorf("open loop: service time p50 %.2f ms holds the preprocessing (%.2f ms)", res.ServiceTime.Summary().P50, prep.P50)
		}
	}
	res, _ := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 1, Requests: 5})
	if res.Preprocess != nil {
		t.Error("a histogram of preprocessing without Produce")
	}
}

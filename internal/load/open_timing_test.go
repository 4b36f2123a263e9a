//go:build timing

// Timing acceptance (bench/acceptance.sh, before a release; not in CI):
// how closely the open loop keeps its rate on an idle machine. The
// default run holds the loose version, TestOpenLoopRateBounds.

package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

func TestOpenLoopKeepsTheRate(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, 5*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Rate: 200, Arrival: load.ArrivalConstant, Duration: 5 * time.Second, Warmup: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d at %.2f/s, late %d, latency p50 %.2f ms, service p50 %.2f ms", res.Sent, res.SendRate, res.LateSends, res.Latency.Summary().P50, res.ServiceTime.Summary().P50)
	if res.SendRate < 196 || res.SendRate > 204 {
		t.Errorf("achieved %.2f/s, want 200 within 2%%", res.SendRate)
	}
	if res.Sent < 980 || res.Sent > 1000 || res.Errors != 0 || res.WarmupAttempted != 5 {
		t.Errorf("sent %d errors %d warmup %d: want about 1000 and none", res.Sent, res.Errors, res.WarmupAttempted)
	}
	if s := res.ServiceTime.Summary(); s.P50 < 5 || s.P50 > 15 {
		t.Errorf("service time p50 %.2f ms, want about 5", s.P50)
	}
}

// TestOpenLoopKeepsAHighRate: 20,000/s for 5 s against 64 instances
// without service time (the server in this process, on the same cores):
// the sends keep the schedule (under 1% more than 2 ms late, none
// dropped beyond 0.5%) and the achieved rate is within 2%.
func TestOpenLoopKeepsAHighRate(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(64, 0), 0)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Rate: 20000, Duration: 5 * time.Second, Warmup: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Latency.Summary()
	t.Logf("sent %d at %.0f/s, dropped %d, late %d (%.2f%%), latency p50 %.2f ms p99 %.2f ms", res.Sent, res.SendRate, res.Dropped,
		res.LateSends, 100*float64(res.LateSends)/float64(max(res.Sent, 1)), s.P50, s.P99)
	if res.Sent+res.Dropped != 100000 || res.Dropped > 500 || res.Errors != 0 {
		t.Errorf("sent %d + dropped %d, errors %d: want 100000 with at most 500 dropped, no error", res.Sent, res.Dropped, res.Errors)
	}
	if res.LateSends*100 >= res.Sent {
		t.Errorf("late sends %d of %d: want under 1%%", res.LateSends, res.Sent)
	}
	if res.SendRate < 19600 || res.SendRate > 20400 {
		t.Errorf("achieved %.0f/s, want 20,000 within 2%%", res.SendRate)
	}
}

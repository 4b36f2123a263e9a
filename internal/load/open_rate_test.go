package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestOpenLoopRateBounds: a constant 200/s for 2 s against a server that
// can take 800/s. What no machine load can break: the open loop never
// sends more than the schedule holds (400) nor faster than asked, a busy
// machine only makes sends late; the service time is at least the
// emulator's 5 ms (less the 1 ms its sleeper may wake early). How close
// the rate comes to 200/s is bench/acceptance.sh's TestOpenLoopKeepsTheRate.
func TestOpenLoopRateBounds(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, 5*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Rate: 200, Arrival: load.ArrivalConstant, Duration: 2 * time.Second, Warmup: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d at %.2f/s, late %d, service p50 %.2f ms", res.Sent, res.SendRate, res.LateSends, res.ServiceTime.Summary().P50)
	if res.SendRate < 200*0.3 || res.SendRate > 200*1.02 {
		t.Errorf("achieved %.2f/s, want 30-100%% of the 200/s asked (never above it)", res.SendRate)
	}
	if res.Sent < 400*0.3 || res.Sent > 400 || res.Errors != 0 || res.WarmupAttempted != 5 {
		t.Errorf("sent %d errors %d warmup %d: want at most the schedule's 400, at least 30%% of them, no errors, 5 warmup", res.Sent, res.Errors, res.WarmupAttempted)
	}
	if s := res.ServiceTime.Summary(); s.P50 < 4 {
		t.Errorf("service time p50 %.2f ms, want at least the emulator's 5 ms (less 1 ms of sleeper compensation)", s.P50)
	}
}

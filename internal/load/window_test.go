package load_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
)

// fakeClient answers every call after a fixed delay, without a network:
// only NewCaller is used by the engine.
type fakeClient struct {
	protocol.Client
	delay time.Duration
}

func (c fakeClient) NewCaller(*protocol.Checker) protocol.Caller { return fakeCaller(c) }

type fakeCaller fakeClient

func (c fakeCaller) Call(ctx context.Context, _ protocol.Payload) protocol.Outcome {
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	return protocol.Outcome{RequestBytes: 1, ResponseBytes: 1}
}

func (fakeCaller) Close() error { return nil }

type fakePayload struct{}

func (fakePayload) Size() int { return 1 }

// collect records the windows it is handed and asks to stop at stopAt
// (never if negative).
type collect struct {
	mu      sync.Mutex
	windows []load.Window
	stopAt  int
}

func (c *collect) onWindow(w load.Window) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.windows = append(c.windows, w)
	return c.stopAt >= 0 && w.Index >= c.stopAt
}

func (c *collect) sum() (ok, errs int64) {
	for _, w := range c.windows {
		ok += w.OK
		errs += w.Errors
	}
	return ok, errs
}

// TestWindowsCoverThePhase: every answered request lands in exactly one
// window, windows come in order, and each has its own latency summary
// and throughput.
func TestWindowsCoverThePhase(t *testing.T) {
	for _, open := range []bool{false, true} {
		c := &collect{stopAt: -1}
		cfg := load.Config{Client: fakeClient{delay: 200 * time.Microsecond}, Payloads: []protocol.Payload{fakePayload{}},
			Concurrency: 4, Requests: 400, Warmup: 4, WindowRequests: 50, OnWindow: c.onWindow}
		if open {
			cfg.Rate, cfg.Arrival = 4000, load.ArrivalConstant
		}
		res, err := load.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ok, errs := c.sum()
		if res.Sent != 400 || ok != res.OK || errs != res.Errors {
			t.Errorf("open %v: windows hold %d ok %d errors, the phase %d sent %d ok", open, ok, errs, res.Sent, res.OK)
		}
		// Boundaries every 50 answers; a late boundary only makes a window
		// larger, so there are at most 8 windows, and at least 4.
		if n := len(c.windows); n < 4 || n > 8 {
			t.Errorf("open %v: %d windows of 400 requests by 50", open, n)
		}
		for i, w := range c.windows {
			if w.Index != i || w.Elapsed <= 0 || w.Throughput() <= 0 || w.Latency.P50 < 0.2 {
				t.Errorf("open %v: window %d: %+v", open, i, w)
			}
			if w.Final && i != len(c.windows)-1 {
				t.Errorf("open %v: window %d of %d is final", open, i, len(c.windows))
			}
		}
	}
}

// TestWindowsStopThePhase: OnWindow ends the phase early; what was in
// flight is still counted in the result.
func TestWindowsStopThePhase(t *testing.T) {
	for _, open := range []bool{false, true} {
		c := &collect{stopAt: 2}
		cfg := load.Config{Client: fakeClient{delay: 200 * time.Microsecond}, Payloads: []protocol.Payload{fakePayload{}},
			Concurrency: 4, Requests: 100000, WindowRequests: 50, OnWindow: c.onWindow}
		if open {
			cfg.Rate, cfg.Arrival = 4000, load.ArrivalPoisson
		}
		res, err := load.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ok, _ := c.sum()
		if len(c.windows) != 3 || c.windows[2].Final {
			t.Fatalf("open %v: windows %+v, want 3, the last not final", open, c.windows)
		}
		// Windows are closed by a goroutine of their own: on a busy machine
		// it runs late while the workers (20,000 requests a second) go on,
		// so the bound is far from 150 but far below the 100,000 asked.
		if res.Sent > 20000 || res.OK < ok {
			t.Errorf("open %v: sent %d (ok %d) after a stop at the third window of 50 (%d ok in windows), want far fewer than the 100,000 asked (at most 20,000)", open, res.Sent, res.OK, ok)
		}
	}
}

func TestWindowConfigErrors(t *testing.T) {
	base := load.Config{Client: fakeClient{}, Payloads: []protocol.Payload{fakePayload{}}, Concurrency: 1, Requests: 10}
	for _, cfg := range []load.Config{
		func() load.Config { c := base; c.WindowRequests = -1; return c }(),
		func() load.Config { c := base; c.WindowRequests = 5; return c }(),
	} {
		if _, err := load.Run(context.Background(), cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

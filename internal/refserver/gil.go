package refserver

import (
	"context"
	"fmt"
	"time"
)

// gil emulates a Python model service (PyTorch behind FastAPI/uvicorn, as
// the field guide's base-yolo): every request runs on its own thread, but a
// global interpreter lock is held for most of each request (decoding,
// pre-processing, the model's Python forward, NMS, JSON), so threads take
// turns. Only the rest of a request, reading it and writing the answer,
// overlaps with others. A request of service time s spends (1-held) x s / 2
// before the lock, held x s under it, and the rest after it; each thread
// still waiting for the lock when a request takes it adds the switch cost
// to the time the lock is held (Python's forced switches every 5 ms cost
// the holder). So throughput gains at most 1/held over concurrency 1, and
// loses a little beyond; extra concurrency mostly adds latency.
//
// The lock is handed over in arrival order (a fair lock: Python's GIL is
// not strictly fair, but the throughput is the same). Requests waiting for
// it are the pending queue, and the queue limit bounds them.
type gil struct {
	clock      sleeper // sleeps the emulated times
	total      time.Duration
	held       float64
	switchCost time.Duration
	lock       chan struct{}
	queue      queue
	jitter     *sampler
}

func newGIL(c EmulatorConfig, jitter *sampler) *gil {
	held := c.GILHeld
	if held == 0 {
		held = DefaultGILHeld
	}
	g := &gil{total: c.ServiceTime, held: held, switchCost: c.GILSwitch, lock: make(chan struct{}, 1), jitter: jitter}
	g.queue.limit = int64(c.QueueLimit)
	return g
}

func (g *gil) Describe() string {
	return fmt.Sprintf("gil (service time %v, %.0f%% of it under a global lock, switch cost %v per waiting thread%s%s)",
		g.total, 100*g.held, g.switchCost, describeLimit(g.queue.limit), describeJitter(jitterOf(g.jitter)))
}

func (g *gil) Pending() int { return g.queue.pending() }

func (g *gil) Execute(ctx context.Context, batch int) (Timing, error) {
	start := time.Now()
	s := g.jitter.apply(g.total)
	held := time.Duration(float64(s) * g.held)
	before := (s - held) / 2
	after := s - held - before

	g.clock.until(start.Add(before)) // reading the request: no lock
	var t Timing
	t.ComputeInput = time.Since(start)

	waitStart := time.Now()
	select {
	case g.lock <- struct{}{}:
	default:
		if !g.queue.enter() {
			return t, errQueueFull()
		}
		select {
		case g.lock <- struct{}{}:
			g.queue.leave()
		case <-ctx.Done():
			g.queue.leave()
			return t, cancelledWhileQueued(ctx)
		}
	}
	holdStart := time.Now()
	t.Queue = holdStart.Sub(waitStart)
	contention := time.Duration(g.queue.pending()) * g.switchCost
	g.clock.until(holdStart.Add(held + contention))
	<-g.lock
	outStart := time.Now()
	t.ComputeInfer = outStart.Sub(holdStart)

	g.clock.until(outStart.Add(after)) // writing the answer: no lock
	t.ComputeOutput = time.Since(outStart)
	t.ExecutedBatch, t.Leader = batch, true
	return t, nil
}

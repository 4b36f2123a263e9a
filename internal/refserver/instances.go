package refserver

import (
	"context"
	"fmt"
	"time"
)

// instances emulates N model instances that each serve one request at a
// time for a fixed service time; further requests wait in FIFO order (a
// freed slot of a channel semaphore goes to the longest-blocked sender).
// N = 1 is the fifo emulator.
type instances struct {
	clock       sleeper // sleeps the emulated times
	name        string
	slots       chan struct{}
	queue       queue
	serviceTime time.Duration
	jitter      *sampler
}

// NewFIFO returns the fifo emulator: one instance, one request at a time,
// service time s. At concurrency c its throughput is 1/s and its latency
// about c x s.
func NewFIFO(s time.Duration) Emulator { return newInstances(KindFIFO, 1, s, 0, nil) }

// NewInstances returns the instances emulator: n instances in parallel, each
// taking s per request. Its throughput saturates at n/s.
func NewInstances(n int, s time.Duration) Emulator {
	return newInstances(KindInstances, max(n, 1), s, 0, nil)
}

func newInstances(name string, n int, s time.Duration, queueLimit int, jitter *sampler) *instances {
	e := &instances{name: name, slots: make(chan struct{}, n), serviceTime: s, jitter: jitter}
	e.queue.limit = int64(queueLimit)
	return e
}

func (e *instances) Describe() string {
	extra := describeLimit(e.queue.limit) + describeJitter(jitterOf(e.jitter))
	if e.name == KindFIFO {
		return fmt.Sprintf("fifo (1 instance, service time %v%s)", e.serviceTime, extra)
	}
	return fmt.Sprintf("instances (%d in parallel, service time %v each%s)", cap(e.slots), e.serviceTime, extra)
}

func (e *instances) Pending() int { return e.queue.pending() }

func (e *instances) Execute(ctx context.Context, batch int) (Timing, error) {
	start := time.Now()
	select {
	case e.slots <- struct{}{}: // an instance is free: no queueing
	default:
		if !e.queue.enter() {
			return Timing{}, errQueueFull()
		}
		select {
		case e.slots <- struct{}{}:
			e.queue.leave()
		case <-ctx.Done():
			e.queue.leave()
			return Timing{Queue: time.Since(start)}, cancelledWhileQueued(ctx)
		}
	}
	defer func() { <-e.slots }()
	computeStart := time.Now()
	t := Timing{Queue: computeStart.Sub(start), ExecutedBatch: batch, Leader: true}
	// The service time is spent even if the client goes away, as a real
	// backend that has started a batch finishes it.
	e.clock.until(computeStart.Add(e.jitter.apply(e.serviceTime)))
	t.ComputeInfer = time.Since(computeStart)
	return t, nil
}

// jitterOf is a sampler's jitter, none for nil.
func jitterOf(s *sampler) Jitter {
	if s == nil {
		return Jitter{}
	}
	return s.j
}

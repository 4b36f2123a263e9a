package refserver

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Timing is what one execution cost a request, in Triton's breakdown.
type Timing struct {
	Queue         time.Duration // waiting for an instance
	ComputeInput  time.Duration
	ComputeInfer  time.Duration
	ComputeOutput time.Duration

	// ExecutedBatch is the batch size of the execution that served the
	// request; Leader is true for exactly one request of each execution, the
	// one that accounts for it in the execution statistics. Without dynamic
	// batching every request is its own execution.
	ExecutedBatch int
	Leader        bool
}

// Emulator stands in for a model's backend: Execute blocks for as long as
// the emulated model would take to serve a request of batch size batch,
// queueing included, and reports how that time was spent and in which
// execution.
type Emulator interface {
	Execute(ctx context.Context, batch int) (Timing, error)
	// Pending is the number of requests waiting for execution now
	// (Triton's nv_inference_pending_request_count).
	Pending() int
	// Describe is a one-line description for the server's start-up banner.
	Describe() string
}

// instances emulates N model instances that each serve one request at a
// time for a fixed service time; further requests wait in FIFO order (Go's
// channel semaphores queue waiters in order). N = 1 is the fifo emulator.
type instances struct {
	slots       chan struct{}
	waiting     atomic.Int64
	serviceTime time.Duration
	name        string
}

// NewFIFO returns the fifo emulator: one instance, one request at a time,
// service time s. At concurrency c its throughput is 1/s and its latency
// about c x s.
func NewFIFO(s time.Duration) Emulator { return newInstances("fifo", 1, s) }

// NewInstances returns the instances emulator: n instances in parallel, each
// taking s per request. Its throughput saturates at n/s.
func NewInstances(n int, s time.Duration) Emulator { return newInstances("instances", n, s) }

func newInstances(name string, n int, s time.Duration) *instances {
	if n < 1 {
		n = 1
	}
	return &instances{slots: make(chan struct{}, n), serviceTime: s, name: name}
}

func (e *instances) Describe() string {
	if e.name == "fifo" {
		return fmt.Sprintf("fifo (1 instance, service time %v)", e.serviceTime)
	}
	return fmt.Sprintf("instances (%d in parallel, service time %v each)", cap(e.slots), e.serviceTime)
}

func (e *instances) Pending() int { return int(e.waiting.Load()) }

func (e *instances) Execute(ctx context.Context, batch int) (Timing, error) {
	start := time.Now()
	e.waiting.Add(1)
	select {
	case e.slots <- struct{}{}:
		e.waiting.Add(-1)
	case <-ctx.Done():
		e.waiting.Add(-1)
		return Timing{Queue: time.Since(start)}, fmt.Errorf("request cancelled while queued: %w", ctx.Err())
	}
	defer func() { <-e.slots }()
	computeStart := time.Now()
	t := Timing{Queue: computeStart.Sub(start), ExecutedBatch: batch, Leader: true}
	// The service time is spent even if the client goes away, as a real
	// backend that has started a batch finishes it.
	sleepUntil(computeStart.Add(e.serviceTime))
	t.ComputeInfer = time.Since(computeStart)
	return t, nil
}

// sleepUntil sleeps to a deadline; sleeping to an absolute time keeps the
// overshoot of one sleep from adding up across calls.
func sleepUntil(deadline time.Time) {
	if d := time.Until(deadline); d > 0 {
		time.Sleep(d)
	}
}

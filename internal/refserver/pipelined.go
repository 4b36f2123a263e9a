package refserver

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// pipelined emulates one model instance on a GPU, without dynamic
// batching, that still overlaps the requests in flight, as a Triton or NIM
// pod with one TensorRT instance does: its frontend threads receive and
// decode requests in parallel, input and output copies run on their own
// CUDA streams, and one request's kernels leave most of the GPU idle. So a
// request alone in flight takes the service time, and each other request
// in flight adds the per-inflight cost (its share of the GPU and the copy
// engines) to everyone's time: with k in flight a request takes
// serviceTime + perInflight x (k-1), and throughput k / (serviceTime +
// perInflight x (k-1)) rises steeply, bends as perInflight x k overtakes
// the service time, and stops rising at maxInflight, the most the instance
// accepts at once (further requests wait in the queue). Each request is its
// own execution of batch size 1: statistics show no batching.
//
// k is sampled when a request starts executing; in a steady closed loop it
// equals the concurrency.
type pipelined struct {
	clock      sleeper // sleeps the emulated times
	alone, per time.Duration
	slots      chan struct{}
	inflight   atomic.Int64
	queue      queue
	jitter     *sampler
}

func newPipelined(c EmulatorConfig, jitter *sampler) *pipelined {
	p := &pipelined{alone: c.ServiceTime, per: c.PerInflight, slots: make(chan struct{}, c.MaxInflight), jitter: jitter}
	p.queue.limit = int64(c.QueueLimit)
	return p
}

func (p *pipelined) Describe() string {
	return fmt.Sprintf("pipelined (1 instance, up to %d requests in flight, each %v + %v x (in flight - 1)%s%s)",
		cap(p.slots), p.alone, p.per, describeLimit(p.queue.limit), describeJitter(jitterOf(p.jitter)))
}

func (p *pipelined) Pending() int { return p.queue.pending() }

func (p *pipelined) Execute(ctx context.Context, batch int) (Timing, error) {
	start := time.Now()
	select {
	case p.slots <- struct{}{}:
	default:
		if !p.queue.enter() {
			return Timing{}, errQueueFull()
		}
		select {
		case p.slots <- struct{}{}:
			p.queue.leave()
		case <-ctx.Done():
			p.queue.leave()
			return Timing{Queue: time.Since(start)}, cancelledWhileQueued(ctx)
		}
	}
	k := p.inflight.Add(1)
	defer func() {
		p.inflight.Add(-1)
		<-p.slots
	}()
	computeStart := time.Now()
	p.clock.until(computeStart.Add(p.jitter.apply(p.alone + time.Duration(k-1)*p.per)))
	return Timing{Queue: computeStart.Sub(start), ComputeInfer: time.Since(computeStart), ExecutedBatch: batch, Leader: true}, nil
}

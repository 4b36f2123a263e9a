package refserver

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
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
// execution. A request refused because the queue is full fails with a
// *kserve.Error of code kserve.CodeUnavailable, as Triton's max_queue_size.
type Emulator interface {
	Execute(ctx context.Context, batch int) (Timing, error)
	// Pending is the number of requests waiting for execution now
	// (Triton's nv_inference_pending_request_count).
	Pending() int
	// Describe is a one-line description for the server's start-up banner.
	Describe() string
}

// errQueueFull is Triton's answer when a model's queue holds max_queue_size
// requests already (scheduler_utils.cc): UNAVAILABLE, so HTTP 503 and gRPC
// UNAVAILABLE, counted with reason REJECTED.
func errQueueFull() error {
	return kserve.Errorf(kserve.CodeUnavailable, "Exceeds maximum queue size")
}

// queue counts the requests waiting for execution, bounded by a limit so
// that a request is refused exactly when the queue is full.
type queue struct {
	n     atomic.Int64
	limit int64 // 0: unbounded
}

// enter adds a request to the queue, or reports false if it is full.
func (q *queue) enter() bool {
	for {
		n := q.n.Load()
		if q.limit > 0 && n >= q.limit {
			return false
		}
		if q.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (q *queue) leave()       { q.n.Add(-1) }
func (q *queue) pending() int { return int(q.n.Load()) }

// describeLimit is the banner's note on a queue limit.
func describeLimit(limit int64) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(", queue limit %d", limit)
}

// sleeper sleeps to deadlines, compensating for the timer's overshoot:
// Go's timers wake 0.1 to 1 ms late on a busy machine, which would make a
// 5 ms emulated service time 5.2 to 6 ms and the emulator slower than its
// cost model says. It learns the overshoot as a moving average (weight
// 1/8) and sleeps that much less, so emulated times are right on average.
// Each emulator has its own; it is safe for concurrent use.
type sleeper struct {
	overshoot atomic.Int64 // estimated nanoseconds a sleep overruns
	time      timeSource   // the real clock unless a test sets one
}

// timeSource is time.Now and time.Sleep, replaceable in tests.
type timeSource interface {
	Now() time.Time
	Sleep(time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// maxCompensation bounds the estimate, so that a machine that stalls for a
// moment does not make every later sleep much too short.
const maxCompensation = time.Millisecond

// until sleeps to a deadline; sleeping to an absolute time keeps the
// overshoot of one sleep from adding up across calls.
func (s *sleeper) until(deadline time.Time) {
	c := s.time
	if c == nil {
		c = realClock{}
	}
	d := deadline.Sub(c.Now())
	if d <= 0 {
		return
	}
	est := time.Duration(s.overshoot.Load())
	sleep := d - est
	if sleep <= 0 {
		return
	}
	start := c.Now()
	c.Sleep(sleep)
	late := min(c.Now().Sub(start)-sleep, maxCompensation)
	old := s.overshoot.Load()
	s.overshoot.Store(old + (int64(late)-old)/8)
}

// cancelledWhileQueued is the error of a request whose client went away
// before it was executed.
func cancelledWhileQueued(ctx context.Context) error {
	return fmt.Errorf("request cancelled while queued: %w", ctx.Err())
}

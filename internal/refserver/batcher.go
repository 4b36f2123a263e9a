package refserver

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// batchPolicy is Triton's dynamic batcher's decision (batcher.md,
// dynamic_batch_scheduler.cc) as a pure function of the queue.
type batchPolicy struct {
	maxBatch  int
	delay     time.Duration
	preferred []int // ascending
}

// next decides what a free instance does with the queue, given the batch
// sizes of the waiting requests in arrival order and the age of the
// oldest. It returns take > 0 to execute the first take requests now, or a
// wait > 0 after which to decide again (take and wait 0: the queue is
// empty). The rules, in order:
//   - a batch that reaches the max batch size, or that the next request
//     would overflow, goes at once;
//   - otherwise the largest preferred batch size the queue's prefix
//     reaches goes at once;
//   - otherwise everything waiting goes once the oldest request has waited
//     the max queue delay (at once if the delay is 0).
func (p batchPolicy) next(sizes []int, oldestAge time.Duration) (take int, wait time.Duration) {
	if len(sizes) == 0 {
		return 0, 0
	}
	total, preferred := 0, 0
	for i, s := range sizes {
		if total+s > p.maxBatch {
			return max(i, 1), 0
		}
		total += s
		if total == p.maxBatch {
			return i + 1, 0
		}
		if slices.Contains(p.preferred, total) {
			preferred = i + 1
		}
	}
	if preferred > 0 {
		return preferred, 0
	}
	if oldestAge >= p.delay {
		return len(sizes), 0
	}
	return 0, p.delay - oldestAge
}

// batcher emulates Triton's dynamic batcher in front of N instances: a
// free instance takes the batch the policy forms, and a batch whose
// requests hold b elements in all costs fixed + perItem x b. Every request
// of a batch reports the batch's size and compute time; the first is its
// leader, so statistics count one execution per batch.
type batcher struct {
	clock          sleeper // sleeps the emulated times
	policy         batchPolicy
	instances      int
	fixed, perItem time.Duration
	limit          int
	jitter         *sampler

	mu      sync.Mutex
	waiting []*batchItem
	idle    int // free instances
	timer   *time.Timer
	sizes   []int // scratch for policy.next
}

type batchItem struct {
	size       int
	arrived    time.Time
	dispatched bool
	done       chan Timing // buffered: the executor never blocks
}

func newBatcher(c EmulatorConfig, jitter *sampler) *batcher {
	pref := slices.Clone(c.PreferredBatchSizes)
	slices.Sort(pref)
	pref = slices.Compact(pref)
	n := max(c.Instances, 1)
	return &batcher{
		policy:    batchPolicy{maxBatch: c.MaxBatchSize, delay: c.MaxQueueDelay, preferred: pref},
		instances: n, idle: n, fixed: c.BatchFixed, perItem: c.BatchPerItem,
		limit: c.QueueLimit, jitter: jitter,
	}
}

func (b *batcher) Describe() string {
	pref := ""
	if len(b.policy.preferred) > 0 {
		pref = fmt.Sprintf(", preferred sizes %v", b.policy.preferred)
	}
	return fmt.Sprintf("batcher (%d instance(s), max batch %d, max queue delay %v%s, batch cost %v + %v x size%s%s)",
		b.instances, b.policy.maxBatch, b.policy.delay, pref, b.fixed, b.perItem, describeLimit(int64(b.limit)), describeJitter(jitterOf(b.jitter)))
}

func (b *batcher) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiting)
}

// dynamicBatching is the batcher's part of the model configuration.
func (b *batcher) dynamicBatching() *pb.ModelDynamicBatching {
	db := &pb.ModelDynamicBatching{MaxQueueDelayMicroseconds: uint64(b.policy.delay / time.Microsecond)}
	for _, p := range b.policy.preferred {
		db.PreferredBatchSize = append(db.PreferredBatchSize, int32(p))
	}
	return db
}

func (b *batcher) Execute(ctx context.Context, batch int) (Timing, error) {
	it := &batchItem{size: batch, arrived: time.Now(), done: make(chan Timing, 1)}
	b.mu.Lock()
	if b.limit > 0 && len(b.waiting) >= b.limit {
		b.mu.Unlock()
		return Timing{}, errQueueFull()
	}
	b.waiting = append(b.waiting, it)
	b.dispatchLocked()
	b.mu.Unlock()

	select {
	case t := <-it.done:
		return t, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !it.dispatched {
		b.waiting = slices.DeleteFunc(b.waiting, func(w *batchItem) bool { return w == it })
		b.dispatchLocked()
		b.mu.Unlock()
		return Timing{Queue: time.Since(it.arrived)}, cancelledWhileQueued(ctx)
	}
	b.mu.Unlock()
	// Its batch is executing: a real backend finishes it.
	return <-it.done, nil
}

// dispatchLocked hands batches to free instances while the policy says so,
// and otherwise arms a timer for the policy's next decision.
func (b *batcher) dispatchLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	for b.idle > 0 && len(b.waiting) > 0 {
		b.sizes = b.sizes[:0]
		for _, w := range b.waiting {
			b.sizes = append(b.sizes, w.size)
		}
		take, wait := b.policy.next(b.sizes, time.Since(b.waiting[0].arrived))
		if take == 0 {
			b.timer = time.AfterFunc(wait, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.dispatchLocked()
			})
			return
		}
		batch := slices.Clone(b.waiting[:take])
		b.waiting = slices.Delete(b.waiting, 0, take)
		for _, w := range batch {
			w.dispatched = true
		}
		b.idle--
		go b.execute(batch)
	}
}

// execute runs one batch on one instance.
func (b *batcher) execute(batch []*batchItem) {
	size := 0
	for _, w := range batch {
		size += w.size
	}
	start := time.Now()
	b.clock.until(start.Add(b.jitter.apply(b.fixed + time.Duration(size)*b.perItem)))
	compute := time.Since(start)
	for i, w := range batch {
		w.done <- Timing{Queue: start.Sub(w.arrived), ComputeInfer: compute, ExecutedBatch: size, Leader: i == 0}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.idle++
	b.dispatchLocked()
}

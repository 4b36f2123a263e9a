package load

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
)

// A shard is what a group of workers record into, under one lock: the
// phase's histograms and its share of the current window and second.
// Workers share shards so that the client's memory does not grow with
// its workers: a histogram of 3 digits over 1 µs..1 h is 188 KB, and an
// open loop that a stalled server drives to 1,000 requests in flight would
// otherwise hold 1,000 sets of them (0.4 GB). The lock is taken once per
// answer, for a few histogram increments; with a few shards per core it
// is rarely contended.
type shard struct {
	mu      sync.Mutex
	hist    *measure.Histogram // latency of the successes
	service *measure.Histogram // open loop: service time of the successes
	prep    *measure.Histogram // with Config.Produce: preprocessing time
	win     *windowSlot        // nil without windows
	sec     *timeSlot          // nil without a timeline (the warmup)
}

// shardCount is how many shards a phase of so many workers records into:
// four per core (at least eight), never more than the workers.
func shardCount(workers int) int {
	return max(1, min(workers, max(8, 4*runtime.GOMAXPROCS(0))))
}

// shardSet makes a phase's shards as workers ask for them.
type shardSet struct {
	list []*shard
	open bool // service times are kept
	win  *windower
	tl   *timeliner
}

func newShardSet(workers int, open bool, win *windower, tl *timeliner) *shardSet {
	return &shardSet{list: make([]*shard, shardCount(workers)), open: open, win: win, tl: tl}
}

// at returns worker i's shard, made on first use. Only the goroutine that
// makes workers calls it.
func (s *shardSet) at(i int) *shard {
	k := i % len(s.list)
	if s.list[k] == nil {
		sh := &shard{hist: measure.NewHistogram()}
		if s.open {
			sh.service = measure.NewHistogram()
		}
		sh.win = s.win.slot(&sh.mu)
		sh.sec = s.tl.slot(&sh.mu)
		s.list[k] = sh
	}
	return s.list[k]
}

// histograms merges the shards' histograms, once every worker is done.
func (s *shardSet) histograms() (hist, service, prep *measure.Histogram) {
	hist, service = measure.NewHistogram(), measure.NewHistogram()
	for _, sh := range s.list {
		if sh == nil {
			continue
		}
		hist.Merge(sh.hist)
		if sh.service != nil {
			service.Merge(sh.service)
		}
		if sh.prep != nil {
			if prep == nil {
				prep = measure.NewHistogram()
			}
			prep.Merge(sh.prep)
		}
	}
	return hist, service, prep
}

// answer records one answered request: the worker's own counters, then
// under its shard's lock the latency (and service time, if service >= 0)
// of a success and the current window's and second's counts. It returns
// the error's class index (measure.ClassIndex), or -1 for a success.
func (w *worker) answer(out protocol.Outcome, latency, service time.Duration, errs, done *atomic.Int64, win *windower, tl *timeliner) int {
	w.reqBytes += int64(out.RequestBytes)
	w.respBytes += int64(out.ResponseBytes)
	ok, class := out.Err == nil, -1
	if ok {
		w.ok++
	} else {
		c, msg := protocol.Classify(out.Err)
		w.tally.Add(c, msg)
		errs.Add(1)
		class = measure.ClassIndex(c)
	}
	sh := w.sh
	sh.mu.Lock()
	if ok {
		sh.hist.Record(latency)
		if service >= 0 && sh.service != nil {
			sh.service.Record(service)
		}
	}
	win.note(sh.win, ok, latency)
	tl.note(sh.sec, ok, class, latency)
	sh.mu.Unlock()
	tl.answer()
	win.answered(done.Add(1))
	if w.live != nil { // open loop: late when the send lagged its intended time (service >= 0)
		w.live.Answered(class, latency, service >= 0 && latency-service > LateThreshold)
	}
	return class
}

// preprocessed records the time Config.Produce took for one request.
func (w *worker) preprocessed(took time.Duration) {
	sh := w.sh
	sh.mu.Lock()
	if sh.prep == nil {
		sh.prep = measure.NewHistogram()
	}
	sh.prep.Record(took)
	sh.mu.Unlock()
}

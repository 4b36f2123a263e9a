package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
)

// DefaultMaxInFlight bounds the open-loop requests awaiting answers; a
// server that stalls makes later sends late instead of growing the client
// without limit.
const DefaultMaxInFlight = 1024

// LateThreshold is how far behind its intended time a send may go before
// it counts as late. Go's timers on a busy 2-core machine wake 0.2 to
// 1.2 ms after their deadline (measured here); a send held back longer than
// 2 ms is being held by the client (no worker free, no CPU), not by timer
// jitter. Either way its latency counts from the intended time.
const LateThreshold = 2 * time.Millisecond

// spareWorkers is how many open-loop workers may be ready (between two
// calls: claiming a request, waiting for its send time) at once: a
// worker that comes back from a call while this many others are ready
// leaves (its counters stay for the merge, and a later spawn reuses it).
// Answers come back at about the send rate, so a few ready workers cover
// the gaps between them, and the pool follows the requests in flight
// instead of keeping every worker a stall once made.
const spareWorkers = 8

// openPhase is what the workers of an open-loop phase share. There is no
// pacing goroutine: each worker claims the next request of the schedule,
// sleeps until its intended time and sends it, as a closed-loop worker
// would with a wait before each call; a request costs one lock, one timer
// and no hand-off between goroutines. A worker about to send while no
// other is ready (all are awaiting answers) starts one more first, up
// to MaxInFlight, so that someone waits for the next send time however
// long the calls last; a worker started counts as ready at once, so
// that workers sending together start one, not one each.
type openPhase struct {
	ctx, reqCtx context.Context
	cfg         *Config
	phase       string
	win         *windower
	tl          *timeliner
	start       time.Time
	n           uint64        // requests to send; 0 when duration-bound
	d           time.Duration // the phase's duration; 0 when count-bound

	done, errs atomic.Int64
	ready      atomic.Int64 // workers started and not in a call
	lateGrown  atomic.Int64 // when (since the start) a late send last started a worker
	wg         sync.WaitGroup

	mu     sync.Mutex // guards what follows
	pacer  Pacer
	next   uint64 // the first request no worker has claimed
	over   bool   // no request left to claim
	unsent uint64 // claimed, due before the duration's end, not sent by then
	ws     []*worker
	all    []*openWorker // every worker made: their callers and send counts
	free   []*openWorker // workers that left, to reuse
	live   int           // worker goroutines running
	shards *shardSet
}

// openWorker is one open-loop worker: its counters and its caller, kept
// across the goroutines that run it in turn.
type openWorker struct {
	*worker
	caller   protocol.Caller
	timer    *time.Timer
	sends    int64
	lastSend time.Duration // since the start
}

// claim gives a worker the next request and its intended time (from the
// start); false when the schedule is over (its count, its end, the
// phase's duration) or when leave is set and spareWorkers others are
// ready.
func (o *openPhase) claim(leave bool) (seq uint64, due time.Duration, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.over {
		return 0, 0, false
	}
	if o.n > 0 && o.next >= o.n {
		o.over = true
		return 0, 0, false
	}
	if leave && o.ready.Load() > spareWorkers {
		return 0, 0, false
	}
	due = o.pacer.Due(o.next)
	if due == Never || (o.d > 0 && due >= o.d) {
		o.over = true
		return 0, 0, false
	}
	seq = o.next
	o.next++
	return seq, due, true
}

// spawn starts a worker, a reused one if any left, unless MaxInFlight
// are running or the schedule is over.
func (o *openPhase) spawn() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.over || o.live >= o.cfg.MaxInFlight {
		return
	}
	var w *openWorker
	if k := len(o.free); k > 0 {
		w, o.free = o.free[k-1], o.free[:k-1]
	} else {
		w = &openWorker{worker: newWorker(o.cfg, o.phase, o.shards.at(len(o.ws)))}
		w.caller = o.cfg.Client.NewCaller(o.cfg.Validate)
		w.timer = time.NewTimer(time.Hour)
		w.timer.Stop()
		o.ws = append(o.ws, w.worker)
		o.all = append(o.all, w)
	}
	o.live++
	o.ready.Add(1)
	o.wg.Add(1)
	go o.work(w)
}

// grow reports whether a send that finds no other worker ready should
// start one: always when it is on time (it is then the one waiting
// for the next send time that is missing, as when the server stalls and
// every call lasts); when it is late (by lag, at since), at most once
// every LateThreshold. Late sends come in a backlog, after the client
// itself stalled (no CPU: a busy machine) or while the server takes less
// than the rate: the workers there drain it at their closed-loop speed,
// and a worker for every request of the backlog would only crowd the
// server and the client's memory for the time of a stall (20 ms at
// 20,000/s made 400), while the pool still grows, slowly, under a
// lasting overload.
func (o *openPhase) grow(lag, since time.Duration) bool {
	if lag <= LateThreshold {
		return true
	}
	last := o.lateGrown.Load()
	return since-time.Duration(last) >= LateThreshold && o.lateGrown.CompareAndSwap(last, int64(since))
}

// leave ends a ready worker's goroutine; spare keeps the worker for
// reuse.
func (o *openPhase) leave(w *openWorker, spare bool) {
	o.ready.Add(-1)
	o.mu.Lock()
	o.live--
	if spare {
		o.free = append(o.free, w)
	}
	o.mu.Unlock()
	o.wg.Done()
}

// work claims and sends requests until the schedule is over, the phase
// is interrupted or ended by a window, or enough others are ready.
func (o *openPhase) work(w *openWorker) {
	cfg := o.cfg
	for first := true; ; first = false {
		if !first {
			o.ready.Add(1) // back from a call (spawn counted the first time)
		}
		seq, due, ok := o.claim(!first)
		if !ok {
			o.leave(w, true)
			return
		}
		intended := o.start.Add(due)
		if wait := time.Until(intended); wait > 0 {
			w.timer.Reset(wait)
			select {
			case <-w.timer.C:
			case <-o.ctx.Done():
			case <-o.win.halted():
			}
		}
		if o.ctx.Err() != nil || o.win.stopped() {
			w.timer.Stop()
			o.leave(w, false)
			return
		}
		now := time.Now()
		if o.d > 0 && now.Sub(o.start) >= o.d {
			// Due before the end but not sent by then: dropped.
			o.mu.Lock()
			o.unsent++
			o.over = true
			o.mu.Unlock()
			o.leave(w, false)
			return
		}
		if o.ready.Add(-1) == 0 && o.grow(now.Sub(intended), now.Sub(o.start)) {
			// No other worker is ready: every one is awaiting an
			// answer. One more keeps the schedule while this one's
			// call lasts (up to MaxInFlight).
			o.spawn()
		}
		w.sends++
		w.lastSend = now.Sub(o.start)
		p, err := w.payload(cfg, seq)
		if err != nil {
			o.tl.send()
			w.answer(protocol.Outcome{Err: err}, 0, -1, &o.errs, &o.done, o.win, o.tl)
			continue
		}
		actual := now
		if cfg.Produce != nil {
			actual = time.Now() // the preprocessing delayed the send
		}
		if actual.Sub(intended) > LateThreshold {
			w.late++
		}
		o.tl.send()
		out := w.caller.Call(o.reqCtx, p)
		end := time.Now()
		if out.Err != nil && o.reqCtx.Err() != nil {
			continue // cut off by an interruption: not a measurement
		}
		w.answer(out, end.Sub(intended), end.Sub(actual), &o.errs, &o.done, o.win, o.tl)
		if w.exp != nil {
			w.exp.add(intended, actual, end.Sub(intended), end.Sub(actual), out)
		}
	}
}

// runOpenPhase sends n requests (or for duration d) on the pacer's
// schedule (openPhase). When every worker is awaiting an answer and
// MaxInFlight are running, the next send waits, and is late: its latency
// still counts from the intended time (no coordinated omission). With a
// windower (nil for none) the phase is cut into windows and may end
// early.
func runOpenPhase(ctx, reqCtx context.Context, cfg *Config, phase string, n int, d time.Duration, win *windower, tl *timeliner) phaseResult {
	pacer, _ := cfg.pacer(phase) // checked by Run
	o := &openPhase{ctx: ctx, reqCtx: reqCtx, cfg: cfg, phase: phase, win: win, tl: tl, n: uint64(n), d: d, pacer: pacer}
	o.start = time.Now()
	stopProgress := startProgress(cfg, phase, int64(n), d, o.start, &o.done, &o.errs)
	win.begin(o.start)
	tl.begin(o.start)
	o.shards = newShardSet(cfg.MaxInFlight, true, win, tl)
	o.spawn()
	o.wg.Wait()
	elapsed := time.Since(o.start)
	win.end()
	timeline := tl.end()
	stopProgress()

	var sent uint64
	var lastSend time.Duration
	for _, w := range o.all {
		w.caller.Close()
		sent += uint64(w.sends)
		lastSend = max(lastSend, w.lastSend)
	}
	out := merge(o.ws, o.shards, elapsed)
	out.started, out.timeline = o.start, timeline
	if d > 0 && ctx.Err() == nil && !win.stopped() {
		out.dropped = int64(o.unsent + dueBefore(pacer, o.next, d))
	}
	if sent > 0 {
		// n sends span n intervals: the last one's, then one more.
		out.sendRate = float64(sent) / (lastSend + time.Duration(float64(time.Second)/pacer.Rate())).Seconds()
	}
	return out
}

package load

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
)

// Window is one window of a measured phase: the requests answered between
// two window boundaries, measured on continuous load (the workers never
// stop between windows).
type Window struct {
	Index      int // from 0
	OK, Errors int64
	Elapsed    time.Duration
	// Latency of the window's successes (2 significant digits): around the
	// call in closed loop, from the intended send time in open loop.
	Latency measure.Latency
	// Final is set on the window the end of the phase closed (its request
	// count or duration reached) rather than a boundary: it may be short.
	Final bool
}

// Throughput is the window's successful responses per second.
func (w Window) Throughput() float64 {
	if w.Elapsed <= 0 {
		return 0
	}
	return float64(w.OK) / w.Elapsed.Seconds()
}

// windower cuts a measured phase into windows. Each shard (see shard)
// records into one of two window slots chosen by the current epoch, under
// the shard's lock; at a boundary the coordinator advances the epoch, then
// takes each shard's lock in turn to read and reset the old slot, so a
// worker still writing into it (a histogram record, not a call) is waited
// for. Merging and summarising happen at boundaries only.
type windower struct {
	size     int64
	onWindow func(Window) bool

	epoch  atomic.Int64
	stop   atomic.Bool   // OnWindow asked to end the phase
	halt   chan struct{} // closed when stop is set
	signal chan struct{} // a boundary was crossed (capacity 1)
	quit   chan struct{} // the phase is over
	done   chan struct{} // the coordinator has returned

	mu      sync.Mutex // guards workers: the open loop adds shards as it runs
	workers []*windowSlot

	// Owned by the coordinator goroutine.
	merged *measure.Histogram
	start  time.Time
	index  int
}

// windowSlot is one shard's share of the current and the previous
// window, guarded by the shard's lock.
type windowSlot struct {
	mu       *sync.Mutex
	hist     [2]*measure.Histogram
	ok, errs [2]int64
}

// newWindower returns nil when the configuration asks for no windows.
func newWindower(cfg *Config) *windower {
	if cfg.WindowRequests <= 0 || cfg.OnWindow == nil {
		return nil
	}
	return &windower{size: int64(cfg.WindowRequests), onWindow: cfg.OnWindow,
		signal: make(chan struct{}, 1), halt: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{}),
		merged: measure.NewCoarseHistogram()}
}

// slot registers a shard, whose lock is mu, and returns its window slot;
// nil without windows.
func (wd *windower) slot(mu *sync.Mutex) *windowSlot {
	if wd == nil {
		return nil
	}
	s := &windowSlot{mu: mu, hist: [2]*measure.Histogram{measure.NewCoarseHistogram(), measure.NewCoarseHistogram()}}
	wd.mu.Lock()
	wd.workers = append(wd.workers, s)
	wd.mu.Unlock()
	return s
}

// stopped reports whether OnWindow ended the phase; false without windows.
func (wd *windower) stopped() bool { return wd != nil && wd.stop.Load() }

// halted is closed when OnWindow ends the phase, for workers that wait
// for a send time; nil (never ready) without windows.
func (wd *windower) halted() <-chan struct{} {
	if wd == nil {
		return nil
	}
	return wd.halt
}

// note records one answered request in the current window; the caller
// holds the slot's shard lock.
func (wd *windower) note(s *windowSlot, ok bool, latency time.Duration) {
	if wd == nil {
		return
	}
	e := wd.epoch.Load() & 1
	if ok {
		s.hist[e].Record(latency)
		s.ok[e]++
	} else {
		s.errs[e]++
	}
}

// answered signals a boundary when the phase's answered count reaches a
// multiple of the window size.
func (wd *windower) answered(n int64) {
	if wd == nil || n%wd.size != 0 {
		return
	}
	select {
	case wd.signal <- struct{}{}:
	default: // a boundary is already pending: this window grows
	}
}

// begin starts the coordinator; the first window starts at start.
func (wd *windower) begin(start time.Time) {
	if wd == nil {
		return
	}
	wd.start = start
	go wd.run()
}

// end closes the last window (unless OnWindow ended the phase) once every
// worker has returned, and waits for the coordinator.
func (wd *windower) end() {
	if wd == nil {
		return
	}
	close(wd.quit)
	<-wd.done
}

func (wd *windower) run() {
	defer close(wd.done)
	for {
		select {
		case <-wd.signal:
			if !wd.stop.Load() && wd.close(false) {
				wd.stop.Store(true)
				close(wd.halt)
			}
		case <-wd.quit:
			if !wd.stop.Load() {
				wd.close(true)
			}
			return
		}
	}
}

// close ends the current window, hands it to OnWindow and returns its
// answer. A final window with no request in it is not reported.
func (wd *windower) close(final bool) bool {
	now := time.Now()
	old := wd.epoch.Load()
	wd.epoch.Store(old + 1) // only this goroutine writes the epoch
	b := old & 1
	wd.mu.Lock()
	slots := wd.workers // a shard added later reads the new epoch
	wd.mu.Unlock()
	wd.merged.Reset()
	var ok, errs int64
	for _, s := range slots {
		s.mu.Lock() // a worker that read the old epoch has finished with it
		wd.merged.Merge(s.hist[b])
		s.hist[b].Reset()
		ok += s.ok[b]
		errs += s.errs[b]
		s.ok[b], s.errs[b] = 0, 0
		s.mu.Unlock()
	}
	if final && ok+errs == 0 {
		return false
	}
	w := Window{Index: wd.index, OK: ok, Errors: errs, Elapsed: now.Sub(wd.start), Latency: wd.merged.Summary(), Final: final}
	wd.index++
	wd.start = now
	return wd.onWindow(w)
}

package load

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/measure"
)

// timeliner keeps a measured phase's timeline: one record per wall-clock
// second (measure.TimelineBuilder coarsens them past an hour). It works as
// the windower does: each shard records into one of two slots chosen by
// the current epoch, under the shard's lock; every second the coordinator
// advances the epoch, then takes each shard's lock in turn to read and
// reset the old slot. The hot path adds an atomic add at the send and one
// at the answer to the shard's lock.
type timeliner struct {
	epoch    atomic.Int64
	sent     atomic.Int64   // requests sent in the phase
	answered atomic.Int64   // requests answered (recorded) in the phase
	live     *live.Counters // Config.Live: its sends are counted here

	mu    sync.Mutex // guards slots: the open loop adds shards as it runs
	slots []*timeSlot

	quit chan struct{}
	done chan struct{}

	// Owned by the coordinator goroutine until done is closed.
	builder   measure.TimelineBuilder
	start     time.Time // of the interval being recorded
	sentSoFar int64     // sent at the start of that interval

	// Silence sampling: the last time an answer came or nothing was in
	// flight, what had been answered then, and the longest silence of the
	// interval being recorded.
	progressAt   time.Time
	answeredThen int64
	maxSilence   time.Duration
}

// silenceSample is how often the coordinator looks for answers.
const silenceSample = 100 * time.Millisecond

// timeSlot is one shard's share of the current and the previous second,
// guarded by the shard's lock.
type timeSlot struct {
	mu   *sync.Mutex
	hist [2]*measure.Histogram
	ok   [2]int64
	errs [2][measure.NumClasses]int64
}

func newTimeliner() *timeliner {
	return &timeliner{quit: make(chan struct{}), done: make(chan struct{})}
}

// slot registers a shard, whose lock is mu, and returns its slot. A nil
// timeliner (the warmup's) records nothing.
func (tl *timeliner) slot(mu *sync.Mutex) *timeSlot {
	if tl == nil {
		return nil
	}
	s := &timeSlot{mu: mu, hist: [2]*measure.Histogram{measure.NewCoarseHistogram(), measure.NewCoarseHistogram()}}
	tl.mu.Lock()
	tl.slots = append(tl.slots, s)
	tl.mu.Unlock()
	return s
}

// send notes one request sent.
func (tl *timeliner) send() {
	if tl != nil {
		tl.sent.Add(1)
		tl.live.Sent() // nil: nothing
	}
}

// note records one answered request: a success with its latency, or an
// error of class index class (measure.ClassIndex). The caller holds the
// slot's shard lock.
func (tl *timeliner) note(s *timeSlot, ok bool, class int, latency time.Duration) {
	if tl == nil {
		return
	}
	e := tl.epoch.Load() & 1
	if ok {
		s.hist[e].Record(latency)
		s.ok[e]++
	} else {
		s.errs[e][class]++
	}
}

// answer counts one answered request, once it is noted.
func (tl *timeliner) answer() {
	if tl != nil {
		tl.answered.Add(1)
	}
}

// begin starts the coordinator; the first interval starts at start and
// ends at the next whole wall-clock second.
func (tl *timeliner) begin(start time.Time) {
	if tl == nil {
		return
	}
	tl.start = start
	go tl.run()
}

// end closes the last interval once every worker has returned, and
// returns the timeline.
func (tl *timeliner) end() []measure.Interval {
	if tl == nil {
		return nil
	}
	close(tl.quit)
	<-tl.done
	return tl.builder.Intervals()
}

func (tl *timeliner) run() {
	defer close(tl.done)
	timer := time.NewTimer(time.Until(nextSecond(tl.start)))
	defer timer.Stop()
	sampler := time.NewTicker(silenceSample)
	defer sampler.Stop()
	tl.progressAt = tl.start
	for {
		select {
		case now := <-sampler.C:
			tl.sample(now)
		case <-timer.C:
			// The boundary is the whole second, even when the timer fires
			// late: intervals tile the wall clock, so shards align.
			boundary := nextSecond(tl.start)
			tl.close(boundary)
			timer.Reset(time.Until(nextSecond(boundary)))
		case <-tl.quit:
			tl.close(time.Now())
			return
		}
	}
}

// sample notes whether any request was answered since the last sample;
// if not while requests are in flight, the silence goes on.
func (tl *timeliner) sample(now time.Time) {
	answered := tl.answered.Load()
	if answered != tl.answeredThen || tl.sent.Load() == answered {
		tl.answeredThen, tl.progressAt = answered, now
		return
	}
	tl.maxSilence = max(tl.maxSilence, now.Sub(tl.progressAt))
}

// nextSecond is the first whole wall-clock second after t.
func nextSecond(t time.Time) time.Time { return t.Truncate(time.Second).Add(time.Second) }

// close ends the interval being recorded at end and adds it to the
// timeline; an empty last interval of no length is dropped.
func (tl *timeliner) close(end time.Time) {
	old := tl.epoch.Load()
	tl.epoch.Store(old + 1) // only this goroutine writes the epoch
	b := old & 1
	tl.mu.Lock()
	slots := tl.slots // a shard added later reads the new epoch
	tl.mu.Unlock()
	tl.sample(time.Now())
	sent := tl.sent.Load()
	iv := measure.Interval{MaxSilenceMs: float64(tl.maxSilence.Milliseconds()), Start: tl.start.UTC(), DurationS: end.Sub(tl.start).Seconds(),
		Sent: sent - tl.sentSoFar, InFlight: sent - tl.answered.Load()}
	var errs [measure.NumClasses]int64
	var h *measure.Histogram
	for _, s := range slots {
		s.mu.Lock() // a worker that read the old epoch has finished with it
		if s.ok[b] > 0 {
			if h == nil {
				h = measure.NewCoarseHistogram()
			}
			h.Merge(s.hist[b])
			s.hist[b].Reset()
		}
		iv.OK += s.ok[b]
		s.ok[b] = 0
		for c, n := range s.errs[b] {
			errs[c] += n
		}
		s.errs[b] = [measure.NumClasses]int64{}
		s.mu.Unlock()
	}
	for c, n := range errs {
		if n > 0 {
			if iv.Errors == nil {
				iv.Errors = map[string]int64{}
			}
			iv.Errors[measure.ClassAt(c)] = n
		}
	}
	if iv.InFlight < 0 {
		iv.InFlight = 0 // an interrupted request was sent and never recorded
	}
	tl.start, tl.sentSoFar, tl.maxSilence = end, sent, 0
	if iv.DurationS <= 0 && iv.Sent == 0 && iv.OK == 0 && len(iv.Errors) == 0 {
		return
	}
	tl.builder.Add(iv, h)
}

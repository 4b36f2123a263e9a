// Package load is the load engine: it drives one protocol client with a
// warmup and then a measured phase, either closed loop (a fixed number of
// workers, each sending its next request when the previous one is
// answered) or open loop (requests sent on a schedule, constant or
// Poisson, whether or not earlier ones were answered), and records every
// answer in per-worker histograms and error tallies that are merged at the
// end. Errors never stop a run; cancellation stops sending,
// lets requests in flight finish for a grace period, and keeps what was
// measured.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
)

// DefaultGrace is how long requests in flight may finish after an interruption.
const DefaultGrace = 2 * time.Second

// Config is one closed-loop run.
type Config struct {
	Client protocol.Client
	// Payloads are sent in rotation; prepared before the run so that no
	// encoding happens while the clock runs.
	Payloads []protocol.Payload
	// Produce, if set, makes each request's payload as it is sent (the
	// payload index, rotating over len(Payloads) as they would), instead
	// of taking a prepared one: the client's preprocessing per request
	// (--preprocess-per-request). Its time is kept apart in
	// Result.Preprocess: in closed loop the latency clock starts after
	// it; in open loop it delays the actual send (it is in the latency
	// from the intended time, not in the service time). A Produce error
	// is a failed request (PreprocessError).
	Produce func(i int) (protocol.Payload, error)
	// Validate checks each response in place (protocol.NewChecker, built
	// from the model's metadata): a response that is malformed or lacks
	// what the metadata promises counts as a failure. Nil checks only that
	// responses are well formed.
	Validate *protocol.Checker

	// Concurrency is the number of closed-loop workers. With Rate set it is
	// ignored: the load is open loop.
	Concurrency int
	// Rate, when above zero, makes the load open loop: requests are sent on
	// the Arrival process's schedule (ArrivalConstant or ArrivalPoisson,
	// seeded by Seed) at Rate per second, with at most MaxInFlight
	// (DefaultMaxInFlight if zero) awaiting answers. Latency is measured
	// from each request's intended send time; the service time from its
	// actual send is kept beside it.
	Rate        float64
	Arrival     string
	Seed        uint64
	MaxInFlight int
	// Stages, if set, change the load during the measured phase, which
	// must then be duration-bound (the stages' length; StagesDuration):
	// open loop, the rate ramping from Rate (0 allowed) on Arrival's
	// constant or Poisson schedule (StagedPacer); or with
	// StagedConcurrency closed loop, the number of active workers
	// following the target from Concurrency (0 allowed), adjusted every
	// StageTick. The warmup runs at the stages' mean rate, or at their
	// highest concurrency.
	Stages            []Stage
	StagedConcurrency bool
	// Schedule, if set, replays a trace, open loop, at ScheduleSpeed
	// (1 if 0), repeating it with ScheduleLoop (SchedulePacer). The
	// warmup runs at its mean rate.
	Schedule      *Schedule
	ScheduleSpeed float64
	ScheduleLoop  bool
	// BurstSize and BurstIdle shape Arrival ArrivalBursty (BurstyPacer):
	// Rate is then ignored, the mean rate is BurstSize/BurstIdle.
	BurstSize int
	BurstIdle time.Duration
	// Phase delays every send of a constant-rate schedule (Arrival
	// ArrivalConstant, no stages) by this much: one loader's offset among
	// several that share a rate, so that their sends interleave.
	Phase time.Duration
	// Requests is the number of measured requests, sent exactly; or
	// Duration bounds the measured phase (requests in flight at the end
	// are awaited and counted). Exactly one of them is set.
	Requests int
	Duration time.Duration
	// Warmup requests, sent at the run's concurrency before the measured
	// phase; their results never enter the statistics. 0 skips the warmup.
	Warmup int
	// Grace bounds the wait for requests in flight after ctx is cancelled;
	// DefaultGrace if zero.
	Grace time.Duration

	// OnProgress, if set, is called every ProgressInterval (default 1 s)
	// during each phase and once at its end, from a single goroutine.
	OnProgress       func(Progress)
	ProgressInterval time.Duration

	// WindowRequests, when above zero, cuts the measured phase into
	// windows of about that many answered requests, on continuous load:
	// the workers never stop between windows. OnWindow is called with each
	// window at its boundary, from a single goroutine, and returns true to
	// end the phase there; requests in flight are still awaited and count
	// in the Result (which always covers the whole phase). A phase that
	// ends by its count or duration reports its last window as Final. The
	// warmup has no windows.
	WindowRequests int
	OnWindow       func(Window) (stop bool)

	// Export, if set, gets one line per request of the measured phase
	// (export.go), labelled with ExportLabel and the load level. Nil costs
	// the hot path one nil check.
	Export      *RequestLog
	ExportLabel ExportLabel

	// Live, if set, counts the measured phase as it goes (sends, answers
	// by class, latency buckets, late sends) for --metrics-addr: a few
	// atomic adds a request. Nil costs the hot path one nil check.
	Live *live.Counters
}

// Phases of a run, as Progress reports them.
const (
	PhaseWarmup  = "warmup"
	PhaseMeasure = "measure"
)

// Progress is a snapshot of a phase.
type Progress struct {
	Phase    string
	Done     int64 // requests answered (successes and errors)
	Errors   int64
	Total    int64         // requests planned, 0 for a duration-bound phase
	Elapsed  time.Duration // since the phase began
	Duration time.Duration // planned length of a duration-bound phase
	Final    bool          // the phase is over
}

// Result is what a run measured.
type Result struct {
	WarmupAttempted int
	WarmupSucceeded int
	WarmupErrors    []measure.ErrorGroup
	// Failed is set when the run could not be measured (no warmup request
	// succeeded); Failure says why.
	Failed  bool
	Failure string

	Sent, OK, Errors int64
	Elapsed          time.Duration // of the measured phase
	// Latency of the successes: around the call in closed loop, from the
	// intended send time in open loop.
	Latency *measure.Histogram
	// ServiceTime of the successes from the actual send (open loop only).
	ServiceTime *measure.Histogram
	// LateSends counts open-loop requests sent more than LateThreshold
	// after their intended time (no worker free, or the client too slow).
	LateSends int64
	// Dropped counts open-loop requests due before the end of a
	// duration-bound phase that could not be sent by then (every worker
	// busy up to MaxInFlight, or a rate the client cannot reach): the
	// phase stops sending at its duration whatever the backlog, so it ends
	// within its duration plus a call's timeout. They are neither sent nor
	// errors.
	Dropped int64
	// Started and Ended are the wall-clock bounds of the measured phase
	// (UTC); Timeline is what happened in each of its seconds.
	Started, Ended time.Time
	Timeline       []measure.Interval
	// SendRate is the achieved open-loop send rate, per second.
	SendRate    float64
	ErrorGroups []measure.ErrorGroup
	// Interrupted is set when ctx was cancelled: the counts cover the
	// requests answered until then. Requests cut off after the grace
	// period are not counted.
	Interrupted bool
	// CPU is the process's CPU time (user + system) during the measured
	// phase, when CPUMeasured: some operating systems give no figure
	// (processCPU), and then CPU is 0 and means nothing.
	CPU         time.Duration
	CPUMeasured bool
	// RequestBytes and ResponseBytes add up the request and response
	// messages (bodies or gRPC messages) of the measured phase's answered
	// requests, failures included.
	RequestBytes, ResponseBytes int64
	// Preprocess is the time Config.Produce took per request of the
	// measured phase (nil without Produce).
	Preprocess *measure.Histogram
}

// open reports whether the load is open loop.
func (c *Config) open() bool {
	return c.Rate > 0 || c.Schedule != nil || c.Arrival == ArrivalBursty || (len(c.Stages) > 0 && !c.StagedConcurrency)
}

// closedStages reports whether the load is closed loop in stages.
func (c *Config) closedStages() bool { return len(c.Stages) > 0 && c.StagedConcurrency }

// pacer makes the open-loop pacer of a phase: the measured phase's
// follows the stages, the trace or the bursts; the warmup's is constant
// at their mean rate.
func (c *Config) pacer(phase string) (Pacer, error) {
	var p Pacer
	var err error
	switch {
	case c.Schedule != nil:
		speed := c.ScheduleSpeed
		if speed == 0 {
			speed = 1
		}
		if !(speed > 0) || math.IsInf(speed, 0) {
			return nil, fmt.Errorf("schedule speed %v: want a factor above 0", speed)
		}
		if len(c.Schedule.Offsets) == 0 {
			return nil, errors.New("schedule: no send time")
		}
		p = SchedulePacer{S: c.Schedule, Speed: speed, Loop: c.ScheduleLoop}
	case len(c.Stages) > 0:
		arrival := c.Arrival
		if arrival != "" && arrival != ArrivalConstant && arrival != ArrivalPoisson {
			return nil, fmt.Errorf("arrival %q: stages want %s or %s", arrival, ArrivalConstant, ArrivalPoisson)
		}
		p, err = NewStagedPacer(c.Stages, c.Rate, arrival == ArrivalPoisson, c.Seed)
	case c.Arrival == ArrivalBursty:
		p, err = NewBurstyPacer(c.BurstSize, c.BurstIdle, c.Seed)
	default:
		p, err = NewPacer(c.Arrival, c.Rate, c.Seed)
		if cp, ok := p.(ConstantPacer); ok && phase == PhaseMeasure {
			cp.Phase = c.Phase
			p = cp
		}
		return p, err
	}
	if err != nil || phase == PhaseMeasure {
		return p, err
	}
	return ConstantPacer{PerSecond: p.Rate()}, nil
}

func (c *Config) check() error {
	if c.closedStages() {
		if err := CheckStages(c.Stages, float64(c.Concurrency)); err != nil {
			return err
		}
		if c.Duration <= 0 {
			return errors.New("closed-loop stages need a duration")
		}
	}
	switch {
	case c.Client == nil:
		return errors.New("no client")
	case len(c.Payloads) == 0:
		return errors.New("no payload to send")
	case !c.open() && !c.closedStages() && c.Concurrency < 1:
		return fmt.Errorf("concurrency %d: need at least 1", c.Concurrency)
	case c.Rate < 0 || c.MaxInFlight < 0:
		return errors.New("negative rate or in-flight limit")
	case (c.Requests > 0) == (c.Duration > 0):
		return errors.New("give a number of requests or a duration, not both")
	case c.Requests < 0 || c.Duration < 0 || c.Warmup < 0:
		return errors.New("negative requests, duration or warmup")
	case c.WindowRequests < 0 || (c.WindowRequests > 0 && c.OnWindow == nil):
		return errors.New("windows need a positive WindowRequests and an OnWindow")
	}
	return nil
}

// Run performs the warmup and the measured phase. It returns an error only
// for a configuration that cannot run; everything that happens on the wire
// is in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = time.Second
	}
	// Requests run under their own context: an interruption stops new
	// sends at once but lets those in flight finish for the grace period.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	stopGrace := context.AfterFunc(ctx, func() {
		timer := time.NewTimer(cfg.Grace)
		defer timer.Stop()
		select {
		case <-timer.C:
			cancelRequests()
		case <-reqCtx.Done():
		}
	})
	defer stopGrace()

	if cfg.open() {
		p, err := cfg.pacer(PhaseMeasure)
		if err != nil {
			return nil, err
		}
		if cfg.Requests > 0 && p.Due(uint64(cfg.Requests-1)) == Never {
			return nil, fmt.Errorf("the schedule sends fewer than %d requests: loop it, or ask for fewer", cfg.Requests)
		}
		if cfg.MaxInFlight == 0 {
			cfg.MaxInFlight = DefaultMaxInFlight
		}
	}
	phase := runPhase
	if cfg.open() {
		phase = runOpenPhase
	}

	res := &Result{Latency: measure.NewHistogram(), ServiceTime: measure.NewHistogram()}
	if cfg.Warmup > 0 {
		w := phase(ctx, reqCtx, &cfg, PhaseWarmup, cfg.Warmup, 0, nil, nil)
		res.WarmupAttempted = int(w.sent)
		res.WarmupSucceeded = int(w.ok)
		res.WarmupErrors = w.tally.Groups()
		if ctx.Err() != nil {
			res.Interrupted = true
			return res, nil
		}
		if w.ok == 0 {
			res.Failed = true
			res.Failure = fmt.Sprintf("warmup failed: 0/%d requests succeeded", w.sent)
			if groups := res.WarmupErrors; len(groups) > 0 {
				res.Failure += fmt.Sprintf(" (%s: %s)", groups[0].Class, groups[0].Example)
			}
			return res, nil
		}
	}

	cpuBefore, okBefore := processCPU()
	tl := newTimeliner()
	tl.live = cfg.Live
	m := phase(ctx, reqCtx, &cfg, PhaseMeasure, cfg.Requests, cfg.Duration, newWindower(&cfg), tl)
	if cpuAfter, okAfter := processCPU(); okBefore && okAfter {
		res.CPU, res.CPUMeasured = cpuAfter-cpuBefore, true
	}
	res.Sent, res.OK, res.Errors = m.sent, m.ok, m.tally.Total()
	res.Elapsed = m.elapsed
	res.Started, res.Ended = m.started.UTC(), m.started.Add(m.elapsed).UTC()
	res.Timeline = m.timeline
	res.Latency = m.hist
	res.ServiceTime = m.service
	res.LateSends = m.late
	res.Dropped = m.dropped
	res.SendRate = m.sendRate
	res.ErrorGroups = m.tally.Groups()
	res.RequestBytes, res.ResponseBytes = m.reqBytes, m.respBytes
	res.Preprocess = m.prep
	res.Interrupted = ctx.Err() != nil
	return res, nil
}

// phaseResult is one phase's merged observations.
type phaseResult struct {
	sent, ok int64
	started  time.Time // wall clock
	timeline []measure.Interval
	hist     *measure.Histogram
	service  *measure.Histogram // open loop only
	tally    *measure.ErrorTally
	elapsed  time.Duration
	late     int64   // open loop only
	dropped  int64   // open loop only
	sendRate float64 // open loop only

	reqBytes, respBytes int64
	prep                *measure.Histogram // with Config.Produce only
}

// worker holds one worker's counters and error tally, kept without a lock;
// its latencies go to its shard.
type worker struct {
	sh    *shard
	tally *measure.ErrorTally
	ok    int64
	late  int64

	reqBytes, respBytes int64
	exp                 *recorder      // with Config.Export, in the measured phase only
	live                *live.Counters // with Config.Live, in the measured phase only
}

func newWorker(cfg *Config, phase string, sh *shard) *worker {
	w := &worker{sh: sh, tally: measure.NewErrorTally()}
	if cfg.Export != nil && phase == PhaseMeasure {
		w.exp = cfg.Export.recorder(cfg)
	}
	if phase == PhaseMeasure {
		w.live = cfg.Live
	}
	return w
}

// merge combines the workers' observations and the shards' histograms.
func merge(ws []*worker, shards *shardSet, elapsed time.Duration) phaseResult {
	out := phaseResult{tally: measure.NewErrorTally(), elapsed: elapsed}
	out.hist, out.service, out.prep = shards.histograms()
	for _, w := range ws {
		w.exp.flush()
		out.tally.Merge(w.tally)
		out.ok += w.ok
		out.late += w.late
		out.reqBytes += w.reqBytes
		out.respBytes += w.respBytes
	}
	out.sent = out.ok + out.tally.Total()
	return out
}

// payload returns the payload of request i: one of the prepared ones in
// rotation, or with Config.Produce one made now, its time recorded.
func (w *worker) payload(cfg *Config, i uint64) (protocol.Payload, error) {
	if cfg.Produce == nil {
		return cfg.Payloads[i%uint64(len(cfg.Payloads))], nil
	}
	start := time.Now()
	p, err := cfg.Produce(int(i % uint64(len(cfg.Payloads))))
	took := time.Since(start)
	w.preprocessed(took)
	if err != nil {
		err = &PreprocessError{Err: err}
		if w.exp != nil { // never sent: no intended time, its preprocessing as latency
			w.exp.add(time.Time{}, start, took, 0, protocol.Outcome{Err: err})
		}
		return nil, err
	}
	return p, nil
}

// PreprocessError is a request whose payload could not be made
// (Config.Produce failed): it counts as a failed request.
type PreprocessError struct{ Err error }

func (e *PreprocessError) Error() string { return "preprocessing the request: " + e.Err.Error() }
func (e *PreprocessError) Unwrap() error { return e.Err }

// runPhase sends n requests (or for duration d) with the configured
// concurrency; a warmup phase of fewer requests than workers starts only
// as many workers as requests. With a windower (nil for none) the phase
// is cut into windows and may end early.
func runPhase(ctx, reqCtx context.Context, cfg *Config, phase string, n int, d time.Duration, win *windower, tl *timeliner) phaseResult {
	workers := cfg.Concurrency
	var g *gate
	if cfg.closedStages() {
		workers = max(1, int(math.Ceil(MaxStageTarget(cfg.Stages, float64(cfg.Concurrency)))))
		if phase == PhaseMeasure {
			g = newGate()
		}
	}
	if n > 0 && n < workers {
		workers = n
	}
	var (
		tickets atomic.Int64 // requests claimed
		done    atomic.Int64 // requests answered and recorded
		errs    atomic.Int64
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	shards := newShardSet(workers, false, win, tl)
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = newWorker(cfg, phase, shards.at(i))
	}
	stopProgress := startProgress(cfg, phase, int64(n), d, start, &done, &errs)
	win.begin(start)
	tl.begin(start)
	stopGate := g.follow(cfg.Stages, float64(cfg.Concurrency), start, deadline)
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			caller := cfg.Client.NewCaller(cfg.Validate)
			defer caller.Close()
			var refused backoff
			next := i // rotate payloads; workers start at different ones
			for ctx.Err() == nil && !win.stopped() {
				if !g.admit(ctx, i, deadline) {
					return
				}
				if n > 0 && tickets.Add(1) > int64(n) {
					return
				}
				p, err := w.payload(cfg, uint64(next))
				next++
				if err != nil {
					tl.send()
					w.answer(protocol.Outcome{Err: err}, 0, -1, &errs, &done, win, tl)
					continue
				}
				sent := time.Now()
				if d > 0 && !sent.Before(deadline) {
					return
				}
				tl.send()
				out := caller.Call(reqCtx, p)
				latency := time.Since(sent)
				if out.Err != nil && reqCtx.Err() != nil {
					return // cut off by an interruption: not a measurement
				}
				class := w.answer(out, latency, -1, &errs, &done, win, tl)
				if w.exp != nil {
					w.exp.add(time.Time{}, sent, latency, 0, out)
				}
				if !refused.wait(ctx, class, deadline, d > 0) {
					return
				}
			}
		}()
	}
	wg.Wait()
	stopGate()
	elapsed := time.Since(start)
	win.end()
	timeline := tl.end()
	stopProgress()
	out := merge(ws, shards, elapsed)
	out.started, out.timeline = start, timeline
	return out
}

// startProgress reports progress every interval until the returned stop
// function is called, which also sends the final report.
func startProgress(cfg *Config, phase string, total int64, d time.Duration, start time.Time, done, errs *atomic.Int64) func() {
	if cfg.OnProgress == nil {
		return func() {}
	}
	snapshot := func(final bool) Progress {
		return Progress{Phase: phase, Done: done.Load(), Errors: errs.Load(), Total: total,
			Elapsed: time.Since(start), Duration: d, Final: final}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(cfg.ProgressInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				cfg.OnProgress(snapshot(false))
			case <-quit:
				cfg.OnProgress(snapshot(true))
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// Backoff bounds for a closed-loop worker whose connections are refused.
const (
	RefusedBackoffMin = 10 * time.Millisecond
	RefusedBackoffMax = time.Second
)

// backoff spaces a closed-loop worker's attempts while the server refuses
// connections: a server that is down answers a refusal in microseconds,
// and a worker that tried again at once would make tens of thousands of
// attempts a second, each an error. The wait starts at RefusedBackoffMin
// and doubles up to RefusedBackoffMax; any other outcome resets it. The
// open loop does not back off: its sends keep their schedule.
type backoff struct{ next time.Duration }

// wait sleeps after a refused connection (class is measure.ClassIndex's)
// and reports whether the worker should go on: false when ctx ended or the
// phase's deadline (if bounded) passed during the wait.
func (b *backoff) wait(ctx context.Context, class int, deadline time.Time, bounded bool) bool {
	if class != refusedClass {
		b.next = 0
		return true
	}
	b.next = min(max(2*b.next, RefusedBackoffMin), RefusedBackoffMax)
	d := b.next
	if bounded {
		if left := time.Until(deadline); left < d {
			d = left
		}
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !bounded || time.Now().Before(deadline)
	case <-ctx.Done():
		return false
	}
}

var refusedClass = measure.ClassIndex(measure.ClassConnectionRefused)

package session

import (
	"context"
	"fmt"
	"math"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// Sweep defaults, from the issue and the field guide.
const (
	DefaultMaxConcurrency   = analyze.ConcurrencyBreakingPoint // 64: higher needs --force
	DefaultBaselineRequests = 50                               // the guide's step 1: c=1, n=50
	DefaultWindowRequests   = 50
	DefaultMaxWindows       = 6
	// WindowPerWorker sizes a closed-loop window to at least this many
	// requests per worker, so that every worker answers several times in
	// each window.
	WindowPerWorker = 4
	// maxLevels bounds a search whatever the policy says.
	maxLevels = 40
)

// SweepOptions shape the sweet-spot search of one deployment.
type SweepOptions struct {
	// Mode is result.ModeConcurrency (closed loop, levels 1, 2, 4, ...)
	// or result.ModeRate (Poisson arrivals: the highest rate that meets
	// the objective, latency from the intended send time).
	Mode      string
	Objective analyze.Objective
	// MaxConcurrency is the highest concurrency tried, and in rate mode
	// the requests in flight at most (DefaultMaxConcurrency if zero).
	MaxConcurrency int
	// StartRate is the first rate tried; 0: half the baseline's
	// throughput (a light load even for a single-instance server). MaxRate
	// is the highest; 0: MaxConcurrency times the baseline's throughput.
	StartRate, MaxRate float64
	// BaselineRequests is the window of the baseline (c=1), whose first
	// window fails the search fast when the deployment does not work.
	BaselineRequests int
	// WindowRequests is a level's window (closed loop: at least
	// WindowPerWorker per worker); MaxWindows and Threshold are the
	// stability rule's.
	WindowRequests int
	MaxWindows     int
	Threshold      float64
	// Warmup is each level's warmup: 0 for the field guide's default
	// (min(10, max(5, n/20)) of the level's request budget), negative for
	// none.
	Warmup int
	Seed   uint64 // of the Poisson schedules
	// MemoryPerRequest and MemoryLimit are the guide's memory check: a
	// level whose requests in flight need more than the limit is warned
	// about before it runs (0: no check).
	MemoryPerRequest, MemoryLimit int64

	// MemoryLimits are the pods' memory limits by deployment name, when
	// known (the preset's), for the memory check of those without
	// MemoryLimit.
	MemoryLimits map[string]int64
}

func (o *SweepOptions) defaults() {
	if o.Mode == "" {
		o.Mode = result.ModeConcurrency
	}
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = DefaultMaxConcurrency
	}
	if o.BaselineRequests <= 0 {
		o.BaselineRequests = DefaultBaselineRequests
	}
	if o.WindowRequests <= 0 {
		o.WindowRequests = DefaultWindowRequests
	}
	if o.MaxWindows < analyze.StabilityWindows {
		o.MaxWindows = DefaultMaxWindows
	}
	if o.Threshold <= 0 {
		o.Threshold = analyze.StabilityThreshold
	}
	if o.Objective.MaxErrorRate <= 0 {
		o.Objective.MaxErrorRate = analyze.DefaultObjective.MaxErrorRate
	}
}

// Sweep is the scheduler of sweep: the sweet-spot search of every
// deployment in turn.
type Sweep struct {
	Options SweepOptions
}

// MaxInFlight is the search's bound on concurrency.
func (sw Sweep) MaxInFlight(plan.Deployment) int {
	o := sw.Options
	o.defaults()
	return o.MaxConcurrency
}

// Unmeasured is set when no deployment had a usable level.
func (Sweep) Unmeasured(f *result.File) string {
	if analyze.Best(f.Runs) < 0 {
		return "no deployment could be measured"
	}
	return ""
}

// Schedule searches each deployment; one that failed to open is
// recorded as a search that failed its baseline.
func (sw Sweep) Schedule(ctx context.Context, s *Session) error {
	o := sw.Options
	o.defaults()
	for _, d := range s.Plan().Deployments {
		if ctx.Err() != nil {
			return nil
		}
		t, err := s.Target(d.Name)
		if err != nil {
			s.File().Searches = append(s.File().Searches, failedSearch(resultDeployment(d), o, err))
			continue
		}
		to := o
		if to.MemoryLimit == 0 {
			to.MemoryLimit = o.MemoryLimits[d.Name]
		}
		s.Logf("%s", sweepIntro(t, to))
		if err := search(ctx, s, t, to); err != nil {
			return err
		}
	}
	return nil
}

// failedSearch records a deployment that could not be searched at all.
func failedSearch(dep result.Deployment, o SweepOptions, err error) result.Search {
	return result.Search{Deployment: dep, Mode: o.Mode, MaxConcurrency: o.MaxConcurrency, Status: result.SearchBaselineFailed,
		End: result.SearchBaselineFailed, Reason: fmt.Sprintf("the deployment failed its check: %v", err),
		RecommendedRange: []float64{}, Path: []result.SearchStep{}, Notes: []string{}}
}

// sweepIntro says what is about to be searched, and how.
func sweepIntro(t *Target, o SweepOptions) string {
	obj := fmt.Sprintf("errors <= %g%%", 100*o.Objective.MaxErrorRate)
	if o.Objective.MaxLatencyRatio > 0 {
		obj += fmt.Sprintf(", p50 <= %gx baseline", o.Objective.MaxLatencyRatio)
	}
	if o.Objective.SLO != nil {
		obj += ", " + o.Objective.SLO.String()
	}
	what := fmt.Sprintf("concurrency 1..%d", o.MaxConcurrency)
	if o.Mode == result.ModeRate {
		what = fmt.Sprintf("Poisson rate (at most %d in flight)", o.MaxConcurrency)
	}
	d := t.Deployment
	return fmt.Sprintf("\nSweeping %s (%s %s, model %s): %s; objective %s; windows of %d requests, at most %d a level",
		d.Name, d.Protocol, d.URL, d.Model, what, obj, o.WindowRequests, o.MaxWindows)
}

// sweeper is one search in progress.
type sweeper struct {
	ctx    context.Context
	sess   *Session
	t      *Target
	o      SweepOptions
	f      *result.File
	idx    int // of the search in f.Searches
	levels []sweptLevel
}

// sweptLevel is one measured level of the search.
type sweptLevel struct {
	level analyze.Measured
	run   result.Run
	phase string
}

// search searches one deployment's sweet spot: a baseline at concurrency
// 1, then the levels analyze.Next picks (rising geometrically, backing
// off when overloaded, bisecting to 10%), each measured until stable;
// analyze.Conclude reads the result. Every level is appended to the file
// as a run, the search to its searches, and the file saved after every
// level. The error is Save's; everything on the wire is in the file.
func search(ctx context.Context, sess *Session, t *Target, opts SweepOptions) error {
	f := sess.File()
	search := result.Search{Deployment: t.Deployment, Mode: opts.Mode, Objective: objectiveOf(opts.Objective),
		MaxConcurrency: opts.MaxConcurrency, Status: result.SearchRunning, Path: []result.SearchStep{}, Notes: []string{},
		RecommendedRange: []float64{}}
	f.Searches = append(f.Searches, search)
	s := &sweeper{ctx: ctx, sess: sess, t: t, o: opts, f: f, idx: len(f.Searches) - 1}
	return s.run()
}

func (s *sweeper) logf(format string, args ...any) { s.sess.Logf(format, args...) }

func (s *sweeper) search() *result.Search { return &s.f.Searches[s.idx] }

func (s *sweeper) run() error {
	obj := s.o.Objective
	base, err := s.measure(1, 0, "baseline", s.o.BaselineRequests, obj.MaxErrorRate)
	if err != nil || base.run.Status == result.StatusInterrupted {
		return s.finish(nil, analyze.Move{Done: true, Phase: result.SearchInterrupted, Reason: "interrupted during the baseline"}, err)
	}
	bp := point(base.run)
	s.search().Baseline = &bp
	sp := analyze.Space{Start: 1, Max: float64(s.o.MaxConcurrency), Factor: 2, Integer: true}
	var history []analyze.Measured
	if s.o.Mode == result.ModeRate {
		if ok, why := obj.Passes(base.level, base.level.P50); !ok || base.level.Throughput == 0 {
			if why == "" {
				why = "nothing succeeded"
			}
			return s.finish(nil, analyze.Move{Done: true, Phase: "baseline failed", Reason: "the deployment does not work at concurrency 1: " + why}, nil)
		}
		sp = s.rateSpace(base.level)
		s.search().MaxRate = sp.Max
	} else {
		history = append(history, base.level)
	}
	for len(s.levels) < maxLevels {
		step := analyze.Next(sp, obj, history)
		if step.Done {
			return s.finish(history, step, nil)
		}
		phase := step.Phase
		if len(history) == 0 {
			phase = "start"
		}
		if step.Reason != "" && phase == "back off" {
			s.logf("  %s", step.Reason)
		}
		c, rate := int(step.Next), 0.0
		if s.o.Mode == result.ModeRate {
			c, rate = 0, step.Next
		}
		lv, err := s.measure(c, rate, phase, 0, analyze.OverloadErrorRate)
		if err != nil || lv.run.Status == result.StatusInterrupted {
			return s.finish(history, analyze.Move{Done: true, Phase: result.SearchInterrupted, Reason: "interrupted"}, err)
		}
		history = append(history, lv.level)
	}
	return s.finish(history, analyze.Move{Done: true, Phase: "level limit", Reason: fmt.Sprintf("stopped after %d levels", maxLevels)}, nil)
}

// rateSpace is the rate search's range: from StartRate, or half the
// baseline's throughput, up to MaxRate, or MaxConcurrency workers at the
// baseline's pace.
func (s *sweeper) rateSpace(base analyze.Measured) analyze.Space {
	start := s.o.StartRate
	if start <= 0 {
		start = math.Max(1, math.Round(base.Throughput/2*10)/10)
	}
	limit := s.o.MaxRate
	if limit <= 0 {
		limit = math.Round(float64(s.o.MaxConcurrency) * base.Throughput)
	}
	return analyze.Space{Start: start, Max: math.Max(start, limit), Factor: 2}
}

// measure runs one level until stable, appends it to the file and the
// search's path, logs it and saves the file. window 0 sizes the window
// from the options and the level.
func (s *sweeper) measure(c int, rate float64, phase string, window int, failFast float64) (sweptLevel, error) {
	if window == 0 {
		window = max(s.o.WindowRequests, WindowPerWorker*c)
	}
	rule := analyze.StabilityRule{Threshold: s.o.Threshold, MaxWindows: s.o.MaxWindows, FailFast: failFast}
	warmup := s.o.Warmup
	switch {
	case warmup == 0:
		warmup = -1 // Step's field-guide default
	case warmup < 0:
		warmup = 0
	}
	lvl := Level{Concurrency: c, Warmup: warmup}
	label := fmt.Sprintf("c=%d", c)
	if rate > 0 {
		rule.ThroughputThreshold = analyze.PoissonThroughputThreshold(window, s.o.Threshold)
		lvl = Level{Rate: rate, Arrival: load.ArrivalPoisson, Seed: s.o.Seed, MaxInFlight: s.o.MaxConcurrency, Warmup: warmup}
		label = fmt.Sprintf("%g/s", rate)
	}
	memory := analyze.MemoryWarning(s.inflight(c, rate), s.o.MemoryPerRequest, s.o.MemoryLimit)
	if memory != "" {
		s.logf("  Warning before %s: %s", label, memory)
		s.note(label + ": " + memory)
	}
	r := s.sess.Measure(s.ctx, s.t, lvl, MeasureOptions{Label: s.t.Deployment.Name + " " + label, Note: memory,
		Windowing: &Windowing{Requests: window, Rule: rule}})
	at := float64(c)
	if rate > 0 {
		at = rate
	}
	lv := sweptLevel{level: levelOf(&r, at), run: r, phase: phase}
	measured := r.Status != result.StatusInterrupted
	if measured {
		s.levels = append(s.levels, lv)
		s.record(lv)
	}
	// Recorded after the search's path, so that one save holds both.
	var err error
	lv.run, err = s.sess.Record(r)
	if measured {
		s.levels[len(s.levels)-1].run = lv.run
	}
	s.logf("  %-8s %-9s %s", label, phase, s.describe(lv))
	return lv, err
}

// inflight is a level's expected requests in flight: its concurrency, or
// by Little's law its rate times the baseline's latency.
func (s *sweeper) inflight(c int, rate float64) float64 {
	if rate == 0 {
		return float64(c)
	}
	if b := s.search().Baseline; b != nil && b.P50Ms > 0 {
		return math.Min(float64(s.o.MaxConcurrency), math.Ceil(rate*b.P50Ms/1000))
	}
	return float64(s.o.MaxConcurrency)
}

// record adds a level to the search's path, judged against the baseline.
func (s *sweeper) record(lv sweptLevel) {
	step := result.SearchStep{OperatingPoint: point(lv.run), Phase: lv.phase, Passed: true}
	if lv.phase != "baseline" || s.o.Mode == result.ModeConcurrency {
		step.Passed, step.Why = s.o.Objective.Passes(lv.level, s.baselineP50())
	}
	if lv.run.Status == result.StatusFailed {
		step.Passed, step.Why = false, "failed: "+lv.run.Failure
	}
	if s.o.Mode == result.ModeRate && lv.phase == "baseline" {
		return // the closed-loop baseline is the search's Baseline, not a rate
	}
	s.search().Path = append(s.search().Path, step)
}

// baselineP50 is what latency ratios compare with: the concurrency-1
// level, or in rate mode the first rate measured.
func (s *sweeper) baselineP50() float64 {
	for _, lv := range s.levels {
		if s.o.Mode == result.ModeConcurrency || lv.phase != "baseline" {
			return lv.level.P50
		}
	}
	return 0
}

func (s *sweeper) note(n string) { s.search().Notes = append(s.search().Notes, n) }

// describe is a level's line in the log.
func (s *sweeper) describe(lv sweptLevel) string {
	r := lv.run
	if r.Status == result.StatusFailed {
		return "failed: " + r.Failure
	}
	line := fmt.Sprintf("%8.1f req/s  p50 %7.2f ms  p99 %7.2f ms  %5.1f%% errors  %s", r.ThroughputRPS, r.LatencyMs.P50, r.LatencyMs.P99, 100*r.ErrorRate, r.Stability.Note)
	if lv.phase == "baseline" && s.o.Mode == result.ModeRate {
		return line
	}
	if ok, why := s.o.Objective.Passes(lv.level, s.baselineP50()); !ok {
		return line + "; misses: " + why
	}
	return line + "; passes"
}

// levelOf is a run as the search policy sees it; a level that could not
// be measured counts as all errors.
func levelOf(r *result.Run, load float64) analyze.Measured {
	l := r.LatencyMs
	lv := analyze.Measured{Load: load, Throughput: r.ThroughputRPS, ErrorRate: r.ErrorRate,
		P50: l.P50, P90: l.P90, P95: l.P95, P99: l.P99, P999: l.P999, Stable: r.Stability != nil && r.Stability.Stable}
	if r.Status == result.StatusFailed || r.Counts.Sent == 0 {
		lv.ErrorRate, lv.Throughput = 1, 0
	}
	return lv
}

// point is a run in short.
func point(r result.Run) result.OperatingPoint {
	return result.OperatingPoint{Concurrency: r.Load.Concurrency, Rate: r.Load.Rate, ThroughputRPS: r.ThroughputRPS,
		P50Ms: r.LatencyMs.P50, P99Ms: r.LatencyMs.P99, ErrorRate: r.ErrorRate, Stable: r.Stability != nil && r.Stability.Stable}
}

func objectiveOf(o analyze.Objective) result.SearchObjective {
	so := result.SearchObjective{MaxErrorRate: o.MaxErrorRate, MaxLatencyRatio: o.MaxLatencyRatio}
	if o.SLO != nil {
		so.SLO = o.SLO.String()
	}
	return so
}

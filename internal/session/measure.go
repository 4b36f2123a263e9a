package session

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/scaling"
)

// Level is one load level: closed loop at a concurrency, or open loop at
// a rate when Rate is above zero.
type Level struct {
	Concurrency int
	Rate        float64
	Arrival     string        // load.ArrivalConstant or load.ArrivalPoisson
	Seed        uint64        // of a Poisson schedule
	MaxInFlight int           // open loop: requests awaiting answers at most
	Requests    int           // measured requests, or
	Duration    time.Duration // the measured phase's length
	Warmup      int           // warmup requests; negative for the field guide's default
	// Stages change the load over the measured phase (load.Config):
	// rates from Rate, or workers from Concurrency when StagedConcurrency.
	Stages            []load.Stage
	StagedConcurrency bool
	// Schedule is a trace to replay (open loop); SchedulePath and
	// ScheduleFormat are recorded with the run.
	Schedule                     *load.Schedule
	SchedulePath, ScheduleFormat string
	ScheduleSpeed                float64
	ScheduleLoop                 bool
	// BurstSize and BurstIdle shape Arrival load.ArrivalBursty.
	BurstSize int
	BurstIdle time.Duration
	// Phase delays a constant open-loop schedule (load.Config.Phase).
	Phase time.Duration
}

// open reports whether the level is open loop.
func (lvl Level) open() bool {
	return lvl.Rate > 0 || lvl.Schedule != nil || lvl.Arrival == load.ArrivalBursty || (len(lvl.Stages) > 0 && !lvl.StagedConcurrency)
}

// loadOf is how a result records the level's load.
func loadOf(lvl Level) result.Load {
	l := result.Load{Mode: result.ModeConcurrency, Concurrency: lvl.Concurrency, Requests: lvl.Requests, DurationS: lvl.Duration.Seconds()}
	if len(lvl.Stages) > 0 {
		from := float64(lvl.Concurrency)
		if !lvl.StagedConcurrency {
			from = lvl.Rate
		}
		l.StagesFrom = &from
		for _, st := range lvl.Stages {
			l.Stages = append(l.Stages, result.Stage{DurationS: st.Duration.Seconds(), Target: st.Target, Ramp: !st.Hold})
		}
		if lvl.StagedConcurrency {
			l.Concurrency = int(math.Ceil(load.MaxStageTarget(lvl.Stages, from)))
		}
	}
	if !lvl.open() {
		return l
	}
	l.Mode, l.Concurrency, l.Rate, l.Arrival = result.ModeRate, 0, lvl.Rate, lvl.Arrival
	if l.Arrival == "" {
		l.Arrival = load.ArrivalConstant
	}
	switch {
	case lvl.Schedule != nil:
		speed := cmp.Or(lvl.ScheduleSpeed, 1)
		l.Rate = load.SchedulePacer{S: lvl.Schedule, Speed: speed, Loop: lvl.ScheduleLoop}.Rate()
		l.Arrival = "schedule"
		l.Schedule = &result.Schedule{File: lvl.SchedulePath, Format: cmp.Or(lvl.ScheduleFormat, load.ScheduleOffsetsMs),
			Sends: len(lvl.Schedule.Offsets), Speed: speed, Loop: lvl.ScheduleLoop}
	case len(lvl.Stages) > 0:
		if p, err := load.NewStagedPacer(lvl.Stages, lvl.Rate, false, 1); err == nil {
			l.Rate = p.Rate()
		}
	case lvl.Arrival == load.ArrivalBursty:
		if p, err := load.NewBurstyPacer(lvl.BurstSize, lvl.BurstIdle, 1); err == nil {
			l.Rate = p.Rate()
		}
		l.Burst = &result.Burst{Size: lvl.BurstSize, IdleS: lvl.BurstIdle.Seconds()}
	}
	l.Rate = round(l.Rate, 3)
	return l
}

// levelHooks are the hooks of a step.
type levelHooks struct {
	Grace            time.Duration
	OnProgress       func(load.Progress)
	ProgressInterval time.Duration
	// Watch, if set, reads the server's counters around the step.
	Watch *ServerWatch
	// Pods, if set, watches the deployment's Kubernetes pods around it.
	Pods *kube.PodWatch
	// Scale, if set, records the deployment's replicas each second of it.
	Scale scaling.Source
	// WindowRequests and OnWindow cut the measured phase into windows
	// (see load.Config); a sweep uses them to measure until stable.
	WindowRequests int
	OnWindow       func(load.Window) bool
	// PreprocessPerRequest makes each payload as it is sent, its time
	// reported apart (payload.go).
	PreprocessPerRequest bool
	// Export, if set, gets a line per measured request, labelled with the
	// deployment and ExportStep.
	Export     *load.RequestLog
	ExportStep string
	// Live, if set, counts the measured phase for /metrics.
	Live *live.Counters
}

// usedConcurrency is the concurrency a closed-loop level runs at: the
// engine starts one worker a request at most, so a level of fewer
// requests than its concurrency runs at its request count.
func usedConcurrency(lvl Level) int {
	if lvl.Requests > 0 && lvl.Requests < lvl.Concurrency {
		return lvl.Requests
	}
	return lvl.Concurrency
}

// measureLevel runs one level against a target and returns its result
// entry: measurements and facts only; the judgement (bands, baseline
// ratios, notes) is analyze's, recomputed whenever the file is recorded or
// rendered.
func measureLevel(ctx context.Context, t *Target, lvl Level, opts levelHooks) result.Run {
	warmup := lvl.Warmup
	if warmup < 0 {
		warmup = analyze.WarmupRequests(lvl.Requests)
	}
	run := result.Run{
		Deployment: t.Deployment,
		Load:       loadOf(lvl),
		Errors:     []measure.ErrorGroup{},
	}
	if used := usedConcurrency(lvl); !lvl.open() && len(lvl.Stages) == 0 && used != lvl.Concurrency {
		// the engine starts no more workers than requests: the level is
		// labelled with the concurrency it ran at, and says so
		run.Load.Concurrency = used
		run.Note(fmt.Sprintf("concurrency %d was asked for, but %d requests keep at most %d in flight: measured at c=%d", lvl.Concurrency, lvl.Requests, used, used))
	}
	var watching *ServerObservation
	if opts.Watch != nil {
		watching = opts.Watch.Start(ctx)
	}
	var pods *kube.PodObservation
	if opts.Pods != nil {
		pods = opts.Pods.Start(ctx, lvl.Concurrency)
	}
	var scale *scaling.Observation
	if opts.Scale != nil {
		scale = scaling.Start(ctx, opts.Scale, time.Second)
	}
	res, err := load.Run(ctx, load.Config{
		Client: t.Client, Payloads: t.Payloads, Validate: t.Validate,
		Concurrency: lvl.Concurrency, Rate: lvl.Rate, Arrival: lvl.Arrival, Seed: lvl.Seed, MaxInFlight: lvl.MaxInFlight, Phase: lvl.Phase,
		Requests: lvl.Requests, Duration: lvl.Duration, Warmup: warmup,
		Stages: lvl.Stages, StagedConcurrency: lvl.StagedConcurrency,
		Schedule: lvl.Schedule, ScheduleSpeed: lvl.ScheduleSpeed, ScheduleLoop: lvl.ScheduleLoop,
		BurstSize: lvl.BurstSize, BurstIdle: lvl.BurstIdle,
		Grace: opts.Grace, OnProgress: opts.OnProgress, ProgressInterval: opts.ProgressInterval,
		WindowRequests: opts.WindowRequests, OnWindow: opts.OnWindow,
		Produce: produceFor(t, opts),
		Export:  opts.Export, ExportLabel: load.ExportLabel{Deployment: t.Deployment.Name, Step: opts.ExportStep},
		Live: opts.Live,
	})
	if err != nil {
		run.Status = result.StatusFailed
		run.Failure = err.Error()
		if watching != nil {
			_, _, _ = watching.Stop()
		}
		if pods != nil {
			pods.Stop()
		}
		if scale != nil {
			_, _ = scale.Stop(time.Now(), 0)
		}
		return run
	}
	run = fromEngine(run, res)
	stageTargets(run.Timeline, lvl, res.Started)
	if watching != nil {
		applyServer(&run, watching)
	}
	if pods != nil {
		applyPods(&run, pods)
	}
	if scale != nil {
		s, err := scale.Stop(res.Started, len(res.Timeline))
		run.Scaling = s
		if err != nil {
			run.Note("scaling: not observed: " + err.Error())
		}
	}
	return run
}

// cpuNotMeasured is the fact a run records where the operating system
// gives no process CPU time: the self-check then rests on late sends.
const cpuNotMeasured = "client CPU: not measured (this operating system gives no figure); the client's self-check rests on late sends only"

// fromEngine fills a result entry from what the engine measured.
func fromEngine(run result.Run, res *load.Result) result.Run {
	run.Warmup = result.Warmup{Attempted: res.WarmupAttempted, Succeeded: res.WarmupSucceeded, Errors: res.WarmupErrors}
	run.Counts = result.Counts{Sent: res.Sent, OK: res.OK, Errors: res.Errors}
	run.ElapsedS = round(res.Elapsed.Seconds(), 3)
	run.LatencyMs = res.Latency.Summary()
	if res.Sent > 0 {
		started, ended := res.Started, res.Ended
		run.Started, run.Ended = &started, &ended
		run.Histograms = &result.Histograms{Latency: res.Latency.MustEncode()}
		run.Timeline = res.Timeline
	}
	clientSide(&run, res)
	if res.ErrorGroups != nil {
		run.Errors = res.ErrorGroups
	}
	if res.Sent > 0 {
		run.ErrorRate = round(float64(res.Errors)/float64(res.Sent), 4)
	}
	if res.Elapsed > 0 {
		run.ThroughputRPS = round(float64(res.OK)/res.Elapsed.Seconds(), 2)
		if res.CPUMeasured {
			run.Client.CPUPercent = round(100*res.CPU.Seconds()/res.Elapsed.Seconds(), 1)
		}
	}
	if run.Load.Mode == result.ModeConcurrency {
		for _, g := range res.ErrorGroups {
			if g.Class == measure.ClassConnectionRefused {
				run.Note(fmt.Sprintf("connections refused: each worker waited between attempts (%s doubling to %s, reset by any answer), so the %d refused are attempts made, not requests a user would have sent", load.RefusedBackoffMin, load.RefusedBackoffMax, g.Count))
				break
			}
		}
	}
	if !res.CPUMeasured && res.Sent > 0 {
		run.Note(cpuNotMeasured)
	}
	if run.Load.Mode == result.ModeRate {
		svc := res.ServiceTime.Summary()
		run.ServiceTimeMs = &svc
		if run.Histograms != nil {
			run.Histograms.ServiceTime = res.ServiceTime.MustEncode()
		}
		run.SendRateRPS = round(res.SendRate, 2)
		run.Client.LateSends = res.LateSends
		run.Counts.Dropped = res.Dropped
		if res.Dropped > 0 {
			run.Note(fmt.Sprintf("%d requests due before the end were never sent (every request allowed in flight was awaiting its answer, or the client could not keep the rate): counted as dropped, neither sent nor errors", res.Dropped))
		}
	}
	run.Client.Cores = runtime.NumCPU()
	switch {
	case res.Failed:
		run.Status = result.StatusFailed
		run.Failure = res.Failure
	case res.Interrupted:
		run.Status = result.StatusInterrupted
	default:
		run.Status = result.StatusOK
	}
	return run
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// stageTargets sets each interval's Target for a level in stages: the
// mean of the stages' target over it (sampled every 10th of it), from the
// start of the measured phase.
func stageTargets(timeline []measure.Interval, lvl Level, started time.Time) {
	if len(lvl.Stages) == 0 {
		return
	}
	from := lvl.Rate
	if lvl.StagedConcurrency {
		from = float64(lvl.Concurrency)
	}
	const samples = 10
	for i := range timeline {
		iv := &timeline[i]
		at := iv.Start.Sub(started)
		length := time.Duration(iv.DurationS * float64(time.Second))
		var sum float64
		for k := range samples {
			sum += load.StageTarget(lvl.Stages, from, at+length*time.Duration(2*k+1)/(2*samples))
		}
		iv.Target = round(sum/samples, 3)
	}
}

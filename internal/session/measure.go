package session

import (
	"context"
	"math"
	"runtime"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
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
	// WindowRequests and OnWindow cut the measured phase into windows
	// (see load.Config); a sweep uses them to measure until stable.
	WindowRequests int
	OnWindow       func(load.Window) bool
	// PreprocessPerRequest makes each payload as it is sent, its time
	// reported apart (payload.go).
	PreprocessPerRequest bool
}

// measureLevel runs one level against a target and returns its result entry. The
// comparison with a baseline is Assess's job.
func measureLevel(ctx context.Context, t *Target, lvl Level, opts levelHooks) result.Run {
	warmup := lvl.Warmup
	if warmup < 0 {
		warmup = analyze.WarmupRequests(lvl.Requests)
	}
	run := result.Run{
		Deployment: t.Deployment,
		Load: result.Load{Mode: result.ModeConcurrency, Concurrency: lvl.Concurrency, Requests: lvl.Requests,
			DurationS: lvl.Duration.Seconds()},
		Errors:     []measure.ErrorGroup{},
		Assessment: result.Assessment{Notes: []string{}},
	}
	if lvl.Rate > 0 {
		arrival := lvl.Arrival
		if arrival == "" {
			arrival = load.ArrivalConstant
		}
		run.Load = result.Load{Mode: result.ModeRate, Rate: lvl.Rate, Arrival: arrival, Requests: lvl.Requests, DurationS: lvl.Duration.Seconds()}
	}
	var watching *ServerObservation
	if opts.Watch != nil {
		watching = opts.Watch.Start(ctx)
	}
	var pods *kube.PodObservation
	if opts.Pods != nil {
		pods = opts.Pods.Start(ctx, lvl.Concurrency)
	}
	res, err := load.Run(ctx, load.Config{
		Client: t.Client, Payloads: t.Payloads, Validate: t.Validate,
		Concurrency: lvl.Concurrency, Rate: lvl.Rate, Arrival: lvl.Arrival, Seed: lvl.Seed, MaxInFlight: lvl.MaxInFlight,
		Requests: lvl.Requests, Duration: lvl.Duration, Warmup: warmup,
		Grace: opts.Grace, OnProgress: opts.OnProgress, ProgressInterval: opts.ProgressInterval,
		WindowRequests: opts.WindowRequests, OnWindow: opts.OnWindow,
		Produce: produceFor(t, opts),
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
		judge(&run)
		return run
	}
	run = fromEngine(run, res)
	if watching != nil {
		applyServer(&run, watching, int64(res.WarmupSucceeded))
	}
	if pods != nil {
		applyPods(&run, pods)
	}
	judge(&run)
	return run
}

// fromEngine fills a result entry from what the engine measured.
func fromEngine(run result.Run, res *load.Result) result.Run {
	run.Warmup = result.Warmup{Attempted: res.WarmupAttempted, Succeeded: res.WarmupSucceeded, Errors: res.WarmupErrors}
	run.Counts = result.Counts{Sent: res.Sent, OK: res.OK, Errors: res.Errors}
	run.ElapsedS = round(res.Elapsed.Seconds(), 3)
	run.LatencyMs = res.Latency.Summary()
	clientSide(&run, res)
	if res.ErrorGroups != nil {
		run.Errors = res.ErrorGroups
	}
	if res.Sent > 0 {
		run.ErrorRate = round(float64(res.Errors)/float64(res.Sent), 4)
	}
	if res.Elapsed > 0 {
		run.ThroughputRPS = round(float64(res.OK)/res.Elapsed.Seconds(), 2)
		run.Client.CPUPercent = round(100*res.CPU.Seconds()/res.Elapsed.Seconds(), 1)
	}
	if run.Load.Mode == result.ModeRate {
		svc := res.ServiceTime.Summary()
		run.ServiceTimeMs = &svc
		run.SendRateRPS = round(res.SendRate, 2)
		run.Client.LateSends = res.LateSends
	}
	run.Client.Cores = runtime.NumCPU()
	if w := analyze.ClientLimit(run.Client.CPUPercent, run.Client.Cores, res.LateSends, res.Sent); w != "" {
		run.Client.Limited = true
		run.Client.Warning = w
		run.Assessment.Notes = append(run.Assessment.Notes, w)
	}
	switch {
	case res.Failed:
		run.Status = result.StatusFailed
		run.Failure = res.Failure
	case res.Interrupted:
		run.Status = result.StatusInterrupted
		run.Assessment.Notes = append(run.Assessment.Notes, "interrupted: the numbers cover the requests answered until then")
	default:
		run.Status = result.StatusOK
	}
	if run.Status != result.StatusFailed {
		band := analyze.ErrorBand(run.ErrorRate)
		run.Assessment.ErrorBand = band.Name
		if band != analyze.BandExcellent {
			run.Assessment.Notes = append(run.Assessment.Notes, "error rate "+band.Name+": "+band.Advice)
		}
	}
	if w := analyze.ConcurrencyWarning(run.Load.Concurrency); w != "" {
		run.Assessment.Notes = append(run.Assessment.Notes, w)
	}
	return run
}

// Assess compares each run with its deployment's baseline: the first
// measured run of the same deployment in runs (normally its lowest
// concurrency), and fills latency_vs_baseline_p50 and _p99.
func Assess(runs []result.Run) {
	baselines := map[string]*result.Run{}
	for i := range runs {
		r := &runs[i]
		if r.Status == result.StatusFailed || r.Counts.OK == 0 {
			continue
		}
		key := r.Deployment.Name + "\x00" + r.Deployment.URL + "\x00" + r.Deployment.Protocol
		b, ok := baselines[key]
		if !ok {
			baselines[key] = r
			b = r
		}
		r.Assessment.LatencyVsBaselineP50 = analyze.Ratio(r.LatencyMs.P50, b.LatencyMs.P50)
		r.Assessment.LatencyVsBaselineP99 = analyze.Ratio(r.LatencyMs.P99, b.LatencyMs.P99)
		r.Assessment.Check = analyze.CheckNote(r)
	}
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

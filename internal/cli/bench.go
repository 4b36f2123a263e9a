package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// benchFlags are the flags of `inferbench bench`.
type benchFlags struct {
	endpointFlags
	concurrency              int
	concurrencyRange         string
	rate                     float64
	arrival                  string
	maxInFlight              int
	requests                 int
	duration                 time.Duration
	perRequest, checkOutputs bool
	exportRequests           string
	force                    bool
	trials                   trialFlags
	// load that changes: stages, a trace, bursts
	stages, schedule, scheduleFormat, scheduleSpeed string
	scheduleLoop, concurrencySet                    bool
	burstSize                                       int
	burstIdle                                       time.Duration
}

func newBenchCommand() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Drive closed-loop load against one KServe v2 endpoint and report throughput, latency and errors",
		Long: `Drive load against one endpoint: it is checked first (server and model ready, metadata,
one verified request), then each level runs with the field guide's warmup
(min(10, max(5, n/20)) requests, failures tolerated), a timeout on every call, errors
classified and counted but never fatal, latency in HDR histograms.

Inputs are random data shaped by the model's metadata unless --input-data gives
perf_analyzer-style JSON. Payloads are encoded once, before the clock starts.

` + exitCodes,
		Example: `  inferbench bench --url http://127.0.0.1:8000 --protocol kserve-http --model yolov8n -c 8 -n 800
  inferbench bench --url 127.0.0.1:8001 --protocol kserve-grpc --model yolov8n --concurrency-range 1:32:x2 -n 200
  inferbench bench --url http://127.0.0.1:8000 --model yolov8n -c 16 -d 30s --format json -o result.json
  inferbench bench --url http://127.0.0.1:8000 --model yolov8n --rate 10 --stages 1m:400,2m:400:hold
  inferbench bench --url http://127.0.0.1:8000 --model yolov8n --schedule trace.txt --schedule-speed 2x
  inferbench bench --url http://127.0.0.1:8000 --model yolov8n --arrival bursty --burst-size 16 --burst-idle 500ms -d 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.concurrencySet = cmd.Flags().Changed("concurrency")
			p, err := f.plan()
			if err != nil {
				return usageError(err)
			}
			o := f.options(cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err := f.trials.apply(p, &o, cmd.Flags().Changed("repeat")); err != nil {
				return err
			}
			o.Plan = &result.PlanInfo{Path: "inferbench bench"}
			o.CheckOutputs, o.PreprocessPerRequest, o.Force = f.checkOutputs, f.perRequest, f.force
			o.ExportRequests = f.exportRequests
			_, err = session.Run(cmd.Context(), p, session.Steps{Steps: p.Steps}, o)
			return err
		},
	}
	fl := cmd.Flags()
	addEndpointFlags(fl, &f.endpointFlags)
	fl.IntVarP(&f.concurrency, "concurrency", "c", 1, "concurrent workers, each with one request in flight")
	fl.StringVar(&f.concurrencyRange, "concurrency-range", "", "several levels in one run: start:end:xFACTOR, start:end:+STEP or a,b,c")
	fl.Float64Var(&f.rate, "rate", 0, "open loop: send this many requests per second whatever the answers (latency counts from the intended send time)")
	fl.StringVar(&f.arrival, "arrival", load.ArrivalConstant, "open-loop arrivals: constant|poisson|bursty (seeded by --seed; bursty: --burst-size, --burst-idle)")
	fl.StringVar(&f.stages, "stages", "", "load that changes: DURATION:TARGET[:hold],... (30s:200,1m:400:hold); each stage ramps linearly to its target (rate from --rate, 0 by default; workers from --concurrency when -c is given) or holds it; the run lasts the stages' total")
	fl.StringVar(&f.schedule, "schedule", "", "replay a trace: send at the times of FILE (one offset in ms a line, or see --schedule-format); one pass unless --requests, --duration or --schedule-loop")
	fl.StringVar(&f.scheduleFormat, "schedule-format", load.ScheduleOffsetsMs, "--schedule's file: offsets-ms (a send time a line, ms from the start) or intervals-us (perf_analyzer's --request-intervals: a gap a line, µs)")
	fl.StringVar(&f.scheduleSpeed, "schedule-speed", "1x", "replay the trace this much faster: 2x halves its span")
	fl.BoolVar(&f.scheduleLoop, "schedule-loop", false, "repeat the trace until --requests or --duration is reached")
	fl.IntVar(&f.burstSize, "burst-size", 0, "--arrival bursty: requests sent back to back in each burst")
	fl.DurationVar(&f.burstIdle, "burst-idle", 0, "--arrival bursty: mean time between bursts (exponential, seeded by --seed); mean rate = burst-size / burst-idle")
	fl.IntVar(&f.maxInFlight, "max-inflight", load.DefaultMaxInFlight, "open loop: requests awaiting answers at most; further sends wait and count as late")
	fl.IntVarP(&f.requests, "requests", "n", 0, "measured requests per level, sent exactly (default 100 unless --duration)")
	fl.DurationVarP(&f.duration, "duration", "d", 0, "length of each level's measured phase, instead of --requests")
	fl.BoolVar(&f.perRequest, "preprocess-per-request", false, "decode, letterbox and encode the image for every request (base64 and the body for nim-http/http-json), timed apart and reported as client.preprocess_ms: what a client pays per frame")
	fl.BoolVar(&f.force, "force", false, "replace an existing --results file")
	fl.BoolVar(&f.checkOutputs, "check-outputs", false, "before the load, send each image once and report the detections (box counts, the reference server's fingerprints) in output_check")
	fl.StringVar(&f.exportRequests, "export-requests", "", "write one JSON line per measured request (not warmup) to this file: times, latency, status, error class, bytes (see docs/results.md)")
	addTrialFlags(fl, &f.trials)
	return cmd
}

// plan checks the flags and turns them into a one-deployment plan with a
// step per level.
func (f *benchFlags) plan() (*plan.Plan, error) {
	d, err := f.deployment()
	if err != nil {
		return nil, err
	}
	switch {
	case f.requests < 0 || f.duration < 0:
		return nil, errors.New("--requests and --duration must not be negative")
	case f.requests > 0 && f.duration > 0:
		return nil, errors.New("give --requests or --duration, not both")
	case f.rate < 0: // NaN and Inf: checkNumberFlags
		return nil, fmt.Errorf("--rate %g: must not be negative", f.rate)
	case f.maxInFlight < 1:
		return nil, fmt.Errorf("--max-inflight %d: need at least 1", f.maxInFlight)
	case f.arrival != load.ArrivalConstant && f.arrival != load.ArrivalPoisson && f.arrival != load.ArrivalBursty:
		return nil, fmt.Errorf("--arrival %q: want %s, %s or %s", f.arrival, load.ArrivalConstant, load.ArrivalPoisson, load.ArrivalBursty)
	case (f.rate > 0 || f.stages != "" || f.schedule != "" || f.arrival == load.ArrivalBursty) && f.concurrencyRange != "":
		return nil, errors.New("--rate, --stages, --schedule and --arrival bursty are one level: they do not combine with --concurrency-range")
	case f.concurrencyRange == "" && f.concurrency < 1:
		return nil, fmt.Errorf("--concurrency %d: need at least 1", f.concurrency)
	}
	if f.stages != "" || f.schedule != "" || f.arrival == load.ArrivalBursty || f.burstSize != 0 || f.burstIdle != 0 {
		return f.changingPlan(d)
	}
	if err := requirePreprocessImages(f.perRequest, d); err != nil {
		return nil, err
	}
	if f.requests == 0 && f.duration == 0 {
		f.requests = 100
	}
	levels := []int{f.concurrency}
	if f.concurrencyRange != "" {
		if levels, err = plan.ParseConcurrencyRange(f.concurrencyRange); err != nil {
			return nil, err
		}
	}
	step := plan.Step{Requests: f.requests, Duration: f.duration, Seed: f.seed}
	if f.warmup >= 0 {
		step.Warmup = &f.warmup
	}
	var steps []plan.Step
	if f.rate > 0 {
		step.Rate, step.Arrival, step.MaxInFlight = f.rate, f.arrival, f.maxInFlight
		step.Name = fmt.Sprintf("%g/s %s", f.rate, f.arrival)
		steps = append(steps, step)
	}
	for _, c := range levels {
		if f.rate == 0 {
			step.Concurrency, step.Name = c, fmt.Sprintf("c=%d", c)
			steps = append(steps, step)
		}
	}
	return &plan.Plan{Path: "inferbench bench", Deployments: []plan.Deployment{d}, Steps: steps}, nil
}

// changingPlan is the plan of a load that changes: stages, a trace or
// bursts, one step.
func (f *benchFlags) changingPlan(d plan.Deployment) (*plan.Plan, error) {
	step := plan.Step{Requests: f.requests, Duration: f.duration, Seed: f.seed, MaxInFlight: f.maxInFlight, Arrival: f.arrival}
	if f.warmup >= 0 {
		step.Warmup = &f.warmup
	}
	bursty := f.arrival == load.ArrivalBursty
	switch {
	case (f.burstSize != 0 || f.burstIdle != 0) && !bursty:
		return nil, errors.New("--burst-size and --burst-idle shape --arrival bursty: add it")
	case (f.stages != "") && (f.schedule != "" || bursty), f.schedule != "" && bursty:
		return nil, errors.New("give one of --stages, --schedule and --arrival bursty")
	}
	switch {
	case f.stages != "":
		stages, err := load.ParseStages(f.stages)
		if err != nil {
			return nil, fmt.Errorf("--stages: %w", err)
		}
		if f.requests > 0 || f.duration > 0 {
			return nil, fmt.Errorf("--stages set the run's length (%v): give no --requests or --duration", load.StagesDuration(stages))
		}
		step.Stages, step.Duration = stages, load.StagesDuration(stages)
		if f.concurrencySet {
			if f.rate > 0 {
				return nil, errors.New("--stages ramp either workers (from --concurrency) or a rate (from --rate): give one")
			}
			step.Concurrency, step.StagedConcurrency, step.Arrival, step.MaxInFlight = f.concurrency, true, "", 0
		} else {
			step.Rate = f.rate
		}
		step.Name = "stages " + f.stages
	case f.schedule != "":
		if f.rate > 0 || f.concurrencySet || f.arrival != load.ArrivalConstant {
			return nil, errors.New("--schedule sets the send times: give no --rate, --concurrency or --arrival")
		}
		s, err := load.ReadSchedule(f.schedule, f.scheduleFormat)
		if err != nil {
			return nil, err
		}
		speed, err := load.ParseSpeed(f.scheduleSpeed)
		if err != nil {
			return nil, fmt.Errorf("--schedule-speed: %w", err)
		}
		step.Schedule, step.SchedulePath, step.ScheduleFormat, step.ScheduleSpeed, step.ScheduleLoop = s, f.schedule, f.scheduleFormat, speed, f.scheduleLoop
		step.Arrival = ""
		switch {
		case f.requests == 0 && f.duration == 0 && f.scheduleLoop:
			return nil, errors.New("--schedule-loop repeats the trace until --requests or --duration: give one")
		case f.requests == 0 && f.duration == 0:
			step.Requests = len(s.Offsets)
		case f.requests > len(s.Offsets) && !f.scheduleLoop:
			return nil, fmt.Errorf("--requests %d: %s sends %d (add --schedule-loop to repeat it)", f.requests, f.schedule, len(s.Offsets))
		}
		step.Name = "schedule " + f.schedule
	default: // bursty
		switch {
		case f.rate > 0 || f.concurrencySet:
			return nil, errors.New("--arrival bursty sends --burst-size requests every --burst-idle on average: give no --rate or --concurrency")
		case f.burstSize < 1:
			return nil, fmt.Errorf("--burst-size %d: --arrival bursty needs at least 1", f.burstSize)
		case f.burstIdle <= 0:
			return nil, fmt.Errorf("--burst-idle %v: --arrival bursty needs a mean time between bursts above 0", f.burstIdle)
		}
		step.BurstSize, step.BurstIdle = f.burstSize, f.burstIdle
		if f.requests == 0 && f.duration == 0 {
			step.Requests = 100
		}
		step.Name = fmt.Sprintf("bursts of %d every %v", f.burstSize, f.burstIdle)
	}
	if err := requirePreprocessImages(f.perRequest, d); err != nil {
		return nil, err
	}
	return &plan.Plan{Path: "inferbench bench", Deployments: []plan.Deployment{d}, Steps: []plan.Step{step}}, nil
}

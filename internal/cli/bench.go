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
  inferbench bench --url http://127.0.0.1:8000 --model yolov8n -c 16 -d 30s --format json -o result.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	fl.StringVar(&f.arrival, "arrival", load.ArrivalConstant, "open-loop arrivals: constant|poisson (seeded by --seed)")
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
	case f.arrival != load.ArrivalConstant && f.arrival != load.ArrivalPoisson:
		return nil, fmt.Errorf("--arrival %q: want %s or %s", f.arrival, load.ArrivalConstant, load.ArrivalPoisson)
	case f.rate > 0 && f.concurrencyRange != "":
		return nil, errors.New("--rate is one open-loop level: it does not combine with --concurrency-range")
	case f.concurrencyRange == "" && f.concurrency < 1:
		return nil, fmt.Errorf("--concurrency %d: need at least 1", f.concurrency)
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

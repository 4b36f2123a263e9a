package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sandbox"
	"github.com/inferbench/inferbench/internal/session"
)

// sweepFlags are the flags of `inferbench sweep`: bench's endpoint flags
// and the search's own.
type sweepFlags struct {
	endpointFlags
	mode                          string
	maxConcurrency                int
	force                         bool
	maxErrorRate, maxLatencyRatio float64
	slo                           string
	baselineRequests              int
	windowRequests, maxWindows    int
	stability                     float64
	startRate, maxRate            float64
	memoryPerRequest, memoryLimit string
	preset                        string
	loaders                       int
}

// errSweepLoaders says why sweep does not split its load over loaders.
var errSweepLoaders = errors.New("sweep does not split over loaders: a search picks each level from the one before, measured in windows until stable, " +
	"and a split run's levels are fixed when its loaders start; sweep from one machine (inside the cluster for the honest figures), " +
	"then measure the levels it found split over loaders with `inferbench run PLAN --loaders N` (steps at those levels)")

func newSweepCommand() *cobra.Command {
	f := &sweepFlags{}
	cmd := &cobra.Command{
		Use:   "sweep [PLAN.yaml]",
		Short: "Find each deployment's safe operating point: sweet spot, max useful concurrency, breaking point",
		Long: `Search one endpoint (flags as in bench), a plan's deployments, or the field-guide preset
for its sweet spot, the field guide's troubleshooting workflow done properly:

  1. a baseline at concurrency 1 (--baseline-requests, 50) that fails fast if the
     deployment does not work;
  2. concurrency rising 1, 2, 4, 8, 16, 32, 64 while each level passes the objective
     (errors under --max-error-rate, 5%; p50 under --max-latency-ratio, 2x the
     baseline; and --slo if given); rising stops at a throughput plateau (under 5%
     gain twice running) or at the first failing level; above 50% errors
     (overloaded) it backs off to half;
  3. bisection between the last passing and the first failing level to about 10%
     (the guide's "reduce to 12 / try 24");
  4. every level measured in windows on continuous load until stable
     (perf_analyzer's rule: the last 3 windows within 10% in throughput and p50),
     at most --max-windows; an unstable level is flagged, never silently used.

--mode rate searches the highest Poisson arrival rate that meets the objective
(doubling, then bisection), latency counted from the intended send time, with
never more than --max-concurrency requests in flight.

Nothing goes above --max-concurrency (64, the guide's breaking-point zone) without
--force. The guide's memory check warns before a level whose requests in flight
times --memory-per-request pass --pod-memory-limit.

The report gives, per deployment, the baseline latency, the sweet spot (the level
with the highest throughput that meets the objective), the max useful concurrency
(where throughput stops growing), the breaking point (the first level with more
than 10% errors or an SLO miss) and the recommended range; --results keeps every
measured level and the searches (JSON, rewritten after every level).`,
		Example: `  inferbench sweep --url 127.0.0.1:8001 --protocol kserve-grpc --model yolov8n
  inferbench sweep --url http://127.0.0.1:8000 --model yolov8n --mode rate --slo 'p99<=50ms'
  inferbench sweep plan.yaml --results sweep.json --format html -o sweep.html
  inferbench sweep --preset field-guide --format md`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, args, f) },
	}
	fl := cmd.Flags()
	addEndpointFlags(fl, &f.endpointFlags)
	fl.StringVar(&f.mode, "mode", result.ModeConcurrency, "what to search: concurrency (closed loop) or rate (Poisson arrivals)")
	fl.IntVar(&f.maxConcurrency, "max-concurrency", session.DefaultMaxConcurrency, "highest concurrency tried (rate mode: requests in flight at most); above 64 needs --force")
	fl.BoolVar(&f.force, "force", false, "allow --max-concurrency above 64, the field guide's breaking-point zone; replace an existing --results file")
	fl.Float64Var(&f.maxErrorRate, "max-error-rate", analyze.DefaultObjective.MaxErrorRate, "objective: a passing level's error rate is at most this (0..1)")
	fl.Float64Var(&f.maxLatencyRatio, "max-latency-ratio", analyze.DefaultObjective.MaxLatencyRatio, "objective: a passing level's p50 is at most this times the baseline's (0: not checked)")
	fl.StringVar(&f.slo, "slo", "", "objective: an absolute latency bound on a percentile, e.g. p99<=200ms")
	fl.IntVarP(&f.baselineRequests, "baseline-requests", "n", session.DefaultBaselineRequests, "requests in each window of the baseline at concurrency 1 (its first window fails fast)")
	fl.IntVar(&f.windowRequests, "window-requests", session.DefaultWindowRequests, fmt.Sprintf("requests in each measurement window (closed loop: at least %d per worker)", session.WindowPerWorker))
	fl.IntVar(&f.maxWindows, "max-windows", session.DefaultMaxWindows, "windows a level may take to settle before it is flagged unstable (at least 3)")
	fl.Float64Var(&f.stability, "stability", analyze.StabilityThreshold, "stability threshold: max/min - 1 of throughput and p50 over the last 3 windows")
	fl.Float64Var(&f.startRate, "start-rate", 0, "rate mode: first rate tried (default: half the baseline's throughput)")
	fl.Float64Var(&f.maxRate, "max-rate", 0, "rate mode: highest rate tried (default: max-concurrency times the baseline's throughput)")
	fl.StringVar(&f.memoryPerRequest, "memory-per-request", "100MB", "the guide's memory check: memory one request in flight holds on the server")
	fl.StringVar(&f.memoryLimit, "pod-memory-limit", "", "the guide's memory check: the pod's memory limit, e.g. 4.8GB (empty: no check; --preset: each pod's own)")
	fl.StringVar(&f.preset, "preset", "", "sweep the reference server's preset (field-guide), started in this process on free loopback ports")
	fl.IntVar(&f.loaders, "loaders", 0, "not for sweep (run --loaders splits a plan): refused with why")
	_ = fl.MarkHidden("loaders")
	return cmd
}

// options checks the search flags and turns them into the sweep's options.
func (f *sweepFlags) search(log io.Writer) (session.SweepOptions, error) {
	o := session.SweepOptions{Mode: f.mode, MaxConcurrency: f.maxConcurrency, StartRate: f.startRate, MaxRate: f.maxRate,
		BaselineRequests: f.baselineRequests, WindowRequests: f.windowRequests, MaxWindows: f.maxWindows, Threshold: f.stability,
		Seed: f.seed}
	if f.mode != result.ModeConcurrency && f.mode != result.ModeRate {
		return o, fmt.Errorf("--mode %q: want %s or %s", f.mode, result.ModeConcurrency, result.ModeRate)
	}
	if !slices.Contains(report.Formats, f.format) {
		return o, fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))
	}
	switch {
	case f.maxConcurrency < 1:
		return o, fmt.Errorf("--max-concurrency %d: need at least 1", f.maxConcurrency)
	case f.maxConcurrency > analyze.ConcurrencyBreakingPoint && !f.force:
		return o, fmt.Errorf("--max-concurrency %d is above %d, the field guide's breaking-point zone (avoid: unrealistic workload, high error rates, unreliable results, may crash pods); pass --force to go there anyway",
			f.maxConcurrency, analyze.ConcurrencyBreakingPoint)
	case f.maxConcurrency > analyze.ConcurrencyBreakingPoint:
		fmt.Fprintf(log, "Warning: --force: levels up to %d. %s. The field guide: avoid concurrency above 64 (unrealistic workload, high error rates, unreliable results, may crash pods): no practical benefit.\n",
			f.maxConcurrency, analyze.ConcurrencyWarning(f.maxConcurrency))
	}
	if f.maxErrorRate <= 0 || f.maxErrorRate >= 1 || f.maxLatencyRatio < 0 {
		return o, errors.New("--max-error-rate must lie between 0 and 1, and --max-latency-ratio must not be negative")
	}
	if f.baselineRequests < 1 || f.windowRequests < 1 || f.maxWindows < analyze.StabilityWindows || f.stability <= 0 {
		return o, fmt.Errorf("--baseline-requests and --window-requests need at least 1, --max-windows at least %d, --stability above 0", analyze.StabilityWindows)
	}
	if f.startRate < 0 || f.maxRate < 0 || (f.maxRate > 0 && f.startRate > f.maxRate) {
		return o, errors.New("--start-rate and --max-rate must not be negative, and the start must not pass the maximum")
	}
	o.Objective = analyze.Objective{MaxErrorRate: f.maxErrorRate, MaxLatencyRatio: f.maxLatencyRatio}
	if f.slo != "" {
		slo, err := analyze.ParseSLO(f.slo)
		if err != nil {
			return o, fmt.Errorf("--slo: %w", err)
		}
		o.Objective.SLO = slo
	}
	var err error
	if o.MemoryPerRequest, err = refserver.ParseBytes(f.memoryPerRequest); err != nil {
		return o, fmt.Errorf("--memory-per-request: %w", err)
	}
	if f.memoryLimit != "" {
		if o.MemoryLimit, err = refserver.ParseBytes(f.memoryLimit); err != nil {
			return o, fmt.Errorf("--pod-memory-limit: %w", err)
		}
	}
	// bench's --warmup: negative is the guide's default, 0 none.
	switch {
	case f.warmup < 0:
		o.Warmup = 0
	case f.warmup == 0:
		o.Warmup = -1
	default:
		o.Warmup = f.warmup
	}
	return o, nil
}

func runSweep(cmd *cobra.Command, args []string, f *sweepFlags) error {
	log := cmd.ErrOrStderr()
	if cmd.Flags().Changed("loaders") {
		return planError(errSweepLoaders)
	}
	search, err := f.search(log)
	if err != nil {
		return err
	}
	sources := 0
	for _, given := range []bool{f.url != "", len(args) == 1, f.preset != ""} {
		if given {
			sources++
		}
	}
	if sources != 1 {
		return errors.New("give one endpoint (--url, --model, ...), a plan file, or --preset field-guide")
	}
	o := f.options(cmd.OutOrStdout(), log)
	o.Force = f.force
	var p *plan.Plan
	switch {
	case f.preset != "":
		box, err := sandbox.Start(f.preset)
		if err != nil {
			return err
		}
		defer box.Stop()
		p, search.MemoryLimits, o.MustOpen = box.Plan, box.MemoryLimits, false
		o.Plan = &result.PlanInfo{Path: "inferbench sweep --preset " + f.preset + " (in-process)"}
		session.PrintDeployments(o.Log, "Started the "+f.preset+" preset on loopback (emulated: no GPU needed):", p)
	case len(args) == 1:
		if p, err = plan.LoadFile(args[0], nil); err != nil {
			return planError(err)
		}
		if p.Loaders != nil {
			return planError(fmt.Errorf("%s: loaders: %w", args[0], errSweepLoaders))
		}
		for i := range p.Deployments {
			if err := fillTLS(&p.Deployments[i], f.tls); err != nil {
				return planError(err)
			}
		}
		text, _ := plan.ReadFile(args[0])
		o.Plan, o.MustOpen = &result.PlanInfo{Path: args[0], Text: p.RedactText(string(text))}, false
	default:
		d, err := f.deployment()
		if err != nil {
			return err
		}
		p = &plan.Plan{Path: "inferbench sweep", Deployments: []plan.Deployment{d}}
		o.Plan = &result.PlanInfo{Path: "inferbench sweep"}
	}
	_, err = session.Run(cmd.Context(), p, session.Sweep{Options: search}, o)
	return err
}

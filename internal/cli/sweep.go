package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/run"
)

// sweepFlags are the flags of `inferbench sweep`: bench's endpoint flags
// and the search's own.
type sweepFlags struct {
	benchFlags
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
}

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
	addTargetFlags(fl, &f.benchFlags)
	fl.StringVar(&f.mode, "mode", result.ModeConcurrency, "what to search: concurrency (closed loop) or rate (Poisson arrivals)")
	fl.IntVar(&f.maxConcurrency, "max-concurrency", run.DefaultMaxConcurrency, "highest concurrency tried (rate mode: requests in flight at most); above 64 needs --force")
	fl.BoolVar(&f.force, "force", false, "allow --max-concurrency above 64, the field guide's breaking-point zone")
	fl.Float64Var(&f.maxErrorRate, "max-error-rate", analyze.DefaultObjective.MaxErrorRate, "objective: a passing level's error rate is at most this (0..1)")
	fl.Float64Var(&f.maxLatencyRatio, "max-latency-ratio", analyze.DefaultObjective.MaxLatencyRatio, "objective: a passing level's p50 is at most this times the baseline's (0: not checked)")
	fl.StringVar(&f.slo, "slo", "", "objective: an absolute latency bound on a percentile, e.g. p99<=200ms")
	fl.IntVarP(&f.baselineRequests, "baseline-requests", "n", run.DefaultBaselineRequests, "requests in each window of the baseline at concurrency 1 (its first window fails fast)")
	fl.IntVar(&f.windowRequests, "window-requests", run.DefaultWindowRequests, fmt.Sprintf("requests in each measurement window (closed loop: at least %d per worker)", run.WindowPerWorker))
	fl.IntVar(&f.maxWindows, "max-windows", run.DefaultMaxWindows, "windows a level may take to settle before it is flagged unstable (at least 3)")
	fl.Float64Var(&f.stability, "stability", analyze.StabilityThreshold, "stability threshold: max/min - 1 of throughput and p50 over the last 3 windows")
	fl.Float64Var(&f.startRate, "start-rate", 0, "rate mode: first rate tried (default: half the baseline's throughput)")
	fl.Float64Var(&f.maxRate, "max-rate", 0, "rate mode: highest rate tried (default: max-concurrency times the baseline's throughput)")
	fl.StringVar(&f.memoryPerRequest, "memory-per-request", "100MB", "the guide's memory check: memory one request in flight holds on the server")
	fl.StringVar(&f.memoryLimit, "pod-memory-limit", "", "the guide's memory check: the pod's memory limit, e.g. 4.8GB (empty: no check; --preset: each pod's own)")
	fl.StringVar(&f.preset, "preset", "", "sweep the reference server's preset (field-guide), started in this process on free loopback ports")
	return cmd
}

// options checks the search flags and turns them into the sweep's options.
func (f *sweepFlags) options(log io.Writer) (run.SweepOptions, error) {
	o := run.SweepOptions{Mode: f.mode, MaxConcurrency: f.maxConcurrency, StartRate: f.startRate, MaxRate: f.maxRate,
		BaselineRequests: f.baselineRequests, WindowRequests: f.windowRequests, MaxWindows: f.maxWindows, Threshold: f.stability,
		Seed: f.seed, Grace: f.grace}
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

// sweepTarget is one deployment ready to be searched, or why it is not.
type sweepTarget struct {
	dep         result.Deployment
	target      *run.Target
	watch       *run.ServerWatch
	memoryLimit int64 // the pod's, when known (preset)
	err         error
}

func runSweep(cmd *cobra.Command, args []string, f *sweepFlags) error {
	log := cmd.ErrOrStderr()
	opts, err := f.options(log)
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
	ctx := cmd.Context()
	file := result.New(Version, time.Now())
	file.Environment = result.CurrentEnvironment()
	var targets []sweepTarget
	switch {
	case f.preset != "":
		var stop func()
		targets, stop, err = presetTargets(ctx, f.preset, logWriter(log, f.quiet))
		if err != nil {
			return err
		}
		defer stop()
		file.Plan = &result.PlanInfo{Path: "inferbench sweep --preset " + f.preset + " (in-process)"}
	case len(args) == 1:
		p, err := plan.LoadFile(args[0], nil)
		if err != nil {
			return planError(err)
		}
		text, _ := os.ReadFile(args[0])
		file.Plan = &result.PlanInfo{Path: args[0], Text: string(text)}
		targets = planTargets(ctx, p.Deployments, f.timeout)
	default:
		t, err := f.endpointTarget(ctx, opts.MaxConcurrency)
		if err != nil {
			return err
		}
		targets = []sweepTarget{t}
	}
	for _, t := range targets {
		if t.target != nil {
			defer t.target.Client.Close()
		}
	}

	save := func(rf *result.File) error {
		if f.results == "" {
			return nil
		}
		return result.Write(f.results, rf)
	}
	view := newProgressView(log, f.quiet)
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		if t.target == nil {
			fmt.Fprintf(log, "Check %s FAILED: %v\n", t.dep.Name, t.err)
			file.Searches = append(file.Searches, failedSearch(t.dep, opts, t.err))
			continue
		}
		o := opts
		o.File, o.Save, o.Watch, o.Log = file, save, t.watch, logWriter(log, f.quiet)
		o.Progress = func(label string) func(load.Progress) { view.level(label); return view.update }
		o.ProgressInterval = view.interval()
		if o.MemoryLimit == 0 {
			o.MemoryLimit = t.memoryLimit
		}
		if !f.quiet {
			printSweepIntro(log, t, o)
		}
		if err := run.Sweep(ctx, t.target, o); err != nil {
			return err
		}
	}
	file.Complete = ctx.Err() == nil
	if err := save(file); err != nil {
		return err
	}
	if err := writeReport(cmd.OutOrStdout(), f.output, f.format, file); err != nil {
		return err
	}
	switch {
	case !file.Complete:
		return &exitError{code: 130, err: errors.New("interrupted; the report covers what was measured")}
	case analyze.Best(file.Runs) < 0:
		return &exitError{code: 1, err: errors.New("no deployment could be measured")}
	}
	return nil
}

// endpointTarget prepares the endpoint the bench flags name.
func (f *sweepFlags) endpointTarget(ctx context.Context, maxConcurrency int) (sweepTarget, error) {
	// bench's level flags are not sweep's: give plan what it checks.
	f.concurrency, f.arrival, f.maxInFlight = 1, load.ArrivalPoisson, maxConcurrency
	p, err := f.plan()
	if err != nil {
		return sweepTarget{}, err
	}
	p.opts.MaxConns = maxConcurrency // one idle connection per request that can be in flight
	client, err := protocol.New(p.opts)
	if err != nil {
		return sweepTarget{}, err
	}
	target, err := run.Prepare(ctx, client, p.dep, p.inputs)
	if err != nil {
		client.Close()
		return sweepTarget{}, err
	}
	watch, _ := run.NewServerWatch(ctx, client, f.url, f.model, f.version, f.metricsURL)
	return sweepTarget{dep: p.dep, target: target, watch: watch}, nil
}

// planTargets checks a plan's deployments; one that fails is kept with
// its error, and the others go on.
func planTargets(ctx context.Context, deps []plan.Deployment, timeout time.Duration) []sweepTarget {
	var out []sweepTarget
	for _, d := range deps {
		pf := run.Check(ctx, d, timeout)
		t := sweepTarget{dep: result.Deployment{Name: d.Name, Protocol: d.Protocol, URL: d.URL, Model: d.Model, ModelVersion: d.Version},
			target: pf.Target, watch: pf.Watch, err: pf.Err}
		out = append(out, t)
	}
	return out
}

// failedSearch records a deployment that could not be searched at all.
func failedSearch(dep result.Deployment, o run.SweepOptions, err error) result.Search {
	return result.Search{Deployment: dep, Mode: o.Mode, MaxConcurrency: o.MaxConcurrency, Status: result.SearchBaselineFailed,
		End: result.SearchBaselineFailed, Reason: fmt.Sprintf("the deployment failed its check: %v", err),
		RecommendedRange: []float64{}, Path: []result.SearchStep{}, Notes: []string{}}
}

// printSweepIntro says what is about to be searched, and how.
func printSweepIntro(w io.Writer, t sweepTarget, o run.SweepOptions) {
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
	fmt.Fprintf(w, "\nSweeping %s (%s %s, model %s): %s; objective %s; windows of %d requests, at most %d a level\n",
		t.dep.Name, t.dep.Protocol, t.dep.URL, t.dep.Model, what, obj, o.WindowRequests, o.MaxWindows)
}

package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/run"
)

// benchFlags are the flags of `inferbench bench`.
type benchFlags struct {
	url, protocol, model, version, name string
	concurrency                         int
	concurrencyRange                    string
	rate                                float64
	arrival                             string
	maxInFlight                         int
	requests                            int
	duration                            time.Duration
	warmup                              int
	timeout, connectTimeout, grace      time.Duration
	shapes                              []string
	batchSize                           int
	inputData                           string
	seed                                uint64
	headers                             []string
	connections                         int
	format, output, results             string
	metricsURL                          string
	quiet                               bool
	img                                 imageFlags
	kube                                kube.Target
	kubeconfig                          string
}

func newBenchCommand() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Drive closed-loop load against one KServe v2 endpoint and report throughput, latency and errors",
		Long: `Drive load against one KServe v2 / Triton endpoint: the field guide's warmup
(min(10, max(5, n/20)) requests, failures tolerated), a timeout on every call, errors
classified and counted but never fatal, latency in HDR histograms.

Inputs are random data shaped by the model's metadata unless --input-data gives
perf_analyzer-style JSON. Payloads are encoded once, before the clock starts.`,
		Example: `  inferbench bench --url http://127.0.0.1:8000 --protocol kserve-http --model yolov8n -c 8 -n 800
  inferbench bench --url 127.0.0.1:8001 --protocol kserve-grpc --model yolov8n --concurrency-range 1:32:x2 -n 200
  inferbench bench --url http://127.0.0.1:8000 --model yolov8n -c 16 -d 30s --format json -o result.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, f) },
	}
	fl := cmd.Flags()
	addTargetFlags(fl, f)
	fl.IntVarP(&f.concurrency, "concurrency", "c", 1, "concurrent workers, each with one request in flight")
	fl.StringVar(&f.concurrencyRange, "concurrency-range", "", "several levels in one run: start:end:xFACTOR, start:end:+STEP or a,b,c")
	fl.Float64Var(&f.rate, "rate", 0, "open loop: send this many requests per second whatever the answers (latency counts from the intended send time)")
	fl.StringVar(&f.arrival, "arrival", load.ArrivalConstant, "open-loop arrivals: constant|poisson (seeded by --seed)")
	fl.IntVar(&f.maxInFlight, "max-inflight", load.DefaultMaxInFlight, "open loop: requests awaiting answers at most; further sends wait and count as late")
	fl.IntVarP(&f.requests, "requests", "n", 0, "measured requests per level, sent exactly (default 100 unless --duration)")
	fl.DurationVarP(&f.duration, "duration", "d", 0, "length of each level's measured phase, instead of --requests")
	addKubeFlags(fl, &f.kube, &f.kubeconfig)
	addImageRunFlags(fl, &f.img)
	return cmd
}

// benchPlan is the checked form of the flags.
type benchPlan struct {
	levels  []int
	opts    protocol.Options
	dep     result.Deployment
	inputs  run.InputOptions
	headers map[string]string
}

func (f *benchFlags) plan() (*benchPlan, error) {
	if f.url == "" || f.model == "" {
		return nil, errors.New("--url and --model are required")
	}
	kind := protocol.Kind(f.protocol)
	if !slices.Contains(protocol.Kinds, kind) {
		return nil, fmt.Errorf("--protocol %q: want one of %v", f.protocol, protocol.Kinds)
	}
	if !slices.Contains(report.Formats, f.format) {
		return nil, fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))
	}
	if f.requests < 0 || f.duration < 0 {
		return nil, errors.New("--requests and --duration must not be negative")
	}
	if f.requests > 0 && f.duration > 0 {
		return nil, errors.New("give --requests or --duration, not both")
	}
	if f.requests == 0 && f.duration == 0 {
		f.requests = 100
	}
	if f.timeout <= 0 || f.connectTimeout <= 0 {
		return nil, errors.New("--timeout and --connect-timeout must be positive")
	}
	p := &benchPlan{levels: []int{f.concurrency}, headers: map[string]string{}}
	if f.rate < 0 || f.maxInFlight < 1 {
		return nil, errors.New("--rate must not be negative and --max-inflight must be at least 1")
	}
	if f.arrival != load.ArrivalConstant && f.arrival != load.ArrivalPoisson {
		return nil, fmt.Errorf("--arrival %q: want %s or %s", f.arrival, load.ArrivalConstant, load.ArrivalPoisson)
	}
	if f.rate > 0 && f.concurrencyRange != "" {
		return nil, errors.New("--rate is one open-loop level: it does not combine with --concurrency-range")
	}
	if f.concurrencyRange != "" {
		levels, err := parseConcurrencyRange(f.concurrencyRange)
		if err != nil {
			return nil, err
		}
		p.levels = levels
	} else if f.concurrency < 1 {
		return nil, fmt.Errorf("--concurrency %d: need at least 1", f.concurrency)
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--header %q: want \"Name: value\"", h)
		}
		p.headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	shapes := map[string][]int64{}
	for _, s := range f.shapes {
		name, dims, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("--shape %q: want name:dims, for example images:1,3,640,640", s)
		}
		t, err := parseTensorSpec("shape", name+":FP32:"+dims)
		if err != nil {
			return nil, fmt.Errorf("--shape %q: dims must be whole numbers, for example images:1,3,640,640", s)
		}
		shapes[t.Name] = t.Shape
	}
	if f.connections < 1 {
		return nil, fmt.Errorf("--connections %d: need at least 1", f.connections)
	}
	// HTTP keeps one idle connection per request that can be in flight.
	maxConns := slices.Max(p.levels)
	if f.rate > 0 {
		maxConns = f.maxInFlight
	}
	p.opts = protocol.Options{Kind: kind, URL: f.url, Timeout: f.timeout, ConnectTimeout: f.connectTimeout, Headers: p.headers,
		MaxConns: maxConns, Connections: f.connections}
	name := f.name
	if name == "" {
		host := f.url
		if u, err := url.Parse(f.url); err == nil && u.Host != "" {
			host = u.Host
		}
		name = fmt.Sprintf("%s@%s", kind, host)
	}
	p.dep = result.Deployment{Name: name, Protocol: string(kind), URL: f.url, Model: f.model, ModelVersion: f.version}
	p.inputs = run.InputOptions{Shapes: shapes, BatchSize: f.batchSize, DataFile: f.inputData, Seed: f.seed}
	if err := f.img.apply(kind, p); err != nil {
		return nil, err
	}
	return p, nil
}

func runBench(cmd *cobra.Command, f *benchFlags) error {
	p, err := f.plan()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	log := cmd.ErrOrStderr()
	if f.rate == 0 {
		for _, c := range p.levels {
			if w := analyze.ConcurrencyWarning(c); w != "" {
				fmt.Fprintf(log, "Warning: %s\n", w)
			}
		}
	}
	client, err := protocol.New(p.opts)
	if err != nil {
		return err
	}
	defer client.Close()
	target, err := run.Prepare(ctx, client, p.dep, p.inputs)
	if err != nil {
		return err
	}
	if !f.quiet {
		levels := fmt.Sprintf("concurrency levels %v", p.levels)
		if f.rate > 0 {
			levels = fmt.Sprintf("open loop at %g/s, %s arrivals", f.rate, f.arrival)
		}
		fmt.Fprintf(log, "Benchmarking %s model %s (%s), %d bytes per request, %s\n",
			p.dep.URL, p.dep.Model, p.dep.Protocol, target.PayloadB, levels)
	}

	watch, watchLine := run.NewServerWatch(ctx, client, p.dep.URL, p.dep.Model, p.dep.ModelVersion, f.metricsURL)
	pods, podsLine := kube.Setup(ctx, f.kube, f.kubeconfig)
	if !f.quiet {
		fmt.Fprintln(log, watchLine)
		fmt.Fprintln(log, podsLine)
	}

	file := result.New(Version, time.Now())
	file.OutputCheck = f.img.outputCheck(ctx, target, p.dep.Name, log, f.quiet)
	view := newProgressView(log, f.quiet)
	for _, c := range p.levels {
		if ctx.Err() != nil {
			break
		}
		label := fmt.Sprintf("c=%d", c)
		if f.rate > 0 {
			label = fmt.Sprintf("%g/s %s", f.rate, f.arrival)
		}
		view.level(label)
		if !f.quiet {
			size := fmt.Sprintf("%d requests", f.requests)
			if f.duration > 0 {
				size = f.duration.String()
			}
			fmt.Fprintf(log, "Level %s: %s\n", label, size)
		}
		lvl := run.Level{Concurrency: c, Requests: f.requests, Duration: f.duration, Warmup: f.warmup,
			Rate: f.rate, Arrival: f.arrival, Seed: f.seed, MaxInFlight: f.maxInFlight}
		r := run.Step(ctx, target, lvl,
			run.StepOptions{Grace: f.grace, OnProgress: view.update, ProgressInterval: view.interval(), Watch: watch, Pods: pods,
				PreprocessPerRequest: f.img.perRequest})
		if r.Status == result.StatusFailed && !f.quiet {
			fmt.Fprintf(log, "Level %s failed: %s\n", label, r.Failure)
		}
		file.Runs = append(file.Runs, r)
		run.Assess(file.Runs)
		if f.results != "" {
			if err := result.Write(f.results, file); err != nil {
				return err
			}
		}
	}
	file.Complete = ctx.Err() == nil
	if f.results != "" {
		if err := result.Write(f.results, file); err != nil {
			return err
		}
	}
	if err := writeReport(cmd.OutOrStdout(), f.output, f.format, file); err != nil {
		return err
	}
	switch {
	case !file.Complete:
		return &exitError{code: 130, err: errors.New("interrupted; the report covers what was measured")}
	case analyze.Best(file.Runs) < 0 && allFailed(file.Runs):
		return &exitError{code: 1, err: errors.New("no level could be measured")}
	}
	return nil
}

func allFailed(runs []result.Run) bool {
	for _, r := range runs {
		if r.Status != result.StatusFailed {
			return false
		}
	}
	return true
}

// writeReport renders the file to path, or to stdout when path is empty.
func writeReport(stdout io.Writer, path, format string, file *result.File) error {
	if path == "" {
		return report.Write(stdout, format, file, report.Options{Color: isTerminal(stdout)})
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := report.Write(out, format, file, report.Options{}); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// exitError carries a process exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// runFlags are the flags of `inferbench run`.
type runFlags struct {
	liveAddr string // --metrics-addr
	outDir   string
	quick    bool
	resume   bool
	force    bool
	format   string
	quiet    bool
	grace    time.Duration
	// checkOutputs and perRequest: as the plan's check_outputs, and
	// preprocessing per request.
	checkOutputs, perRequest bool
	// kubeconfig is for the pod checks of deployments with a kubernetes section.
	kubeconfig string
	// exportRequests is the per-request export file.
	exportRequests string
	// maxResponseSize applies to the deployments that set no max_response_size.
	maxResponseSize string
	// grpcTransport applies to the kserve-grpc deployments that set no
	// grpc_transport.
	grpcTransport string
	// tls fills the TLS settings the TLS deployments leave out.
	tls    tlsconf.Client
	trials trialFlags
	// compression applies to the deployments that set no compression.
	compression string
	// loaders splits the plan over that many loaders (--loaders), run as
	// processes on this machine with local.
	loaders int
	local   bool
	// The loaders' Job (--loaders without --local).
	image, namespace, serviceAccount, loaderCPU, loaderMemory string
	nodeSelector                                              []string
	// sharedMemory applies to the deployments that set no shared_memory.
	sharedMemory string
}

func newRunCommand() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run PLAN.yaml",
		Short: "Run a plan: compare several deployments under the same sequence of loads",
		Long: `Run a plan file: every deployment is checked first (health, model ready, one
request); one that fails is reported and skipped while the others go on. Then each step
runs against its deployments, in an order that rotates from step to step. The results
file (DIR/results.json) is rewritten after every run, so nothing measured is lost;
--resume skips the runs it already holds (of the same plan). An existing results file is
never replaced without --force. The folder is made, and every file checked, before
anything is sent. The report (verdict first) goes to standard
output, and to DIR/report.<format> files.

See 'inferbench schema' for the plan format, and examples/plan.yaml.

` + exitCodes,
		Example: `  inferbench run plan.yaml -o results/
  inferbench run plan.yaml -o results/ --quick
  inferbench run plan.yaml -o results/ --resume`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPlan(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.outDir, "output", "o", "inferbench-results", "folder for results.json and the reports")
	fl.BoolVar(&f.quick, "quick", false, fmt.Sprintf("scale every step down (a %dth of the requests or duration) for a fast look", plan.QuickFactor))
	fl.BoolVar(&f.resume, "resume", false, "keep the runs already in DIR/results.json and run only the rest")
	fl.BoolVar(&f.force, "force", false, "replace an existing DIR/results.json; with --resume, take its runs even if another plan made them")
	fl.StringVar(&f.format, "format", "text", "report format on standard output: "+strings.Join(report.Formats, "|"))
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	fl.DurationVar(&f.grace, "grace", load.DefaultGrace, "after Ctrl-C, how long requests in flight may finish")
	fl.BoolVar(&f.checkOutputs, "check-outputs", false, "before the steps, send each deployment's images once and compare the answers (as the plan's check_outputs)")
	fl.BoolVar(&f.perRequest, "preprocess-per-request", false, "decode, letterbox and encode each image per request, timed apart (client.preprocess_ms)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig for the pod checks of deployments with a kubernetes section (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fl.StringVar(&f.exportRequests, "export-requests", "", "write one JSON line per measured request (not warmup) to this file: times, latency, status, error class, bytes (see docs/results.md); appended to with --resume")
	fl.StringVar(&f.maxResponseSize, "max-response-size", "", "for the deployments that set no max_response_size: "+maxResponseSizeHelp)
	fl.StringVar(&f.grpcTransport, "grpc-transport", "", "for the kserve-grpc deployments that set no grpc_transport: "+grpcTransportHelp)
	addTLSFlags(fl, &f.tls, false)
	for _, name := range []string{"ca-cert", "cert", "key", "insecure-skip-verify"} {
		fl.Lookup(name).Usage += " (for the deployments that use TLS and set no tls: " + strings.ReplaceAll(name, "-", "_") + " of their own)"
	}
	addTrialFlags(fl, &f.trials)
	fl.StringVar(&f.compression, "compression", "", "for the deployments that set no compression: "+compressionHelp)
	fl.StringVar(&f.sharedMemory, "shared-memory", "", "for the KServe deployments (kserve-http, kserve-http-json, kserve-grpc) that set no shared_memory: "+sharedMemoryHelp)
	addLiveFlag(fl, &f.liveAddr)
	fl.IntVar(&f.loaders, "loaders", 0, "split every step's load over this many loaders, started together on each step, their results merged exactly (each loader's kept in DIR/loaders/)")
	fl.BoolVar(&f.local, "local", false, "with --loaders: run the loaders as processes on this machine (without: as pods of a Kubernetes Indexed Job)")
	fl.StringVar(&f.image, "image", "", "with --loaders: the loaders' image (default inferbench:VERSION, this release's)")
	fl.StringVar(&f.namespace, "namespace", "", "with --loaders: the Job's namespace (default: the kubeconfig's)")
	fl.StringVar(&f.serviceAccount, "service-account", "inferbench", "with --loaders: the loaders' ServiceAccount (deploy/serviceaccount.yaml)")
	fl.StringVar(&f.loaderCPU, "loader-cpu", "", "with --loaders: each loader pod's CPU request, e.g. 2")
	fl.StringVar(&f.loaderMemory, "loader-memory", "", "with --loaders: each loader pod's memory request and limit, e.g. 1Gi")
	fl.StringSliceVar(&f.nodeSelector, "node-selector", nil, "with --loaders: KEY=VALUE labels of the nodes the loader pods run on")
	return cmd
}

// planError is a bad plan: exit code 2, nothing run.
func planError(err error) error { return &session.ExitError{Code: 2, Err: err} }

func runPlan(cmd *cobra.Command, path string, f *runFlags) error {
	if !slices.Contains(report.Formats, f.format) {
		return planError(fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", ")))
	}
	maxResponse, err := responseSize(f.maxResponseSize)
	if err != nil {
		return planError(err)
	}
	if f.grpcTransport != "" {
		if err := plan.CheckGRPCTransport(protocol.KServeGRPC, f.grpcTransport); err != nil {
			return planError(fmt.Errorf("--grpc-transport %w", err))
		}
	}
	compression, err := compressionFlag(f.compression)
	if err != nil {
		return planError(err)
	}
	if _, err := sharedMemoryFlag(protocol.KServeHTTP, f.sharedMemory); err != nil {
		return planError(err)
	}
	p, err := plan.LoadFile(path, nil)
	if err != nil {
		return planError(err)
	}
	for i := range p.Deployments {
		d := &p.Deployments[i]
		if d.MaxResponseSize == 0 {
			d.MaxResponseSize = maxResponse
		}
		if d.GRPCTransport == "" && d.Protocol == string(protocol.KServeGRPC) {
			d.GRPCTransport = f.grpcTransport
		}
		if err := fillTLS(d, f.tls); err != nil {
			return planError(err)
		}
		if d.Compression == "" {
			d.Compression = compression
		}
		if d.SharedMemory == "" && f.sharedMemory != "" && slices.Contains(protocol.KServeKinds, protocol.Kind(d.Protocol)) {
			if d.SharedMemory, err = sharedMemoryFlag(protocol.Kind(d.Protocol), f.sharedMemory); err != nil {
				return planError(err)
			}
		}
	}
	text, _ := plan.ReadFile(path)
	if f.quick {
		p.Steps = plan.Quick(p.Steps)
	}
	if l := p.Loaders; l != nil { // the plan's loaders section, under the flags
		changed := cmd.Flags().Changed
		if !changed("loaders") {
			f.loaders = l.Count
		}
		f.local = f.local || l.Local
		for name, v := range map[string]struct {
			dst *string
			val string
		}{"image": {&f.image, l.Image}, "namespace": {&f.namespace, l.Namespace}, "service-account": {&f.serviceAccount, l.ServiceAccount},
			"loader-cpu": {&f.loaderCPU, l.CPU}, "loader-memory": {&f.loaderMemory, l.Memory}} {
			if !changed(name) && v.val != "" {
				*v.dst = v.val
			}
		}
		if !changed("node-selector") {
			for k, v := range l.NodeSelector {
				f.nodeSelector = append(f.nodeSelector, k+"="+v)
			}
		}
	}
	if cmd.Flags().Changed("loaders") || f.local || p.Loaders != nil {
		// The loaders read the plan file alone: flags that would change it
		// are refused, not silently dropped.
		for _, name := range []string{"repeat", "threshold", "max-response-size", "grpc-transport", "compression", "tls", "ca-cert", "cert", "key",
			"insecure-skip-verify", "server-name", "check-outputs", "preprocess-per-request", "metrics-addr", "export-requests", "resume", "shared-memory"} {
			if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
				return planError(fmt.Errorf("--%s does not work with --loaders (the loaders read the plan file alone): put it in the plan", name))
			}
		}
		return runLoaders(cmd, path, p, f)
	}
	if err := os.MkdirAll(f.outDir, 0o755); err != nil {
		return err
	}
	resultsPath := filepath.Join(f.outDir, "results.json")
	o := session.Options{Version: Version, ResultsPath: resultsPath, Resume: f.resume, Force: f.force, Stdout: cmd.OutOrStdout(),
		Plan: &result.PlanInfo{Path: path, Text: p.RedactText(string(text)), Quick: f.quick}, Grace: f.grace, Kubeconfig: f.kubeconfig,
		CheckOutputs: f.checkOutputs, PreprocessPerRequest: f.perRequest, ExportRequests: f.exportRequests,
		InterruptHint: "interrupted; results.json holds every finished run: --resume finishes the rest", MetricsAddr: f.liveAddr}
	if err := f.trials.apply(p, &o, cmd.Flags().Changed("repeat")); err != nil {
		return err
	}
	o.Reports = []session.Report{{Format: f.format}}
	for _, format := range []string{"md", "csv", "html"} {
		o.Reports = append(o.Reports, session.Report{Format: format, Path: filepath.Join(f.outDir, "report."+format)})
	}
	if !f.quiet {
		o.Log = cmd.ErrOrStderr()
		session.PrintPlan(o.Log, p, f.quick)
	}
	file, err := session.Run(cmd.Context(), p, session.Steps{Steps: p.Steps}, o)
	if file != nil && o.Log != nil {
		fmt.Fprintf(o.Log, "\nResults: %s; report: %s (re-render with: inferbench report %s --format html)\n",
			resultsPath, filepath.Join(f.outDir, "report.html"), resultsPath)
	}
	return err
}

func newSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema [plan|result]",
		Short: "Print the JSON Schema of the plan file (for editors: yaml-language-server) or of the result file",
		Long: `Print a JSON Schema: of the plan file (the default, or "plan"), for editors such as
yaml-language-server; or of the result file ("result": inferbench.result/v2, which v1
files fit too), for readers of the JSON. See docs/results.md.`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"plan", "result"},
		RunE: func(cmd *cobra.Command, args []string) error {
			schema := plan.Schema
			if len(args) == 1 {
				switch args[0] {
				case "plan":
				case "result":
					schema = result.JSONSchema
				default:
					return fmt.Errorf("schema %q: want plan or result", args[0])
				}
			}
			_, err := cmd.OutOrStdout().Write(schema)
			return err
		},
	}
}

func newReportCommand() *cobra.Command {
	var format, output, percentiles string
	cmd := &cobra.Command{
		Use:   "report RESULTS.json",
		Short: "Render a results file again, in any format",
		Long: `Render a results file again, in any format. --percentiles replaces the tables'
p50 to p99.9 columns with any percentiles, computed from each run's stored
histogram (inferbench.result/v2); runs of a v1 file, which keep no histogram,
show the percentiles they stored (p50, p90, p95, p99, p99.9, 100 for the max)
and n/a for the others. The HTML report also draws each step's latency
distribution and each run's timeline when the file has them.`,
		Example: `  inferbench report results/results.json
  inferbench report results/results.json --percentiles 50,90,99,99.9,99.99
  inferbench report results/results.json --format html -o report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(report.Formats, format) {
				return planError(fmt.Errorf("--format %q: want one of %s", format, strings.Join(report.Formats, ", ")))
			}
			var opts report.Options
			if cmd.Flags().Changed("percentiles") {
				pcts, err := report.ParsePercentiles(percentiles)
				if err != nil {
					return planError(fmt.Errorf("--percentiles: %w", err))
				}
				opts.Percentiles = pcts
			}
			file, err := result.Read(args[0])
			if err != nil {
				return err
			}
			return session.WriteReport(cmd.OutOrStdout(), output, format, file, opts)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "report format: "+strings.Join(report.Formats, "|"))
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&percentiles, "percentiles", "", "latency percentiles for the tables, e.g. 50,90,99,99.9,99.99 (each in (0, 100]; text, md, csv and html)")
	return cmd
}

// writeReport renders f to path, or to stdout (in colour on a terminal)
// when path is empty.
// fillTLS gives a deployment that uses TLS the settings of the flags it
// does not set itself; a plain-text deployment is left alone.
func fillTLS(d *plan.Deployment, flags tlsconf.Client) error {
	if !d.UsesTLS() {
		return nil
	}
	t := &d.TLS
	if t.CACert == "" {
		t.CACert = flags.CACert
	}
	if t.Cert == "" && t.Key == "" {
		t.Cert, t.Key = flags.Cert, flags.Key
	}
	t.InsecureSkipVerify = t.InsecureSkipVerify || flags.InsecureSkipVerify
	if err := t.Check(); err != nil {
		return fmt.Errorf("deployment %q: %w", d.Name, err)
	}
	return nil
}

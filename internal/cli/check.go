package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/session"
)

// checkFlags are the flags of `inferbench check`.
type checkFlags struct {
	reference bool
	url       string
	protocol  string
	model     string
	version   string
	requests  int
	timeout   time.Duration
	headers   []string
	serve     serveFlags
}

func newCheckCommand() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that an endpoint speaks the protocol: health, metadata, config, and a few verified inferences",
		Long: `Check one endpoint, or with --reference start the reference server in this process on
free loopback ports and check it over every protocol (kserve-http, kserve-http-json,
kserve-grpc). Inputs are generated from the model's metadata; responses are checked
against the metadata and, for the reference server, against the inputs' fingerprint.`,
		Example: `  inferbench check --reference
  inferbench check --url http://127.0.0.1:8000 --protocol kserve-http --model yolov8n`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd, f) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.reference, "reference", false, "start the reference server in-process and check all protocols against it")
	fl.StringVar(&f.url, "url", "", "server URL (http://host:port for HTTP, host:port for gRPC)")
	fl.StringVar(&f.protocol, "protocol", string(protocol.KServeHTTP), "protocol: kserve-http|kserve-http-json|kserve-grpc")
	fl.StringVar(&f.model, "model", "yolov8n", "model name")
	fl.StringVar(&f.version, "model-version", "", "model version (empty: the server's choice)")
	fl.IntVarP(&f.requests, "requests", "n", 20, "inference requests per endpoint")
	fl.DurationVar(&f.timeout, "timeout", protocol.DefaultTimeout, "timeout of each call")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `header "Name: value" sent with every call (gRPC metadata for gRPC; repeatable)`)
	fl.DurationVar(&f.serve.serviceTime, "service-time", 10*time.Millisecond, "with --reference: the emulated service time")
	return cmd
}

// checkTarget is one endpoint to check.
type checkTarget struct {
	kind protocol.Kind
	url  string
}

// checkResult is what checking one endpoint found.
type checkResult struct {
	target    checkTarget
	health    string
	metadata  string
	config    string
	ok, sent  int
	latencies []time.Duration
	outputs   string
	firstErr  error
}

func (r *checkResult) passed() bool {
	return r.firstErr == nil && r.ok == r.sent && r.sent > 0
}

func runCheck(cmd *cobra.Command, f *checkFlags) error {
	if f.requests < 1 {
		return fmt.Errorf("--requests %d: need at least 1", f.requests)
	}
	out := cmd.OutOrStdout()
	ctx := cmd.Context()
	var targets []checkTarget
	if f.reference {
		if f.url != "" {
			return fmt.Errorf("--reference and --url exclude each other")
		}
		f.serve.model, f.serve.emulator, f.serve.inputs, f.serve.outputs = f.model, "fifo", defaultInputs, defaultOutputs
		spec, err := f.serve.modelSpec()
		if err != nil {
			return err
		}
		srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{spec}})
		if err != nil {
			return err
		}
		running, err := srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0", GRPC: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = running.Shutdown(sctx)
		}()
		fmt.Fprintf(out, "Reference server: %s\n  HTTP %s, gRPC %s\n\n", srv.Describe()[0], running.HTTPAddr, running.GRPCAddr)
		targets = []checkTarget{
			{protocol.KServeHTTP, "http://" + running.HTTPAddr},
			{protocol.KServeHTTPJSON, "http://" + running.HTTPAddr},
			{protocol.KServeGRPC, running.GRPCAddr},
		}
	} else {
		if f.url == "" {
			return fmt.Errorf("give --url (and --protocol), or --reference to check the built-in reference server")
		}
		if !slices.Contains(protocol.KServeKinds, protocol.Kind(f.protocol)) {
			return fmt.Errorf("--protocol %q: check speaks the Open Inference Protocol, one of %v (use bench for %s and %s)", f.protocol, protocol.KServeKinds, protocol.NIMHTTP, protocol.HTTPJSON)
		}
		targets = []checkTarget{{protocol.Kind(f.protocol), f.url}}
	}

	results := make([]*checkResult, 0, len(targets))
	for _, t := range targets {
		results = append(results, checkEndpoint(ctx, t, f))
		if ctx.Err() != nil {
			break
		}
	}
	failed := 0
	for _, r := range results {
		if !r.passed() {
			failed++
		}
	}
	if failed == 0 {
		fmt.Fprintf(out, "PASS: all %d endpoint(s) answer correctly.\n\n", len(results))
	} else {
		fmt.Fprintf(out, "FAIL: %d of %d endpoint(s) did not answer correctly.\n\n", failed, len(results))
	}
	printCheckTable(out, results)
	for _, r := range results {
		if r.firstErr != nil {
			fmt.Fprintf(out, "\n%s %s: %v\n", r.target.kind, r.target.url, r.firstErr)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d endpoint(s) failed the check", failed)
	}
	return nil
}

func printCheckTable(w io.Writer, results []*checkResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROTOCOL\tURL\tHEALTH\tMETADATA\tCONFIG\tINFER OK\tP50\tMAX\tOUTPUTS")
	for _, r := range results {
		p50, max := "-", "-"
		if len(r.latencies) > 0 {
			slices.Sort(r.latencies)
			p50 = formatMs(r.latencies[(len(r.latencies)-1)/2])
			max = formatMs(r.latencies[len(r.latencies)-1])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", r.target.kind, r.target.url, r.health, r.metadata, r.config, r.ok, r.sent, p50, max, r.outputs)
	}
	tw.Flush()
}

func formatMs(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// checkEndpoint opens the endpoint as every command does, then runs the
// checks; it records what it found instead of stopping at the first
// problem where it can go on.
func checkEndpoint(ctx context.Context, t checkTarget, f *checkFlags) *checkResult {
	r := &checkResult{target: t, health: "-", metadata: "-", config: "-", outputs: "-"}
	d := plan.Deployment{Name: string(t.kind), Protocol: string(t.kind), URL: t.url, Model: f.model, Version: f.version,
		Timeout: f.timeout, Headers: map[string]string{}, MetricsURL: session.MetricsOff}
	if err := parseHeaders(f.headers, d.Headers); err != nil {
		r.firstErr = err
		return r
	}
	target, err := session.Open(ctx, d, session.OpenOptions{})
	if err != nil {
		r.firstErr = err
		var oe *session.OpenError
		if errors.As(err, &oe) {
			switch oe.Stage {
			case session.StageHealth:
				r.health = "server not ready"
			case session.StageModel:
				r.health = "model not ready"
			case session.StageMetadata:
				r.health, r.metadata = "ok", "error"
			default:
				r.health, r.metadata, r.outputs = "ok", "ok", "wrong"
			}
		}
		return r
	}
	defer target.Client.Close()
	r.health, r.metadata = "ok", "ok"
	client := target.Client
	if _, err := client.ModelConfig(ctx, f.model, f.version); err != nil {
		r.config = "n/a" // an extension: KServe servers other than Triton may not have it
	} else {
		r.config = "ok"
	}
	want := kserve.Fingerprint(target.Samples[0])
	verified, unstamped := 0, 0
	for i := 0; i < f.requests && ctx.Err() == nil; i++ {
		r.sent++
		start := time.Now()
		resp, err := client.Infer(ctx, target.Payloads[0])
		elapsed := time.Since(start)
		if err == nil {
			err = protocol.ValidateResponse(target.Metadata, nil, resp)
		}
		if err == nil {
			r.ok++
			r.latencies = append(r.latencies, elapsed)
			for j := range resp.Outputs {
				got, ok := kserve.ReadFingerprint(&resp.Outputs[j])
				switch {
				case !ok:
					unstamped++
				case got == want:
					verified++
				default:
					err = fmt.Errorf("output '%s' carries fingerprint %08x, want %08x: the answer does not belong to the input", resp.Outputs[j].Name, got, want)
				}
			}
		}
		if err != nil && r.firstErr == nil {
			r.firstErr = fmt.Errorf("inference %d: %w", i+1, err)
		}
	}
	switch {
	case verified > 0 && unstamped == 0 && r.firstErr == nil:
		r.outputs = "verified"
	case verified == 0 && unstamped > 0:
		r.outputs = "shape ok"
	case r.firstErr != nil:
		r.outputs = "wrong"
	}
	return r
}

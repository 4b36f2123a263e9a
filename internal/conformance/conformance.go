// Package conformance checks that an endpoint speaks the Open Inference
// Protocol: it opens the endpoint as every command does (session.Open:
// server and model ready, metadata read, a first request verified), reads
// its model configuration, sends N requests and verifies each answer
// against the model's metadata and, where the server stamps its outputs as
// the reference server does, against the inputs' fingerprint. With
// Options.Reference it starts the reference server in-process on free
// loopback ports and checks it over every KServe protocol.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/sanitize"
	"github.com/inferbench/inferbench/internal/session"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// Options say what to check; errors name the check command's flags.
type Options struct {
	// Reference starts the reference server and checks every KServe
	// protocol against it; otherwise URL is checked over Protocol.
	Reference     bool
	URL, Protocol string
	Model         string
	Version       string // empty: the server's choice
	Requests      int    // inference requests per endpoint, at least 1
	Timeout       time.Duration
	Headers       map[string]string // sent with every call (gRPC metadata for gRPC)
	// MaxResponseSize bounds a response (0: the default).
	MaxResponseSize int64
	// GRPCTransport is kserve-grpc's implementation (protocol.GRPCTransports;
	// empty: the default).
	GRPCTransport string
	// Compression compresses the requests: "gzip", "deflate" or "".
	Compression string
	// SharedMemory is Triton's system shared-memory extension ("system" or
	// "").
	SharedMemory string
	// ServiceTime is the reference server's emulated service time.
	ServiceTime time.Duration
	// TLS and Authority: how the endpoint is reached and named (see
	// plan.Deployment).
	TLS       tlsconf.Client
	Authority string
}

// Endpoint is one endpoint to check.
type Endpoint struct {
	Kind protocol.Kind
	URL  string
}

// Result is what checking one endpoint found; the text fields are the
// columns of the table ("-" when not reached).
type Result struct {
	Endpoint
	Health, Metadata, Config string
	OK, Sent                 int
	Latencies                []time.Duration
	Outputs                  string // verified, shape ok, wrong or -
	Err                      error  // the first problem found
}

// Passed tells whether every request was sent and answered correctly.
func (r *Result) Passed() bool {
	return r.Err == nil && r.OK == r.Sent && r.Sent > 0
}

// Run checks the endpoints the options describe, writes a verdict, a table
// and each endpoint's first error to out, and returns an error if any
// endpoint failed.
func Run(ctx context.Context, out io.Writer, o Options) error {
	if o.Requests < 1 {
		return fmt.Errorf("--requests %d: need at least 1", o.Requests)
	}
	var endpoints []Endpoint
	if o.Reference {
		if o.URL != "" {
			return fmt.Errorf("--reference and --url exclude each other")
		}
		running, stop, err := startReference(out, o)
		if err != nil {
			return err
		}
		defer stop()
		endpoints = []Endpoint{
			{protocol.KServeHTTP, "http://" + running.HTTPAddr},
			{protocol.KServeHTTPJSON, "http://" + running.HTTPAddr},
			{protocol.KServeGRPC, running.GRPCAddr},
		}
	} else {
		if o.URL == "" {
			return fmt.Errorf("give --url (and --protocol), or --reference to check the built-in reference server")
		}
		if !slices.Contains(protocol.KServeKinds, protocol.Kind(o.Protocol)) {
			return fmt.Errorf("--protocol %q: check speaks the Open Inference Protocol, one of %v (use bench for %s and %s)", o.Protocol, protocol.KServeKinds, protocol.NIMHTTP, protocol.HTTPJSON)
		}
		endpoints = []Endpoint{{protocol.Kind(o.Protocol), o.URL}}
	}

	results := make([]*Result, 0, len(endpoints))
	for _, e := range endpoints {
		results = append(results, Check(ctx, e, o))
		if ctx.Err() != nil {
			break
		}
	}
	failed := 0
	for _, r := range results {
		if !r.Passed() {
			failed++
		}
	}
	if failed == 0 {
		fmt.Fprintf(out, "PASS: all %d endpoint(s) answer correctly.\n\n", len(results))
	} else {
		fmt.Fprintf(out, "FAIL: %d of %d endpoint(s) did not answer correctly.\n\n", failed, len(results))
	}
	WriteTable(out, results)
	for _, r := range results {
		if r.Err != nil {
			// the error carries the server's words: quoted
			fmt.Fprintf(out, "\n%s %s: %s\n", r.Kind, sanitize.Line(r.URL), sanitize.Line(r.Err.Error()))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d endpoint(s) failed the check", failed)
	}
	return nil
}

// startReference starts the reference server with one model of the
// default tensors on free loopback ports and says so on out; stop shuts
// it down.
func startReference(out io.Writer, o Options) (running *refserver.Running, stop func(), err error) {
	spec, err := refserver.SingleModel{
		Model: o.Model, Emulator: refserver.KindFIFO, ServiceTime: o.ServiceTime,
		Inputs: []string{refserver.DefaultInput}, Outputs: []string{refserver.DefaultOutput},
	}.ModelSpec()
	if err != nil {
		return nil, nil, err
	}
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{spec}})
	if err != nil {
		return nil, nil, err
	}
	running, err = srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0", GRPC: "127.0.0.1:0"})
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(out, "Reference server: %s\n  HTTP %s, gRPC %s\n\n", srv.Describe()[0], running.HTTPAddr, running.GRPCAddr)
	return running, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = running.Shutdown(ctx)
	}, nil
}

// WriteTable writes one line per result.
func WriteTable(w io.Writer, results []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROTOCOL\tURL\tHEALTH\tMETADATA\tCONFIG\tINFER OK\tP50\tMAX\tOUTPUTS")
	for _, r := range results {
		p50, max := "-", "-"
		if len(r.Latencies) > 0 {
			sorted := slices.Sorted(slices.Values(r.Latencies))
			p50 = formatMs(sorted[(len(sorted)-1)/2])
			max = formatMs(sorted[len(sorted)-1])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", sanitize.Line(string(r.Kind)), sanitize.Line(r.URL), r.Health, r.Metadata, r.Config, r.OK, r.Sent, p50, max, r.Outputs)
	}
	tw.Flush()
}

func formatMs(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// Check opens the endpoint as every command does, then runs the checks;
// it records what it found instead of stopping at the first problem where
// it can go on.
func Check(ctx context.Context, e Endpoint, o Options) *Result {
	r := &Result{Endpoint: e, Health: "-", Metadata: "-", Config: "-", Outputs: "-"}
	d := plan.Deployment{Name: string(e.Kind), Protocol: string(e.Kind), URL: e.URL, Model: o.Model, Version: o.Version,
		Timeout: o.Timeout, Headers: map[string]string{}, MetricsURL: session.MetricsOff, MaxResponseSize: o.MaxResponseSize,
		TLS: o.TLS, Authority: o.Authority, Compression: o.Compression}
	for k, v := range o.Headers {
		d.Headers[k] = v
	}
	if e.Kind == protocol.KServeGRPC {
		d.GRPCTransport = o.GRPCTransport
	}
	d.SharedMemory = o.SharedMemory
	target, err := session.Open(ctx, d, session.OpenOptions{})
	if err != nil {
		r.Err = err
		var oe *session.OpenError
		if errors.As(err, &oe) {
			switch oe.Stage {
			case session.StageHealth:
				r.Health = "server not ready"
			case session.StageModel:
				r.Health = "model not ready"
			case session.StageMetadata:
				r.Health, r.Metadata = "ok", "error"
			default:
				r.Health, r.Metadata, r.Outputs = "ok", "ok", "wrong"
			}
		}
		return r
	}
	defer target.Client.Close()
	r.Health, r.Metadata = "ok", "ok"
	client := target.Client
	if _, err := client.ModelConfig(ctx, o.Model, o.Version); err != nil {
		r.Config = "n/a" // an extension: KServe servers other than Triton may not have it
	} else {
		r.Config = "ok"
	}
	want := kserve.Fingerprint(target.Samples[0])
	verified, unstamped := 0, 0
	for i := 0; i < o.Requests && ctx.Err() == nil; i++ {
		r.Sent++
		start := time.Now()
		resp, err := client.Infer(ctx, target.Payloads[0])
		elapsed := time.Since(start)
		if err == nil {
			err = protocol.ValidateResponse(target.Metadata, nil, resp)
		}
		if err == nil {
			r.OK++
			r.Latencies = append(r.Latencies, elapsed)
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
		if err != nil && r.Err == nil {
			r.Err = fmt.Errorf("inference %d: %w", i+1, err)
		}
	}
	switch {
	case verified > 0 && unstamped == 0 && r.Err == nil:
		r.Outputs = "verified"
	case verified == 0 && unstamped > 0:
		r.Outputs = "shape ok"
	case r.Err != nil:
		r.Outputs = "wrong"
	}
	return r
}

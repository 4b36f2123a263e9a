package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/scaling"
)

// The stages of opening a deployment, in order; an OpenError names the
// one that failed.
const (
	StageClient   = "client"
	StageHealth   = "health"
	StageModel    = "model"
	StageMetadata = "metadata"
	StageInputs   = "inputs"
	StageRequest  = "request"
)

// OpenError says which stage of opening a deployment failed, and why.
type OpenError struct {
	Deployment string
	Stage      string
	Err        error
}

func (e *OpenError) Error() string { return e.Err.Error() }
func (e *OpenError) Unwrap() error { return e.Err }

// OpenOptions are what a command adds to a plan deployment's own
// settings when opening it.
type OpenOptions struct {
	// DefaultTimeout is the timeout of a call when the deployment sets
	// none.
	DefaultTimeout time.Duration
	// MaxInFlight is the most requests the load will have in flight at
	// once: HTTP keeps that many idle connections (0: the client's
	// default).
	MaxInFlight int
	// Images are the deployment's images, already loaded (a session
	// loads them before anything is sent); nil: Open loads them.
	Images []inputs.Image
}

// Open is the one way every command opens a deployment: a client with the
// deployment's headers, timeouts and connection settings; the server
// ready; the model ready; its metadata read and the inputs built and
// encoded (before any clock starts); and one request answered and valid.
// The error is an *OpenError that names the model and the server's
// answer. The caller closes the target's client.
func Open(ctx context.Context, d plan.Deployment, o OpenOptions) (*Target, error) {
	timeout := d.Timeout
	if timeout == 0 {
		timeout = o.DefaultTimeout
	}
	if timeout == 0 {
		timeout = protocol.DefaultTimeout
	}
	tlsConfig, err := d.TLSConfig() // the CA, certificate and key files read
	if err != nil {
		return nil, &OpenError{Deployment: d.Name, Stage: StageClient, Err: fmt.Errorf("TLS settings: %w", err)}
	}
	// d.URL is as printed (a password redacted); the credentials are in
	// the headers.
	client, err := protocol.New(protocol.Options{Kind: protocol.Kind(d.Protocol), URL: plan.DialURL(d.URL), Timeout: timeout,
		ConnectTimeout: d.ConnectTimeout, Headers: d.Headers, HTTP: d.HTTP, MaxConns: o.MaxInFlight, Connections: d.Connections,
		MaxResponseSize: int(d.MaxResponseSize), GRPCTransport: d.GRPCTransport, TLS: tlsConfig, Authority: d.Authority, Compression: d.Compression,
		SharedMemory: d.SharedMemory})
	if err != nil {
		return nil, &OpenError{Deployment: d.Name, Stage: StageClient, Err: err}
	}
	t, err := open(ctx, client, d, o.Images)
	if err != nil {
		client.Close()
		return nil, err
	}
	return t, nil
}

func open(ctx context.Context, client protocol.Client, d plan.Deployment, images []inputs.Image) (*Target, error) {
	fail := func(stage string, err error) error {
		return &OpenError{Deployment: d.Name, Stage: stage, Err: err}
	}
	if ready, err := client.ServerReady(ctx); err != nil {
		return nil, fail(StageHealth, fmt.Errorf("the server at %s cannot be reached: %w", d.URL, err))
	} else if !ready {
		return nil, fail(StageHealth, fmt.Errorf("the server at %s answers but is not ready", d.URL))
	}
	if ready, err := client.ModelReady(ctx, d.Model, d.Version); err != nil || !ready {
		return nil, fail(StageModel, modelNotReady(ctx, client, d, err))
	}
	if images == nil {
		var err error
		if images, err = LoadImages(d.Inputs.Image); err != nil {
			return nil, fail(StageInputs, err)
		}
	}
	md, err := client.ModelMetadata(ctx, d.Model, d.Version)
	if err != nil {
		return nil, fail(StageMetadata, fmt.Errorf("model metadata of %q at %s: %w", d.Model, d.URL, err))
	}
	t := &Target{Plan: d, Deployment: resultDeployment(d), Client: client, Metadata: md, Validate: protocol.NewChecker(md, nil)}
	if err := t.prepare(images, d.Inputs); err != nil {
		return nil, fail(StageInputs, err)
	}
	if err := t.firstRequest(ctx); err != nil {
		return nil, fail(StageRequest, fmt.Errorf("a first request to model %q at %s failed (%d tries): %w", d.Model, d.URL, openTries, err))
	}
	t.Watch, t.WatchLine = NewServerWatch(ctx, client, d.URL, d.Model, d.Version, d.MetricsURL)
	if t.Watch != nil && t.Watch.Scraper != nil {
		// An autoscaled reference pod says its replicas in its metrics.
		src := &scaling.Metrics{URL: t.Watch.Scraper.URL}
		probe, cancel := context.WithTimeout(ctx, 3*time.Second)
		if _, err := src.Sample(probe); err == nil {
			t.Scale = src
			t.WatchLine += "; replicas from " + src.URL
		}
		cancel()
	}
	return t, nil
}

// openTries is how many times the first request is tried: a deployment
// that fails now and then (the field guide's warmup tolerates that) still
// opens; one that fails every time does not.
const openTries = 3

// firstRequest sends payload 0 until one answer is valid, at most
// openTries times, and returns the first error when none is.
func (t *Target) firstRequest(ctx context.Context) error {
	var first error
	for range openTries {
		resp, err := t.Client.Infer(ctx, t.Payloads[0])
		if err == nil {
			err = t.Validate.Validate(resp)
		}
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return first
}

// modelNotReady words a model that is not ready with the server's own
// answer: the readiness call's error, or else what the metadata call
// says (Triton names an unknown model there; its ready endpoint has only
// a status).
func modelNotReady(ctx context.Context, client protocol.Client, d plan.Deployment, readyErr error) error {
	what := fmt.Sprintf("model %q", d.Model)
	if d.Version != "" {
		what += fmt.Sprintf(" version %q", d.Version)
	}
	if readyErr != nil {
		return fmt.Errorf("%s is not ready at %s: %w", what, d.URL, readyErr)
	}
	if _, err := client.ModelMetadata(ctx, d.Model, d.Version); err != nil {
		return fmt.Errorf("%s is not ready at %s: the server answers %w", what, d.URL, err)
	}
	return fmt.Errorf("%s is not ready at %s: the server answers that it is not ready", what, d.URL)
}

// prepare makes the inputs and encodes the payloads once, before any
// clock starts: images for the image kinds (the built-in one when none is
// given) or when the plan names some, else tensors from a perf_analyzer
// file or random data shaped by the metadata.
func (t *Target) prepare(images []inputs.Image, in plan.Inputs) error {
	if t.Client.Kind().SendsImages() || len(images) > 0 {
		return t.prepareImages(images, in)
	}
	meta, err := inputs.Resolve(t.Metadata.Inputs, in.Shapes, in.BatchSize)
	if err != nil {
		return err
	}
	var samples [][]kserve.Tensor
	if in.Data != "" {
		samples, err = inputs.FromPerfAnalyzerFile(in.Data, meta)
	} else {
		var s []kserve.Tensor
		s, err = inputs.Random(meta, seedOf(in.Seed))
		samples = [][]kserve.Tensor{s}
	}
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return errors.New("no input samples")
	}
	for _, s := range samples {
		p, err := t.Client.Prepare(t.Plan.Model, t.Plan.Version, &kserve.InferRequest{Inputs: s})
		if err != nil {
			return fmt.Errorf("encoding the request: %w", err)
		}
		t.Payloads = append(t.Payloads, p)
		t.PayloadB = p.Size()
	}
	t.Samples = samples
	return nil
}

// seedOf is a seed with 0 meaning the default, 1.
func seedOf(s uint64) uint64 {
	if s == 0 {
		return 1
	}
	return s
}

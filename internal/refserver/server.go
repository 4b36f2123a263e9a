package refserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// DefaultMaxRequestSize bounds a request body or gRPC message, as Triton's
// --http-max-input-size default (64 MiB).
const DefaultMaxRequestSize = 64 << 20

// ServerName and ServerVersion identify the reference server in metadata.
const (
	ServerName    = "inferbench-refserver"
	ServerVersion = "0.1.0"
)

// extensions are the Triton protocol extensions the server implements.
var extensions = []string{"binary_tensor_data", "model_configuration", "statistics", "parameters", "system_shared_memory"}

// The HTTP APIs a server can offer on its HTTP address.
const (
	APIKServe = "kserve" // KServe v2 / Open Inference Protocol, as Triton
	APIPlain  = "plain"  // a plain JSON service, as a PyTorch/FastAPI app (plain.go)
)

// Options configure a Server: one emulated pod.
type Options struct {
	// Name names the pod in its metrics and messages; "pod" if empty.
	Name   string
	Models []ModelSpec
	// MaxRequestSize bounds every request body and gRPC message, in bytes;
	// DefaultMaxRequestSize if zero.
	MaxRequestSize int64
	// HTTPAPI is the API on the HTTP address: APIKServe (the default) or
	// APIPlain, which serves exactly one model.
	HTTPAPI string
	// MemoryLimit is the pod's memory, in bytes, against which each
	// model's Faults.MemoryPerRequest is counted for every request in
	// flight; 0 means no limit. A request that would exceed it kills the
	// pod: Running closes every listener and connection, stays down for
	// RestartTime (connections are refused), then serves again on the same
	// addresses with fresh Triton statistics, as a pod OOM-killed and
	// restarted by Kubernetes.
	MemoryLimit int64
	RestartTime time.Duration
	// TLS, when set, serves HTTP (HTTP/1.1) and gRPC (HTTP/2) over TLS
	// with this configuration: its certificate, and with ClientCAs mutual
	// TLS. Metrics stay plain text, as Triton's. (tlsconf.Server builds it.)
	TLS *tls.Config
	// Deployment, when set, is the pod's replicas and autoscaler (its
	// models' emulators come from Deployment.Replicate): Listen starts the
	// autoscaler, Shutdown stops it, and /metrics shows its replicas.
	Deployment *Deployment
}

// Server serves emulated models over HTTP and gRPC; see Listen.
type Server struct {
	name     string
	models   map[string]*model
	order    []string // model names in declaration order
	maxBytes int64
	httpAPI  string
	tls      *tls.Config // nil: plain text
	bodies   sync.Pool   // *bytes.Buffer for request bodies: a YOLO request is about 5 MB
	encoders encoders    // compressors of the HTTP answers (encoding.go)
	shm      shmRegistry // Triton's system shared-memory regions (shm.go)

	memory      memoryBudget
	restartTime time.Duration
	restarts    atomic.Uint64
	down        atomic.Bool
	firstInfer  atomic.Pointer[time.Time] // the first inference request, origin of stalls
	// kill, set by Listen, takes the pod down when its memory is exceeded.
	kill      atomic.Pointer[func()]
	grpcConns connTracker // gRPC connections by peer address, for dropping them
	deploy    *Deployment // nil: not autoscaled
}

// New checks the options and makes a server.
func New(opts Options) (*Server, error) {
	if len(opts.Models) == 0 {
		return nil, errors.New("no models to serve")
	}
	s := &Server{name: opts.Name, models: map[string]*model{}, maxBytes: opts.MaxRequestSize, httpAPI: opts.HTTPAPI, restartTime: opts.RestartTime, tls: opts.TLS, deploy: opts.Deployment}
	if s.name == "" {
		s.name = "pod"
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxRequestSize
	}
	switch s.httpAPI {
	case "":
		s.httpAPI = APIKServe
	case APIKServe:
	case APIPlain:
		if len(opts.Models) != 1 {
			return nil, fmt.Errorf("pod %q: the plain HTTP API serves exactly one model, not %d", s.name, len(opts.Models))
		}
	default:
		return nil, fmt.Errorf("pod %q: unknown HTTP API %q (want %s or %s)", s.name, s.httpAPI, APIKServe, APIPlain)
	}
	if opts.MemoryLimit < 0 || opts.RestartTime < 0 {
		return nil, fmt.Errorf("pod %q: memory limit %d and restart time %v must not be negative", s.name, opts.MemoryLimit, opts.RestartTime)
	}
	s.memory.limit = opts.MemoryLimit
	for _, spec := range opts.Models {
		m, err := newModel(spec)
		if err != nil {
			return nil, err
		}
		if _, dup := s.models[m.spec.Name]; dup {
			return nil, fmt.Errorf("model %q declared twice", m.spec.Name)
		}
		s.models[m.spec.Name] = m
		s.order = append(s.order, m.spec.Name)
	}
	return s, nil
}

// lookup finds a model; version "" means the model's only version. Errors
// are Triton's: an unknown model is INVALID_ARG, an unknown version NOT_FOUND.
func (s *Server) lookup(name, version string) (*model, error) {
	m, ok := s.models[name]
	if !ok {
		return nil, kserve.Errorf(kserve.CodeInvalidArg, "Request for unknown model: '%s' is not found", name)
	}
	if version != "" && version != m.spec.Version {
		return nil, kserve.Errorf(kserve.CodeNotFound, "Request for unknown model: '%s' version %s is not found", name, version)
	}
	return m, nil
}

// metadata is the server's metadata.
func (s *Server) metadata() kserve.ServerMetadata {
	return kserve.ServerMetadata{Name: ServerName, Version: ServerVersion, Extensions: extensions}
}

// Name is the pod's name.
func (s *Server) Name() string { return s.name }

// Infer serves one request: validation, the emulator, outputs, statistics.
// It is shared by every transport. checkOutputs, if not nil, is the
// transport's check of the outputs the request will get (HTTP: FP16 and
// BF16 cannot go as JSON); it runs with the other validation, before the
// request reaches the model and is counted.
func (s *Server) Infer(ctx context.Context, name, version string, req *kserve.InferRequest, checkOutputs func([]kserve.TensorMetadata) error) (*kserve.InferResponse, error) {
	resp, _, err := s.infer(ctx, name, version, req, checkOutputs)
	return resp, err
}

// infer is Infer that also says whether the transport is to drop the
// connection in the middle of the response (Faults.DropProbability).
func (s *Server) infer(ctx context.Context, name, version string, req *kserve.InferRequest, checkOutputs func([]kserve.TensorMetadata) error) (*kserve.InferResponse, bool, error) {
	m, err := s.lookup(name, version)
	if err != nil {
		return nil, false, err
	}
	if err := m.fillRawInput(req); err != nil {
		return nil, false, err
	}
	batch, err := m.checkInputs(req)
	if err != nil {
		return nil, false, err
	}
	wanted, err := m.wantedOutputs(req)
	if err != nil {
		return nil, false, err
	}
	if checkOutputs != nil {
		if err := checkOutputs(wanted); err != nil {
			return nil, false, err
		}
	}
	// From here on the request has reached the model and is counted.
	start := time.Now()
	fp := kserve.Fingerprint(req.Inputs)
	ex, err := s.execute(ctx, m, batch, start)
	if err != nil {
		return nil, false, err
	}
	outStart := time.Now()
	outputs, err := m.outputs(wanted, batch, fp)
	if err != nil {
		ex.fail(ReasonOther)
		return nil, false, err
	}
	ex.succeed(time.Since(outStart))
	return &kserve.InferResponse{ModelName: m.spec.Name, ModelVersion: m.spec.Version, ID: req.ID, Outputs: outputs}, ex.drop, nil
}

// execution is a request that has passed its model's emulator and faults:
// the frontend builds the answer, then calls succeed or fail, which record
// the statistics and give back the request's memory.
type execution struct {
	m      *model
	s      *Server
	stats  *modelStats
	start  time.Time
	batch  int
	timing Timing
	drop   bool
}

// execute runs a request of batch size batch, accepted at start, through
// admission (the pod's state and memory), the stall, the emulator, a spike
// and the injected errors. A request that fails here is recorded; one that
// passes is recorded by the execution's succeed or fail.
func (s *Server) execute(ctx context.Context, m *model, batch int, start time.Time) (*execution, error) {
	entered := time.Now() // start..entered: decoding the inputs, as compute_input
	if s.down.Load() {
		return nil, kserve.Errorf(kserve.CodeUnavailable, "pod '%s' is restarting", s.name)
	}
	stats := m.stats.Load()
	fail := func(reason string, err error) (*execution, error) {
		s.memory.release(m.spec.Faults.MemoryPerRequest)
		stats.recordFailure(reason, time.Since(start), time.Now())
		return nil, err
	}
	if !s.memory.reserve(m.spec.Faults.MemoryPerRequest) {
		s.oom()
		return nil, kserve.Errorf(kserve.CodeUnavailable, "pod '%s' ran out of memory: %s in flight would exceed its limit of %s; it restarts in %v",
			s.name, FormatBytes(s.memory.inflight.Load()+m.spec.Faults.MemoryPerRequest), FormatBytes(s.memory.limit), s.restartTime)
	}
	if s.firstInfer.Load() == nil {
		first := entered // allocated once, not per request
		s.firstInfer.CompareAndSwap(nil, &first)
	}
	stalled := s.stall(m)
	timing, err := m.spec.Emulator.Execute(ctx, batch)
	if err != nil {
		reason := ReasonOther
		if ctx.Err() != nil {
			reason = ReasonCanceled
		} else if kserve.CodeOf(err) == kserve.CodeUnavailable {
			reason = ReasonRejected
		}
		var ke *kserve.Error
		if !errors.As(err, &ke) {
			err = kserve.Errorf(kserve.CodeCancelled, "%v", err)
		}
		return fail(reason, err)
	}
	timing.Queue += stalled
	timing.ComputeOutput += s.stall(m)
	if m.spike() {
		time.Sleep(m.spec.Faults.SpikeDuration)
		timing.ComputeOutput += m.spec.Faults.SpikeDuration
	}
	if m.fail() {
		return fail(ReasonBackend, kserve.Errorf(kserve.CodeInternal, "injected failure: model '%s' fails %.4g of its requests (--error-rate)", m.spec.Name, m.spec.ErrorRate))
	}
	timing.ComputeInput += entered.Sub(start)
	return &execution{m: m, s: s, stats: stats, start: start, batch: batch, timing: timing, drop: m.drop()}, nil
}

// stall waits out the model's stall if it is on now, and returns the wait.
func (s *Server) stall(m *model) time.Duration {
	if m.spec.Faults.StallFor <= 0 {
		return 0
	}
	d := m.spec.Faults.stallWait(*s.firstInfer.Load(), time.Now())
	if d > 0 {
		m.faults.counts[faultStall].Add(1)
		time.Sleep(d)
	}
	return d
}

// succeed records the request's success; output is the time its answer
// took to build.
func (e *execution) succeed(output time.Duration) {
	e.timing.ComputeOutput += output
	now := time.Now()
	e.stats.recordSuccess(e.batch, now.Sub(e.start), e.timing, now)
	e.s.memory.release(e.m.spec.Faults.MemoryPerRequest)
}

// fail records the request's failure.
func (e *execution) fail(reason string) {
	e.stats.recordFailure(reason, time.Since(e.start), time.Now())
	e.s.memory.release(e.m.spec.Faults.MemoryPerRequest)
}

// oom takes the pod down, if it is listening and not down already.
func (s *Server) oom() {
	if kill := s.kill.Load(); kill != nil {
		(*kill)()
	}
}

// fillRawInput completes Triton's raw binary request (one input with only
// data) from the model's only input.
func (m *model) fillRawInput(req *kserve.InferRequest) error {
	if len(req.Inputs) != 1 || req.Inputs[0].Name != "" || req.Inputs[0].Datatype != "" {
		return nil
	}
	if len(m.spec.Inputs) != 1 {
		return kserve.Errorf(kserve.CodeInvalidArg, "a raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input; model '%s' has %d", m.spec.Name, len(m.spec.Inputs))
	}
	want := m.spec.Inputs[0]
	in := &req.Inputs[0]
	in.Name, in.Datatype = want.Name, want.Datatype
	shape := m.fullShape(want.Shape)
	if m.spec.MaxBatchSize > 0 {
		shape[0] = 1
	}
	variable := -1
	for i, d := range shape {
		if d == -1 {
			if variable >= 0 {
				return kserve.Errorf(kserve.CodeInvalidArg, "a raw binary request needs at most one variable dimension; input '%s' of model '%s' has shape %v", want.Name, m.spec.Name, shape)
			}
			variable = i
		}
	}
	if variable >= 0 {
		shape[variable] = 1
		if want.Datatype == kserve.BYTES {
			n, err := kserve.CountBytesElements(in.Data)
			if err != nil {
				return kserve.Errorf(kserve.CodeInvalidArg, "raw binary input '%s': %v", want.Name, err)
			}
			shape[variable] = int64(n)
		} else {
			per, _ := kserve.ByteSize(want.Datatype, shape)
			if per > 0 {
				shape[variable] = int64(len(in.Data)) / per
			}
		}
	}
	in.Shape = shape
	return nil
}

// statistics returns Triton's statistics for one model or, with name "",
// every model.
func (s *Server) statistics(name, version string) (*pb.ModelStatisticsResponse, error) {
	resp := &pb.ModelStatisticsResponse{}
	if name == "" {
		for _, n := range s.order {
			m := s.models[n]
			resp.ModelStats = append(resp.ModelStats, m.stats.Load().snapshot().proto(m.spec.Name, m.spec.Version))
		}
		return resp, nil
	}
	m, err := s.lookup(name, version)
	if err != nil {
		return nil, err
	}
	resp.ModelStats = append(resp.ModelStats, m.stats.Load().snapshot().proto(m.spec.Name, m.spec.Version))
	return resp, nil
}

// Describe lists the models served, one line each, for the start-up banner.
func (s *Server) Describe() []string {
	var lines []string
	for _, n := range s.order {
		m := s.models[n]
		md := m.metadata()
		lines = append(lines, fmt.Sprintf("model %s (version %s): %s; inputs %s; outputs %s%s",
			m.spec.Name, m.spec.Version, m.spec.Emulator.Describe(), describeTensors(md.Inputs), describeTensors(md.Outputs), m.describeFaults()))
	}
	if s.memory.limit > 0 {
		lines = append(lines, fmt.Sprintf("pod memory limit %s: exceeding it kills the pod for %v", FormatBytes(s.memory.limit), s.restartTime))
	}
	return lines
}

// describeFaults lists the model's injected faults, if any.
func (m *model) describeFaults() string {
	var fs []string
	f := m.spec.Faults
	if m.spec.ErrorRate > 0 {
		fs = append(fs, fmt.Sprintf("error rate %g", m.spec.ErrorRate))
	}
	if f.SpikeProbability > 0 && f.SpikeDuration > 0 {
		fs = append(fs, fmt.Sprintf("spikes of %v at rate %g", f.SpikeDuration, f.SpikeProbability))
	}
	if f.StallFor > 0 {
		stall := fmt.Sprintf("a stall of %v at %v after the first inference request", f.StallFor, f.StallAt)
		if f.StallEvery > 0 {
			stall += fmt.Sprintf(", every %v", f.StallEvery)
		}
		fs = append(fs, stall)
	}
	if f.DropProbability > 0 {
		fs = append(fs, fmt.Sprintf("dropped connections at rate %g", f.DropProbability))
	}
	if f.MemoryPerRequest > 0 {
		fs = append(fs, fmt.Sprintf("%s per request in flight", FormatBytes(f.MemoryPerRequest)))
	}
	if len(fs) == 0 {
		return ""
	}
	return "; faults: " + strings.Join(fs, ", ")
}

func describeTensors(ts []kserve.TensorMetadata) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %s %v", t.Name, t.Datatype, t.Shape)
	}
	return out
}

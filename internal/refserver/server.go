package refserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
var extensions = []string{"binary_tensor_data", "model_configuration", "statistics", "parameters"}

// Options configure a Server.
type Options struct {
	Models []ModelSpec
	// MaxRequestSize bounds every request body and gRPC message, in bytes;
	// DefaultMaxRequestSize if zero.
	MaxRequestSize int64
}

// Server serves emulated models over HTTP and gRPC; see Listen.
type Server struct {
	models   map[string]*model
	order    []string // model names in declaration order
	maxBytes int64
	bodies   sync.Pool // *bytes.Buffer for request bodies: a YOLO request is about 5 MB
}

// New checks the options and makes a server.
func New(opts Options) (*Server, error) {
	if len(opts.Models) == 0 {
		return nil, errors.New("no models to serve")
	}
	s := &Server{models: map[string]*model{}, maxBytes: opts.MaxRequestSize}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxRequestSize
	}
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

// Infer serves one request: validation, the emulator, outputs, statistics.
// It is shared by every transport. checkOutputs, if not nil, is the
// transport's check of the outputs the request will get (HTTP: FP16 and
// BF16 cannot go as JSON); it runs with the other validation, before the
// request reaches the model and is counted.
func (s *Server) Infer(ctx context.Context, name, version string, req *kserve.InferRequest, checkOutputs func([]kserve.TensorMetadata) error) (*kserve.InferResponse, error) {
	m, err := s.lookup(name, version)
	if err != nil {
		return nil, err
	}
	if err := m.fillRawInput(req); err != nil {
		return nil, err
	}
	batch, err := m.checkInputs(req)
	if err != nil {
		return nil, err
	}
	wanted, err := m.wantedOutputs(req)
	if err != nil {
		return nil, err
	}
	if checkOutputs != nil {
		if err := checkOutputs(wanted); err != nil {
			return nil, err
		}
	}
	// From here on the request has reached the model and is counted.
	start := time.Now()
	fp := kserve.Fingerprint(req.Inputs)
	computeInput := time.Since(start)

	timing, err := m.spec.Emulator.Execute(ctx, batch)
	if err != nil {
		reason := ReasonOther
		if ctx.Err() != nil {
			reason = ReasonCanceled
		} else if kserve.CodeOf(err) == kserve.CodeUnavailable {
			reason = ReasonRejected
		}
		m.stats.recordFailure(reason, time.Since(start), time.Now())
		if _, ok := err.(*kserve.Error); !ok {
			err = kserve.Errorf(kserve.CodeCancelled, "%v", err)
		}
		return nil, err
	}
	timing.ComputeInput += computeInput

	if m.fail() {
		m.stats.recordFailure(ReasonBackend, time.Since(start), time.Now())
		return nil, kserve.Errorf(kserve.CodeInternal, "injected failure: model '%s' fails %.4g of its requests (--error-rate)", m.spec.Name, m.spec.ErrorRate)
	}

	outStart := time.Now()
	outputs, err := m.outputs(wanted, batch, fp)
	if err != nil {
		m.stats.recordFailure(ReasonOther, time.Since(start), time.Now())
		return nil, err
	}
	now := time.Now()
	timing.ComputeOutput += now.Sub(outStart)
	m.stats.recordSuccess(batch, now.Sub(start), timing, now)
	return &kserve.InferResponse{ModelName: m.spec.Name, ModelVersion: m.spec.Version, ID: req.ID, Outputs: outputs}, nil
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
			resp.ModelStats = append(resp.ModelStats, m.stats.snapshot().proto(m.spec.Name, m.spec.Version))
		}
		return resp, nil
	}
	m, err := s.lookup(name, version)
	if err != nil {
		return nil, err
	}
	resp.ModelStats = append(resp.ModelStats, m.stats.snapshot().proto(m.spec.Name, m.spec.Version))
	return resp, nil
}

// Describe lists the models served, one line each, for the start-up banner.
func (s *Server) Describe() []string {
	var lines []string
	for _, n := range s.order {
		m := s.models[n]
		md := m.metadata()
		lines = append(lines, fmt.Sprintf("model %s (version %s): %s; inputs %s; outputs %s",
			m.spec.Name, m.spec.Version, m.spec.Emulator.Describe(), describeTensors(md.Inputs), describeTensors(md.Outputs)))
	}
	return lines
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

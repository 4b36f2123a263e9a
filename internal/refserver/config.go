package refserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// Config declares a set of pods, each a Server on its own addresses with
// its own models, as separate pods of a cluster would be. It is what a
// YAML file (LoadConfig), the serve command's flags and the presets all
// come to.
type Config struct {
	Pods []PodConfig
}

// PodConfig declares one pod.
type PodConfig struct {
	Name string
	// Addresses; "" leaves a listener off, port 0 picks a free port.
	HTTP, GRPC, Metrics string
	HTTPAPI             string // APIKServe (default) or APIPlain
	MaxRequestSize      int64
	MemoryLimit         int64
	RestartTime         time.Duration
	Models              []ModelConfig
	// TLS serves HTTP and gRPC over TLS when it has a certificate.
	TLS TLSFiles
	// Autoscaling, when set, makes the pod a replicated deployment behind
	// its addresses with an emulated autoscaler (AutoscaleConfig).
	Autoscaling *AutoscaleConfig
}

// TLSFiles are a TLS server's PEM files: its certificate and key, and the
// CA certificates of the clients it requires (mutual TLS), if any.
type TLSFiles struct {
	Cert, Key, ClientCA string
}

// Config reads the files; nil when no certificate is given.
func (f TLSFiles) Config() (*tls.Config, error) {
	if f == (TLSFiles{}) {
		return nil, nil
	}
	return tlsconf.Server(f.Cert, f.Key, f.ClientCA)
}

// ModelConfig declares one model of a pod.
type ModelConfig struct {
	Name, Version, Platform string
	// MaxBatchSize > 0 gives the tensors a batch dimension (dims then
	// exclude it, as in Triton) and bounds the batcher's batches.
	MaxBatchSize int
	Inputs       []kserve.TensorMetadata
	Outputs      []kserve.TensorMetadata
	Emulator     EmulatorConfig
	// ErrorRate and the queue limit (Emulator.QueueLimit) are faults too.
	ErrorRate float64
	Faults    Faults
	Seed      uint64
}

// Validate checks a model declaration for what building it needs.
func (m ModelConfig) Validate() error {
	var errs []error
	if m.Name == "" {
		errs = append(errs, errors.New("a model needs a name"))
	}
	if m.MaxBatchSize < 0 {
		errs = append(errs, fmt.Errorf("max batch size %d is negative", m.MaxBatchSize))
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		errs = append(errs, errors.New("a model needs at least one input and one output"))
	}
	if m.Emulator.Kind == KindBatcher && m.MaxBatchSize < 1 {
		errs = append(errs, errors.New("the batcher emulator needs the model's max_batch_size of at least 1 (Triton batches only models with a batch dimension)"))
	} else if err := m.emulatorConfig().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("emulator: %w", err))
	}
	if m.ErrorRate < 0 || m.ErrorRate > 1 {
		errs = append(errs, fmt.Errorf("error rate %v is outside 0..1", m.ErrorRate))
	}
	if err := m.Faults.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// emulatorConfig completes the emulator's declaration from the model's:
// the batcher's max batch is the model's, and the seed is shared.
func (m ModelConfig) emulatorConfig() EmulatorConfig {
	em := m.Emulator
	if em.Kind == KindBatcher {
		em.MaxBatchSize = m.MaxBatchSize
	}
	if em.Seed == 0 {
		em.Seed = m.Seed
	}
	return em
}

// Spec checks the declaration and builds the model, emulator included.
func (m ModelConfig) Spec() (ModelSpec, error) {
	if err := m.Validate(); err != nil {
		return ModelSpec{}, fmt.Errorf("model %q: %w", m.Name, err)
	}
	ec := m.emulatorConfig()
	em, err := NewEmulator(ec)
	if err != nil {
		return ModelSpec{}, fmt.Errorf("model %q: %w", m.Name, err)
	}
	return ModelSpec{
		Name: m.Name, Version: m.Version, Platform: m.Platform, MaxBatchSize: m.MaxBatchSize,
		Inputs: m.Inputs, Outputs: m.Outputs, Emulator: em, InstanceCount: ec.InstanceCount(),
		ErrorRate: m.ErrorRate, Faults: m.Faults, Seed: m.Seed,
	}, nil
}

// PodSpec is a pod ready to start: its server's options and addresses.
type PodSpec struct {
	Options Options
	Addrs   Addrs
}

// Build checks the configuration and makes the pods' specifications,
// emulators included.
func (c Config) Build() ([]PodSpec, error) {
	if len(c.Pods) == 0 {
		return nil, errors.New("no pods to serve")
	}
	names := map[string]bool{}
	addrs := map[string]string{}
	var specs []PodSpec
	for _, p := range c.Pods {
		if p.Name == "" {
			return nil, errors.New("a pod needs a name")
		}
		if names[p.Name] {
			return nil, fmt.Errorf("pod %q declared twice", p.Name)
		}
		names[p.Name] = true
		if p.HTTP == "" && p.GRPC == "" {
			return nil, fmt.Errorf("pod %q: needs an HTTP or a gRPC address", p.Name)
		}
		for _, a := range []string{p.HTTP, p.GRPC, p.Metrics} {
			if a == "" || hasPortZero(a) {
				continue
			}
			if other, dup := addrs[a]; dup {
				return nil, fmt.Errorf("pod %q: address %s is already pod %q's", p.Name, a, other)
			}
			addrs[a] = p.Name
		}
		tlsConfig, err := p.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("pod %q: TLS: %w", p.Name, err)
		}
		spec := PodSpec{
			Options: Options{Name: p.Name, MaxRequestSize: p.MaxRequestSize, HTTPAPI: p.HTTPAPI, MemoryLimit: p.MemoryLimit, RestartTime: p.RestartTime,
				TLS: tlsConfig},
			Addrs: Addrs{HTTP: p.HTTP, GRPC: p.GRPC, Metrics: p.Metrics},
		}
		if p.Autoscaling != nil {
			if spec.Options.Deployment, err = NewDeployment(p.Name, *p.Autoscaling); err != nil {
				return nil, err
			}
		}
		for _, m := range p.Models {
			ms, err := m.Spec()
			if err != nil {
				return nil, fmt.Errorf("pod %q: %w", p.Name, err)
			}
			if dep := spec.Options.Deployment; dep != nil {
				if ms.Emulator, err = dep.Replicate(func() (Emulator, error) { return NewEmulator(m.emulatorConfig()) }); err != nil {
					return nil, fmt.Errorf("pod %q: model %q: %w", p.Name, m.Name, err)
				}
			}
			spec.Options.Models = append(spec.Options.Models, ms)
		}
		if _, err := New(spec.Options); err != nil { // the server's own checks
			return nil, fmt.Errorf("pod %q: %w", p.Name, err)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func hasPortZero(addr string) bool {
	return len(addr) >= 2 && addr[len(addr)-2:] == ":0"
}

// Pod is a started pod.
type Pod struct {
	Server *Server
	*Running
	API string // the HTTP address's API: APIKServe or APIPlain
}

// StartPods starts every pod; if one cannot start, those started are shut
// down and the error returned.
func StartPods(specs []PodSpec) ([]*Pod, error) {
	var pods []*Pod
	for _, spec := range specs {
		srv, err := New(spec.Options)
		if err == nil {
			var r *Running
			if r, err = srv.Listen(spec.Addrs); err == nil {
				pods = append(pods, &Pod{Server: srv, Running: r, API: srv.httpAPI})
				continue
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ShutdownPods(ctx, pods)
		cancel()
		return nil, err
	}
	return pods, nil
}

// ShutdownPods shuts every pod down (see Running.Shutdown).
func ShutdownPods(ctx context.Context, pods []*Pod) error {
	var errs []error
	for _, p := range pods {
		if err := p.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("pod %s: %w", p.Server.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Scaled returns the configuration with every emulated time multiplied by
// f: service times, batch costs and delays, lock and in-flight costs,
// spikes, stalls and restart times. Throughputs divide by f and the shapes
// of the curves stay: f > 1 runs a configuration in slow motion, so that on
// a small machine the client and the transport, whose costs are real,
// stay small beside the emulated ones.
func (c Config) Scaled(f float64) Config {
	scale := func(d *time.Duration) { *d = time.Duration(float64(*d) * f) }
	out := Config{Pods: slices.Clone(c.Pods)}
	for i := range out.Pods {
		p := &out.Pods[i]
		scale(&p.RestartTime)
		if p.Autoscaling != nil {
			a := *p.Autoscaling
			for _, d := range []*time.Duration{&a.ScaleUpDelay, &a.ScaleDownDelay, &a.ColdStart} {
				scale(d)
			}
			p.Autoscaling = &a
		}
		p.Models = slices.Clone(p.Models)
		for j := range p.Models {
			m := &p.Models[j]
			e := &m.Emulator
			for _, d := range []*time.Duration{&e.ServiceTime, &e.MaxQueueDelay, &e.BatchFixed, &e.BatchPerItem, &e.GILSwitch, &e.PerInflight,
				&m.Faults.SpikeDuration, &m.Faults.StallAt, &m.Faults.StallFor, &m.Faults.StallEvery} {
				scale(d)
			}
		}
	}
	return out
}

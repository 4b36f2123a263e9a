package refserver

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
)

// The tensors of a single model when none are given: YOLOv8 detect as
// exported to ONNX by Ultralytics (the leading 1 is the batch dimension).
const (
	DefaultInput  = "images:FP32:1,3,640,640"
	DefaultOutput = "output0:FP32:1,84,8400"
)

// SingleModel is the one pod of a server declared by the serve command's
// flags rather than by a configuration file or a preset. Sizes are strings
// as given ("100MB"; see ParseBytes), tensors name:DATATYPE:dims (see
// kserve.ParseTensorSpec), and errors name the flags (--service-time...).
type SingleModel struct {
	HTTPAddr, GRPCAddr, MetricsAddr string
	HTTPAPI                         string
	Model                           string
	Emulator                        string
	ServiceTime                     time.Duration
	Instances                       int
	MaxBatchSize                    int
	MaxQueueDelay                   time.Duration
	PreferredBatchSizes             []int
	BatchFixed, BatchPerItem        time.Duration
	GILHeld                         float64
	GILSwitch                       time.Duration
	PerInflight                     time.Duration
	MaxInflight                     int
	QueueLimit                      int
	Jitter                          string
	ErrorRate                       float64
	SpikeProbability                float64
	SpikeDuration                   time.Duration
	StallAt, StallFor, StallEvery   time.Duration
	DropProbability                 float64
	MemoryPerRequest, MemoryLimit   string
	RestartTime                     time.Duration
	Seed                            uint64
	Inputs, Outputs                 []string
	MaxRequestSize                  int64

	// Set tells which settings were given explicitly, by flag name
	// ("instances", "input"...); nil means none were.
	Set func(flag string) bool
}

// ServeOptions are the serve command's settings: a single model, or the
// pods of a YAML file (ConfigFile) or of a preset, every emulated time
// multiplied by TimeScale.
type ServeOptions struct {
	SingleModel
	ConfigFile, Preset string
	BasePort           int // with Preset: pod i listens from BasePort + 10 i
	TimeScale          float64
	// TLS (--tls-cert, --tls-key, --tls-client-ca) applies to every pod
	// that sets no tls of its own.
	TLS TLSFiles
}

// singleModelFlags are the flags that declare the one pod of a server
// without --config or --preset.
func singleModelFlags() []string {
	return []string{
		"http-addr", "grpc-addr", "metrics-addr", "http-api", "model", "emulator", "service-time", "instances",
		"max-batch-size", "max-queue-delay", "preferred-batch-sizes", "batch-fixed", "batch-per-item", "gil-held", "gil-switch",
		"per-inflight", "max-inflight", "queue-limit", "jitter", "error-rate", "spike-probability", "spike-duration",
		"stall-at", "stall-for", "stall-every", "drop-probability", "memory-per-request", "memory-limit", "restart-time", "seed", "max-request-size",
	}
}

func (m SingleModel) set(flag string) bool { return m.Set != nil && m.Set(flag) }

// Resolve chooses the configuration the options ask for and says where it
// came from: "--config FILE", "--preset NAME", or "" for the single model.
func (o ServeOptions) Resolve() (Config, string, error) {
	if o.TimeScale <= 0 {
		return Config{}, "", fmt.Errorf("--time-scale %v: want a positive factor", o.TimeScale)
	}
	if o.ConfigFile != "" && o.Preset != "" {
		return Config{}, "", fmt.Errorf("--config and --preset exclude each other")
	}
	if o.ConfigFile == "" && o.Preset == "" {
		if o.set("base-port") {
			return Config{}, "", fmt.Errorf("--base-port places a preset's pods: give --preset, or --http-addr and the others")
		}
		c, err := o.SingleModel.Config()
		if err != nil {
			return Config{}, "", err
		}
		if c, err = o.withTLS(c); err != nil {
			return Config{}, "", err
		}
		return c.Scaled(o.TimeScale), "", nil
	}
	source := "--config " + o.ConfigFile
	if o.Preset != "" {
		source = "--preset " + o.Preset
	}
	for _, name := range singleModelFlags() {
		if o.set(name) {
			return Config{}, "", fmt.Errorf("--%s declares the single model of a server without %s: with %s, change the YAML instead", name, source, source)
		}
	}
	if o.set("base-port") && o.Preset == "" {
		return Config{}, "", fmt.Errorf("--base-port places a preset's pods; a --config file gives every address")
	}
	var c Config
	var err error
	if o.Preset != "" {
		c, err = Preset(o.Preset, o.BasePort)
		if err == nil && (o.set("input") || o.set("output")) {
			err = o.presetTensors(&c)
		}
	} else {
		if o.set("input") || o.set("output") {
			return Config{}, "", fmt.Errorf("--input and --output: with --config, the YAML declares the tensors")
		}
		c, err = LoadConfig(o.ConfigFile)
	}
	if err != nil {
		return Config{}, "", err
	}
	if c, err = o.withTLS(c); err != nil {
		return Config{}, "", err
	}
	return c.Scaled(o.TimeScale), source, nil
}

// withTLS gives the TLS flags to the pods that set no tls of their own,
// after checking that they can be read.
func (o ServeOptions) withTLS(c Config) (Config, error) {
	if o.TLS == (TLSFiles{}) {
		return c, nil
	}
	if _, err := o.TLS.Config(); err != nil {
		return Config{}, err
	}
	for i := range c.Pods {
		if c.Pods[i].TLS == (TLSFiles{}) {
			c.Pods[i].TLS = o.TLS
		}
	}
	return c, nil
}

// presetTensors gives a preset's KServe models the Inputs and Outputs
// tensors (full shapes; a batching model's leading batch dimension is
// dropped).
func (m SingleModel) presetTensors(c *Config) error {
	for i := range c.Pods {
		if c.Pods[i].HTTPAPI == APIPlain {
			continue
		}
		for j := range c.Pods[i].Models {
			mc := &c.Pods[i].Models[j]
			mc.Inputs, mc.Outputs = nil, nil
			err := m.tensors(mc, func(flag, spec string, t kserve.TensorMetadata) (kserve.TensorMetadata, error) {
				if mc.MaxBatchSize > 0 {
					if len(t.Shape) == 0 || (t.Shape[0] != 1 && t.Shape[0] != -1) {
						return t, fmt.Errorf("--%s %q: pod %s batches, so the first dimension must be the batch (1 or -1)", flag, spec, c.Pods[i].Name)
					}
					t.Shape = t.Shape[1:]
				}
				return t, nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// tensors parses the Inputs and Outputs specs into a model's tensors,
// each passed through adjust (which may drop a batch dimension).
func (m SingleModel) tensors(mc *ModelConfig, adjust func(flag, spec string, t kserve.TensorMetadata) (kserve.TensorMetadata, error)) error {
	for _, list := range []struct {
		flag  string
		specs []string
		dst   *[]kserve.TensorMetadata
	}{{"input", m.Inputs, &mc.Inputs}, {"output", m.Outputs, &mc.Outputs}} {
		for _, s := range list.specs {
			t, err := kserve.ParseTensorSpec(list.flag, s)
			if err == nil {
				t, err = adjust(list.flag, s, t)
			}
			if err != nil {
				return err
			}
			*list.dst = append(*list.dst, t)
		}
	}
	return nil
}

// modelConfig turns the settings into a model declaration. Without
// explicit Inputs and Outputs, a batching model's default tensors lose
// their leading batch dimension; the batcher has one instance unless
// Instances was set.
func (m SingleModel) modelConfig() (ModelConfig, error) {
	jitter, err := ParseJitter(m.Jitter)
	if err != nil {
		return ModelConfig{}, fmt.Errorf("--jitter: %w", err)
	}
	memPerRequest, err := parseSize("--memory-per-request", m.MemoryPerRequest)
	if err != nil {
		return ModelConfig{}, err
	}
	instances := m.Instances
	if m.Emulator == KindBatcher && !m.set("instances") {
		instances = 1
	}
	mc := ModelConfig{
		Name: m.Model, MaxBatchSize: m.MaxBatchSize, ErrorRate: m.ErrorRate, Seed: m.Seed,
		Emulator: EmulatorConfig{
			Kind: m.Emulator, ServiceTime: m.ServiceTime, Instances: instances,
			MaxQueueDelay: m.MaxQueueDelay, PreferredBatchSizes: m.PreferredBatchSizes, BatchFixed: m.BatchFixed, BatchPerItem: m.BatchPerItem,
			GILHeld: m.GILHeld, GILSwitch: m.GILSwitch, PerInflight: m.PerInflight, MaxInflight: m.MaxInflight,
			QueueLimit: m.QueueLimit, Jitter: jitter,
		},
		Faults: Faults{
			SpikeProbability: m.SpikeProbability, SpikeDuration: m.SpikeDuration, StallAt: m.StallAt, StallFor: m.StallFor, StallEvery: m.StallEvery,
			DropProbability: m.DropProbability, MemoryPerRequest: memPerRequest,
		},
	}
	err = m.tensors(&mc, func(flag, _ string, t kserve.TensorMetadata) (kserve.TensorMetadata, error) {
		if mc.MaxBatchSize > 0 && !m.set(flag) && len(t.Shape) > 0 {
			t.Shape = t.Shape[1:] // the default's leading 1 is the batch dimension
		}
		return t, nil
	})
	if err != nil {
		return mc, err
	}
	if err := mc.Validate(); err != nil {
		return mc, flagNames(err)
	}
	return mc, nil
}

// flagNames words a model validation error in terms of the flags.
func flagNames(err error) error {
	r := strings.NewReplacer(
		"the model's max_batch_size", "--max-batch-size",
		"emulator: ", "--emulator: ",
		"stall start", "--stall-at",
		"stall duration", "--stall-for",
		"stall period", "--stall-every",
	)
	return fmt.Errorf("%s", r.Replace(err.Error()))
}

func parseSize(flag, s string) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	n, err := ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", flag, err)
	}
	return n, nil
}

// ModelSpec is the one model ready to serve, as if only the fields set
// were given (check --reference sets a few).
func (m SingleModel) ModelSpec() (ModelSpec, error) {
	if err := m.checkBasics(); err != nil {
		return ModelSpec{}, err
	}
	m.Set = nil
	mc, err := m.modelConfig()
	if err != nil {
		return ModelSpec{}, err
	}
	return mc.Spec()
}

// checkBasics words the commonest mistakes in terms of the flags.
func (m SingleModel) checkBasics() error {
	if m.ServiceTime < 0 {
		return fmt.Errorf("--service-time %v is negative", m.ServiceTime)
	}
	if m.ErrorRate < 0 || m.ErrorRate > 1 {
		return fmt.Errorf("--error-rate %v is outside 0..1", m.ErrorRate)
	}
	if m.Emulator == KindInstances && m.Instances < 1 {
		return fmt.Errorf("--instances %d: need at least 1", m.Instances)
	}
	if !slices.Contains(EmulatorKinds, m.Emulator) {
		return fmt.Errorf("--emulator %q: want one of %s", m.Emulator, strings.Join(EmulatorKinds, ", "))
	}
	return nil
}

// Config is the one-pod configuration the settings describe.
func (m SingleModel) Config() (Config, error) {
	if err := m.checkBasics(); err != nil {
		return Config{}, err
	}
	mc, err := m.modelConfig()
	if err != nil {
		return Config{}, err
	}
	limit, err := parseSize("--memory-limit", m.MemoryLimit)
	if err != nil {
		return Config{}, err
	}
	return Config{Pods: []PodConfig{{
		Name: m.Model, HTTP: m.HTTPAddr, GRPC: m.GRPCAddr, Metrics: m.MetricsAddr, HTTPAPI: m.HTTPAPI,
		MaxRequestSize: m.MaxRequestSize, MemoryLimit: limit, RestartTime: m.RestartTime,
		Models: []ModelConfig{mc},
	}}}, nil
}

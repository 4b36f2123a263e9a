package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

// serveFlags are the flags of `inferbench serve`.
type serveFlags struct {
	httpAddr, grpcAddr, metricsAddr string
	httpAPI                         string
	model                           string
	emulator                        string
	serviceTime                     time.Duration
	instances                       int
	maxBatchSize                    int
	maxQueueDelay                   time.Duration
	preferredBatchSizes             []int
	batchFixed, batchPerItem        time.Duration
	gilHeld                         float64
	gilSwitch                       time.Duration
	perInflight                     time.Duration
	maxInflight                     int
	queueLimit                      int
	jitter                          string
	errorRate                       float64
	spikeProbability                float64
	spikeDuration                   time.Duration
	stallAt, stallFor               time.Duration
	dropProbability                 float64
	memoryPerRequest, memoryLimit   string
	restartTime                     time.Duration
	seed                            uint64
	inputs, outputs                 []string
	maxRequestSize                  int64

	config, preset string
	basePort       int
	timeScale      float64
}

// YOLO-sized defaults: YOLOv8 detect as exported to ONNX by Ultralytics.
var (
	defaultInputs  = []string{"images:FP32:1,3,640,640"}
	defaultOutputs = []string{"output0:FP32:1,84,8400"}
)

// singleModelFlags are the flags that declare the one pod of a server
// without --config or --preset.
var singleModelFlags = []string{
	"http-addr", "grpc-addr", "metrics-addr", "http-api", "model", "emulator", "service-time", "instances",
	"max-batch-size", "max-queue-delay", "preferred-batch-sizes", "batch-fixed", "batch-per-item", "gil-held", "gil-switch",
	"per-inflight", "max-inflight", "queue-limit", "jitter", "error-rate", "spike-probability", "spike-duration",
	"stall-at", "stall-for", "drop-probability", "memory-per-request", "memory-limit", "restart-time", "seed", "max-request-size",
}

func (f *serveFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8000", "HTTP listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&f.grpcAddr, "grpc-addr", "127.0.0.1:8001", "gRPC listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "127.0.0.1:8002", "Prometheus metrics listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&f.httpAPI, "http-api", refserver.APIKServe, "API on the HTTP address: kserve (Triton's) or plain (POST /predict an image, as a FastAPI app)")
	fl.StringVar(&f.model, "model", "yolov8n", "model name")
	fl.StringVar(&f.emulator, "emulator", refserver.KindFIFO, "model cost emulator: "+strings.Join(refserver.EmulatorKinds, "|"))
	fl.DurationVar(&f.serviceTime, "service-time", 10*time.Millisecond, "time of one request: on one instance (fifo, instances), in all (gil), alone in flight (pipelined)")
	fl.IntVar(&f.instances, "instances", 4, "model instances (instances; batcher, where the default is 1)")
	fl.IntVar(&f.maxBatchSize, "max-batch-size", 0, "the model's max_batch_size: > 0 adds a batch dimension; needed by --emulator batcher")
	fl.DurationVar(&f.maxQueueDelay, "max-queue-delay", 0, "batcher: longest wait for a fuller batch (Triton's max_queue_delay_microseconds)")
	fl.IntSliceVar(&f.preferredBatchSizes, "preferred-batch-sizes", nil, "batcher: batch sizes dispatched at once (comma-separated)")
	fl.DurationVar(&f.batchFixed, "batch-fixed", 5*time.Millisecond, "batcher: fixed cost of a batch")
	fl.DurationVar(&f.batchPerItem, "batch-per-item", time.Millisecond, "batcher: cost of each element of a batch")
	fl.Float64Var(&f.gilHeld, "gil-held", refserver.DefaultGILHeld, "gil: fraction (0..1] of the service time under the global lock")
	fl.DurationVar(&f.gilSwitch, "gil-switch", 0, "gil: lock time added per thread waiting (contention)")
	fl.DurationVar(&f.perInflight, "per-inflight", time.Millisecond, "pipelined: time each other request in flight adds")
	fl.IntVar(&f.maxInflight, "max-inflight", 16, "pipelined: most requests in flight at once")
	fl.IntVar(&f.queueLimit, "queue-limit", 0, "most requests waiting; beyond, 503 / UNAVAILABLE (Triton's max_queue_size; 0: no limit)")
	fl.StringVar(&f.jitter, "jitter", "", "service-time distribution, mean kept: uniform:F, normal:F, lognormal:S or exp:F (e.g. lognormal:0.2)")
	fl.Float64Var(&f.errorRate, "error-rate", 0, "fraction of requests (0..1) that fail with HTTP 500 / gRPC INTERNAL")
	fl.Float64Var(&f.spikeProbability, "spike-probability", 0, "fraction of requests (0..1) delayed by --spike-duration")
	fl.DurationVar(&f.spikeDuration, "spike-duration", 0, "length of a latency spike")
	fl.DurationVar(&f.stallAt, "stall-at", 0, "time after start when the model freezes for --stall-for")
	fl.DurationVar(&f.stallFor, "stall-for", 0, "length of the freeze (0: none)")
	fl.Float64Var(&f.dropProbability, "drop-probability", 0, "fraction of requests (0..1) whose connection drops mid-response")
	fl.StringVar(&f.memoryPerRequest, "memory-per-request", "", "memory each request in flight holds (e.g. 100MB)")
	fl.StringVar(&f.memoryLimit, "memory-limit", "", "the pod's memory (e.g. 3GB): exceeding it kills the pod for --restart-time")
	fl.DurationVar(&f.restartTime, "restart-time", 10*time.Second, "how long a killed pod refuses connections")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the jitter and the injected faults")
	fl.StringArrayVar(&f.inputs, "input", defaultInputs, "model input name:DATATYPE:dims (repeatable); with --max-batch-size, dims without the batch dimension")
	fl.StringArrayVar(&f.outputs, "output", defaultOutputs, "model output name:DATATYPE:dims (repeatable); with --max-batch-size, dims without the batch dimension")
	fl.Int64Var(&f.maxRequestSize, "max-request-size", refserver.DefaultMaxRequestSize, "largest request body or gRPC message accepted, in bytes")

	fl.StringVar(&f.config, "config", "", "serve the pods of a YAML file (see examples/refserver.yaml)")
	fl.StringVar(&f.preset, "preset", "", "serve a preset: "+strings.Join(refserver.Presets, "|")+" (the field guide's four deployments, each on its own ports)")
	fl.IntVar(&f.basePort, "base-port", 8000, "with --preset: pod i listens from base-port + 10 i (0 picks free ports)")
	fl.Float64Var(&f.timeScale, "time-scale", 1, "multiply every emulated time (slow motion > 1, for small machines)")
}

// modelConfig turns the single-model flags into a model declaration;
// changed tells which flags were given. Without --input and --output, a
// batching model's default tensors lose their leading batch dimension; the
// batcher has one instance unless --instances says otherwise.
func (f *serveFlags) modelConfig(changed func(flag string) bool) (refserver.ModelConfig, error) {
	jitter, err := refserver.ParseJitter(f.jitter)
	if err != nil {
		return refserver.ModelConfig{}, fmt.Errorf("--jitter: %w", err)
	}
	memPerRequest, err := parseSize("--memory-per-request", f.memoryPerRequest)
	if err != nil {
		return refserver.ModelConfig{}, err
	}
	instances := f.instances
	if f.emulator == refserver.KindBatcher && !changed("instances") {
		instances = 1
	}
	mc := refserver.ModelConfig{
		Name: f.model, MaxBatchSize: f.maxBatchSize, ErrorRate: f.errorRate, Seed: f.seed,
		Emulator: refserver.EmulatorConfig{
			Kind: f.emulator, ServiceTime: f.serviceTime, Instances: instances,
			MaxQueueDelay: f.maxQueueDelay, PreferredBatchSizes: f.preferredBatchSizes, BatchFixed: f.batchFixed, BatchPerItem: f.batchPerItem,
			GILHeld: f.gilHeld, GILSwitch: f.gilSwitch, PerInflight: f.perInflight, MaxInflight: f.maxInflight,
			QueueLimit: f.queueLimit, Jitter: jitter,
		},
		Faults: refserver.Faults{
			SpikeProbability: f.spikeProbability, SpikeDuration: f.spikeDuration, StallAt: f.stallAt, StallFor: f.stallFor,
			DropProbability: f.dropProbability, MemoryPerRequest: memPerRequest,
		},
	}
	for _, list := range []struct {
		flag  string
		specs []string
		dst   *[]kserve.TensorMetadata
	}{{"input", f.inputs, &mc.Inputs}, {"output", f.outputs, &mc.Outputs}} {
		for _, s := range list.specs {
			t, err := kserve.ParseTensorSpec(list.flag, s)
			if err != nil {
				return mc, err
			}
			if mc.MaxBatchSize > 0 && !changed(list.flag) && len(t.Shape) > 0 {
				t.Shape = t.Shape[1:] // the default's leading 1 is the batch dimension
			}
			*list.dst = append(*list.dst, t)
		}
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
	)
	return fmt.Errorf("%s", r.Replace(err.Error()))
}

func parseSize(flag, s string) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	n, err := refserver.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", flag, err)
	}
	return n, nil
}

// modelSpec turns the flags into one model ready to serve, as if only
// the fields set were given (check --reference sets a few).
func (f *serveFlags) modelSpec() (refserver.ModelSpec, error) {
	if err := f.checkBasics(); err != nil {
		return refserver.ModelSpec{}, err
	}
	mc, err := f.modelConfig(func(string) bool { return false })
	if err != nil {
		return refserver.ModelSpec{}, err
	}
	return mc.Spec()
}

// checkBasics words the commonest mistakes in terms of the flags.
func (f *serveFlags) checkBasics() error {
	if f.serviceTime < 0 {
		return fmt.Errorf("--service-time %v is negative", f.serviceTime)
	}
	if f.errorRate < 0 || f.errorRate > 1 {
		return fmt.Errorf("--error-rate %v is outside 0..1", f.errorRate)
	}
	if f.emulator == refserver.KindInstances && f.instances < 1 {
		return fmt.Errorf("--instances %d: need at least 1", f.instances)
	}
	if !slices.Contains(refserver.EmulatorKinds, f.emulator) {
		return fmt.Errorf("--emulator %q: want one of %s", f.emulator, strings.Join(refserver.EmulatorKinds, ", "))
	}
	return nil
}

// singlePod is the one-pod configuration the single-model flags describe.
func (f *serveFlags) singlePod(changed func(flag string) bool) (refserver.Config, error) {
	if err := f.checkBasics(); err != nil {
		return refserver.Config{}, err
	}
	mc, err := f.modelConfig(changed)
	if err != nil {
		return refserver.Config{}, err
	}
	limit, err := parseSize("--memory-limit", f.memoryLimit)
	if err != nil {
		return refserver.Config{}, err
	}
	return refserver.Config{Pods: []refserver.PodConfig{{
		Name: f.model, HTTP: f.httpAddr, GRPC: f.grpcAddr, Metrics: f.metricsAddr, HTTPAPI: f.httpAPI,
		MaxRequestSize: f.maxRequestSize, MemoryLimit: limit, RestartTime: f.restartTime,
		Models: []refserver.ModelConfig{mc},
	}}}, nil
}

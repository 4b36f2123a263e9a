package cli

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/refserver"
)

// registerServeFlags binds the flags of `inferbench serve` to o.
func registerServeFlags(fl *pflag.FlagSet, o *refserver.ServeOptions) {
	fl.StringVar(&o.HTTPAddr, "http-addr", "127.0.0.1:8000", "HTTP listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&o.GRPCAddr, "grpc-addr", "127.0.0.1:8001", "gRPC listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&o.MetricsAddr, "metrics-addr", "127.0.0.1:8002", "Prometheus metrics listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&o.HTTPAPI, "http-api", refserver.APIKServe, "API on the HTTP address: kserve (Triton's) or plain (POST /predict an image, as a FastAPI app)")
	fl.StringVar(&o.Model, "model", "yolov8n", "model name")
	fl.StringVar(&o.Emulator, "emulator", refserver.KindFIFO, "model cost emulator: "+strings.Join(refserver.EmulatorKinds, "|"))
	fl.DurationVar(&o.ServiceTime, "service-time", 10*time.Millisecond, "time of one request: on one instance (fifo, instances), in all (gil), alone in flight (pipelined)")
	fl.IntVar(&o.Instances, "instances", 4, "model instances (instances; batcher, where the default is 1)")
	fl.IntVar(&o.MaxBatchSize, "max-batch-size", 0, "the model's max_batch_size: > 0 adds a batch dimension; needed by --emulator batcher")
	fl.DurationVar(&o.MaxQueueDelay, "max-queue-delay", 0, "batcher: longest wait for a fuller batch (Triton's max_queue_delay_microseconds)")
	fl.IntSliceVar(&o.PreferredBatchSizes, "preferred-batch-sizes", nil, "batcher: batch sizes dispatched at once (comma-separated)")
	fl.DurationVar(&o.BatchFixed, "batch-fixed", 5*time.Millisecond, "batcher: fixed cost of a batch")
	fl.DurationVar(&o.BatchPerItem, "batch-per-item", time.Millisecond, "batcher: cost of each element of a batch")
	fl.Float64Var(&o.GILHeld, "gil-held", refserver.DefaultGILHeld, "gil: fraction (0..1] of the service time under the global lock")
	fl.DurationVar(&o.GILSwitch, "gil-switch", 0, "gil: lock time added per thread waiting (contention)")
	fl.DurationVar(&o.PerInflight, "per-inflight", time.Millisecond, "pipelined: time each other request in flight adds")
	fl.IntVar(&o.MaxInflight, "max-inflight", 16, "pipelined: most requests in flight at once")
	fl.IntVar(&o.QueueLimit, "queue-limit", 0, "most requests waiting; beyond, 503 / UNAVAILABLE (Triton's max_queue_size; 0: no limit)")
	fl.StringVar(&o.Jitter, "jitter", "", "service-time distribution, mean kept: uniform:F, normal:F, lognormal:S or exp:F (e.g. lognormal:0.2)")
	fl.Float64Var(&o.ErrorRate, "error-rate", 0, "fraction of requests (0..1) that fail with HTTP 500 / gRPC INTERNAL")
	fl.Float64Var(&o.SpikeProbability, "spike-probability", 0, "fraction of requests (0..1) delayed by --spike-duration")
	fl.DurationVar(&o.SpikeDuration, "spike-duration", 0, "length of a latency spike")
	fl.DurationVar(&o.StallAt, "stall-at", 0, "time after the server's first inference request when the model freezes for --stall-for (health and metadata calls are not held)")
	fl.DurationVar(&o.StallFor, "stall-for", 0, "length of the freeze (0: none)")
	fl.DurationVar(&o.StallEvery, "stall-every", 0, "repeat the freeze every this long from --stall-at (longer than --stall-for; 0: once)")
	fl.Float64Var(&o.DropProbability, "drop-probability", 0, "fraction of requests (0..1) whose connection drops mid-response")
	fl.StringVar(&o.MemoryPerRequest, "memory-per-request", "", "memory each request in flight holds (e.g. 100MB)")
	fl.StringVar(&o.MemoryLimit, "memory-limit", "", "the pod's memory (e.g. 3GB): exceeding it kills the pod for --restart-time")
	fl.DurationVar(&o.RestartTime, "restart-time", 10*time.Second, "how long a killed pod refuses connections")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of the jitter and the injected faults")
	fl.StringArrayVar(&o.Inputs, "input", []string{refserver.DefaultInput}, "model input name:DATATYPE:dims (repeatable); with --max-batch-size, dims without the batch dimension")
	fl.StringArrayVar(&o.Outputs, "output", []string{refserver.DefaultOutput}, "model output name:DATATYPE:dims (repeatable); with --max-batch-size, dims without the batch dimension")
	fl.Int64Var(&o.MaxRequestSize, "max-request-size", refserver.DefaultMaxRequestSize, "largest request body or gRPC message accepted, in bytes")

	fl.StringVar(&o.ConfigFile, "config", "", "serve the pods of a YAML file (see examples/refserver.yaml)")
	fl.StringVar(&o.Preset, "preset", "", "serve a preset: "+strings.Join(refserver.Presets, "|")+" (the field guide's four deployments, each on its own ports)")
	fl.IntVar(&o.BasePort, "base-port", 8000, "with --preset: pod i listens from base-port + 10 i (0 picks free ports)")
	fl.Float64Var(&o.TimeScale, "time-scale", 1, "multiply every emulated time (slow motion > 1, for small machines)")
	fl.StringVar(&o.TLS.Cert, "tls-cert", "", "serve HTTP and gRPC over TLS with this certificate (PEM; with --config or --preset, for the pods without a tls: of their own); metrics stay plain")
	fl.StringVar(&o.TLS.Key, "tls-key", "", "the private key of --tls-cert (PEM)")
	fl.StringVar(&o.TLS.ClientCA, "tls-client-ca", "", "require client certificates signed by these CAs (PEM): mutual TLS")
}

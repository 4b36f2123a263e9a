package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/refserver"
)

// serveFlags are the flags of `inferbench serve`.
type serveFlags struct {
	httpAddr, grpcAddr, metricsAddr string
	model                           string
	emulator                        string
	serviceTime                     time.Duration
	instances                       int
	errorRate                       float64
	seed                            uint64
	inputs, outputs                 []string
	maxRequestSize                  int64
}

// YOLO-sized defaults: YOLOv8 detect as exported to ONNX by Ultralytics.
var (
	defaultInputs  = []string{"images:FP32:1,3,640,640"}
	defaultOutputs = []string{"output0:FP32:1,84,8400"}
)

func newServeCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference inference server (Triton-compatible HTTP, gRPC and metrics) with an emulated model",
		Long: `Run inferbench's reference server: it speaks KServe v2 / Open Inference Protocol
like Triton (HTTP JSON and binary tensors, gRPC, /v2/models/{m}/stats and /config,
Prometheus /metrics with Triton's names) and emulates a model's cost instead of
running one. Outputs carry a fingerprint of the inputs so clients can validate them.

Emulators:
  fifo       one instance, one request at a time, each taking --service-time
  instances  --instances in parallel, each taking --service-time`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8000", "HTTP listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&f.grpcAddr, "grpc-addr", "127.0.0.1:8001", "gRPC listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "127.0.0.1:8002", "Prometheus metrics listen address (port 0 picks a free port, empty disables)")
	fl.StringVar(&f.model, "model", "yolov8n", "model name")
	fl.StringVar(&f.emulator, "emulator", "fifo", "model cost emulator: fifo|instances")
	fl.DurationVar(&f.serviceTime, "service-time", 10*time.Millisecond, "time one request takes on one instance")
	fl.IntVar(&f.instances, "instances", 4, "parallel instances (emulator instances)")
	fl.Float64Var(&f.errorRate, "error-rate", 0, "fraction of requests (0..1) that fail with HTTP 500 / gRPC INTERNAL")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the injected errors")
	fl.StringArrayVar(&f.inputs, "input", defaultInputs, "model input name:DATATYPE:dims (repeatable)")
	fl.StringArrayVar(&f.outputs, "output", defaultOutputs, "model output name:DATATYPE:dims (repeatable)")
	fl.Int64Var(&f.maxRequestSize, "max-request-size", refserver.DefaultMaxRequestSize, "largest request body or gRPC message accepted, in bytes")
	return cmd
}

// modelSpec turns the flags into a model declaration.
func (f *serveFlags) modelSpec() (refserver.ModelSpec, error) {
	spec := refserver.ModelSpec{Name: f.model, ErrorRate: f.errorRate, Seed: f.seed}
	if f.serviceTime < 0 {
		return spec, fmt.Errorf("--service-time %v is negative", f.serviceTime)
	}
	if f.errorRate < 0 || f.errorRate > 1 {
		return spec, fmt.Errorf("--error-rate %v is outside 0..1", f.errorRate)
	}
	switch f.emulator {
	case "fifo":
		spec.Emulator = refserver.NewFIFO(f.serviceTime)
		spec.InstanceCount = 1
	case "instances":
		if f.instances < 1 {
			return spec, fmt.Errorf("--instances %d: need at least 1", f.instances)
		}
		spec.Emulator = refserver.NewInstances(f.instances, f.serviceTime)
		spec.InstanceCount = f.instances
	default:
		return spec, fmt.Errorf("--emulator %q: want fifo or instances", f.emulator)
	}
	for _, s := range f.inputs {
		t, err := parseTensorSpec("input", s)
		if err != nil {
			return spec, err
		}
		spec.Inputs = append(spec.Inputs, t)
	}
	for _, s := range f.outputs {
		t, err := parseTensorSpec("output", s)
		if err != nil {
			return spec, err
		}
		spec.Outputs = append(spec.Outputs, t)
	}
	return spec, nil
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	spec, err := f.modelSpec()
	if err != nil {
		return err
	}
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{spec}, MaxRequestSize: f.maxRequestSize})
	if err != nil {
		return err
	}
	running, err := srv.Listen(refserver.Addrs{HTTP: f.httpAddr, GRPC: f.grpcAddr, Metrics: f.metricsAddr})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "inferbench reference server %s\n", refserver.ServerVersion)
	for _, line := range srv.Describe() {
		fmt.Fprintf(out, "  %s\n", line)
	}
	printAddr := func(what, addr, url string) {
		if addr != "" {
			fmt.Fprintf(out, "  %-8s %s\n", what, url)
		}
	}
	printAddr("HTTP", running.HTTPAddr, "http://"+running.HTTPAddr)
	printAddr("gRPC", running.GRPCAddr, running.GRPCAddr)
	printAddr("metrics", running.MetricsAddr, "http://"+running.MetricsAddr+"/metrics")
	fmt.Fprintln(out, "Serving; Ctrl-C to stop.")

	<-cmd.Context().Done()
	fmt.Fprintln(out, "Stopping: letting requests in flight finish (5 s at most).")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return running.Shutdown(ctx)
}

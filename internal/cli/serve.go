package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

func newServeCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference inference server (Triton-compatible HTTP, gRPC and metrics) with emulated models and faults",
		Long: `Run inferbench's reference server: it speaks KServe v2 / Open Inference Protocol
like Triton (HTTP JSON and binary tensors, gRPC, /v2/models/{m}/stats and /config,
Prometheus /metrics with Triton's names) and emulates a model's cost instead of
running one. Outputs carry a fingerprint of the inputs so clients can validate them.

One model from flags, the pods of a YAML file (--config), or a preset:
--preset field-guide serves the field guide's four deployments side by side, each
on its own ports like a separate pod: base-yolo (a GIL-bound FastAPI service),
nim-binary (KServe HTTP), nim-grpc (KServe gRPC), nim-batching (dynamic batcher).

Emulators:
  fifo       one instance, one request at a time, each taking --service-time
  instances  --instances in parallel, each taking --service-time
  batcher    Triton's dynamic batcher: --max-batch-size, --max-queue-delay,
             --preferred-batch-sizes, --instances; a batch of b costs
             --batch-fixed + --batch-per-item x b
  gil        a Python service: --gil-held of each request under a global lock
  pipelined  one GPU instance overlapping requests: --service-time alone,
             + --per-inflight per other request in flight, --max-inflight at most

Faults (any emulator): --queue-limit (503 / UNAVAILABLE when full), --error-rate,
--spike-probability/--spike-duration, --stall-at/--stall-for, --drop-probability,
--memory-per-request against --memory-limit (the pod is killed and refuses
connections for --restart-time, then comes back).`,
		Example: `  inferbench serve --emulator batcher --max-batch-size 32 --max-queue-delay 2ms
  inferbench serve --emulator gil --service-time 25ms --queue-limit 15 --http-api plain
  inferbench serve --preset field-guide
  inferbench serve --config examples/refserver.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	f.register(cmd.Flags())
	return cmd
}

// serveConfig chooses the configuration the flags ask for and says where
// it came from.
func serveConfig(cmd *cobra.Command, f *serveFlags) (refserver.Config, string, error) {
	changed := cmd.Flags().Changed
	if f.timeScale <= 0 {
		return refserver.Config{}, "", fmt.Errorf("--time-scale %v: want a positive factor", f.timeScale)
	}
	if f.config != "" && f.preset != "" {
		return refserver.Config{}, "", fmt.Errorf("--config and --preset exclude each other")
	}
	if f.config != "" || f.preset != "" {
		source := "--config " + f.config
		if f.preset != "" {
			source = "--preset " + f.preset
		}
		for _, name := range singleModelFlags {
			if changed(name) {
				return refserver.Config{}, "", fmt.Errorf("--%s declares the single model of a server without %s: with %s, change the YAML instead", name, source, source)
			}
		}
		if changed("base-port") && f.preset == "" {
			return refserver.Config{}, "", fmt.Errorf("--base-port places a preset's pods; a --config file gives every address")
		}
		var c refserver.Config
		var err error
		if f.preset != "" {
			c, err = refserver.Preset(f.preset, f.basePort)
			if err == nil && (changed("input") || changed("output")) {
				err = f.presetTensors(&c)
			}
		} else {
			if changed("input") || changed("output") {
				return refserver.Config{}, "", fmt.Errorf("--input and --output: with --config, the YAML declares the tensors")
			}
			c, err = refserver.LoadConfig(f.config)
		}
		if err != nil {
			return refserver.Config{}, "", err
		}
		return c.Scaled(f.timeScale), source, nil
	}
	if changed("base-port") {
		return refserver.Config{}, "", fmt.Errorf("--base-port places a preset's pods: give --preset, or --http-addr and the others")
	}
	c, err := f.singlePod(changed)
	if err != nil {
		return refserver.Config{}, "", err
	}
	return c.Scaled(f.timeScale), "", nil
}

// presetTensors gives a preset's KServe models the --input and --output
// tensors (full shapes; a batching model's leading batch dimension is
// dropped).
func (f *serveFlags) presetTensors(c *refserver.Config) error {
	for i := range c.Pods {
		if c.Pods[i].HTTPAPI == refserver.APIPlain {
			continue
		}
		for j := range c.Pods[i].Models {
			m := &c.Pods[i].Models[j]
			m.Inputs, m.Outputs = nil, nil
			for _, list := range []struct {
				flag  string
				specs []string
				dst   *[]kserve.TensorMetadata
			}{{"input", f.inputs, &m.Inputs}, {"output", f.outputs, &m.Outputs}} {
				for _, s := range list.specs {
					t, err := kserve.ParseTensorSpec(list.flag, s)
					if err != nil {
						return err
					}
					if m.MaxBatchSize > 0 {
						if len(t.Shape) == 0 || (t.Shape[0] != 1 && t.Shape[0] != -1) {
							return fmt.Errorf("--%s %q: pod %s batches, so the first dimension must be the batch (1 or -1)", list.flag, s, c.Pods[i].Name)
						}
						t.Shape = t.Shape[1:]
					}
					*list.dst = append(*list.dst, t)
				}
			}
		}
	}
	return nil
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	c, source, err := serveConfig(cmd, f)
	if err != nil {
		return err
	}
	specs, err := c.Build()
	if err != nil {
		return err
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if source == "" {
		printSinglePod(out, pods[0])
	} else {
		printPods(out, pods, source, f.timeScale)
	}
	fmt.Fprintln(out, "Serving; Ctrl-C to stop.")

	<-cmd.Context().Done()
	fmt.Fprintln(out, "Stopping: letting requests in flight finish (5 s at most).")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return refserver.ShutdownPods(ctx, pods)
}

// printSinglePod is the banner of a one-model server (scripts read the
// address lines: "  gRPC     host:port").
func printSinglePod(out io.Writer, p *refserver.Pod) {
	fmt.Fprintf(out, "inferbench reference server %s\n", refserver.ServerVersion)
	for _, line := range p.Server.Describe() {
		fmt.Fprintf(out, "  %s\n", line)
	}
	printAddrs(out, p, "  ")
}

func printAddrs(out io.Writer, p *refserver.Pod, indent string) {
	line := func(what, addr, url, note string) {
		if addr != "" {
			fmt.Fprintf(out, "%s%-8s %s%s\n", indent, what, url, note)
		}
	}
	if p.API == refserver.APIPlain {
		line("HTTP", p.HTTPAddr, "http://"+p.HTTPAddr, "   (plain API: POST /predict, GET /health)")
	} else {
		line("HTTP", p.HTTPAddr, "http://"+p.HTTPAddr, "")
	}
	line("gRPC", p.GRPCAddr, p.GRPCAddr, "")
	line("metrics", p.MetricsAddr, "http://"+p.MetricsAddr+"/metrics", "")
}

// printPods is the banner of several pods: each with its models and
// endpoints.
func printPods(out io.Writer, pods []*refserver.Pod, source string, scale float64) {
	note := ""
	if scale != 1 {
		note = fmt.Sprintf(", every time x %g", scale)
	}
	fmt.Fprintf(out, "inferbench reference server %s: %d pods (%s%s)\n", refserver.ServerVersion, len(pods), source, note)
	for _, p := range pods {
		fmt.Fprintf(out, "\npod %s\n", p.Server.Name())
		for _, line := range p.Server.Describe() {
			fmt.Fprintf(out, "    %s\n", strings.TrimSpace(line))
		}
		printAddrs(out, p, "    ")
	}
	fmt.Fprintln(out)
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/refserver"
)

func newServeCommand() *cobra.Command {
	o := &refserver.ServeOptions{}
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
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, o) },
	}
	registerServeFlags(cmd.Flags(), o)
	return cmd
}

func runServe(cmd *cobra.Command, o *refserver.ServeOptions) error {
	o.Set = cmd.Flags().Changed
	return o.Serve(cmd.Context(), cmd.OutOrStdout())
}

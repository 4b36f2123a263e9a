package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/conformance"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
)

func newCheckCommand() *cobra.Command {
	o := &conformance.Options{}
	var headers []string
	var maxResponseSize, compression, sharedMemory string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that an endpoint speaks the protocol: health, metadata, config, and a few verified inferences",
		Long: `Check one endpoint, or with --reference start the reference server in this process on
free loopback ports and check it over every protocol (kserve-http, kserve-http-json,
kserve-grpc). Inputs are generated from the model's metadata; responses are checked
against the metadata and, for the reference server, against the inputs' fingerprint.`,
		Example: `  inferbench check --reference
  inferbench check --url http://127.0.0.1:8000 --protocol kserve-http --model yolov8n`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Headers = map[string]string{}
			if err := parseHeaders(headers, o.Headers); err != nil {
				return err
			}
			var err error
			if o.MaxResponseSize, err = responseSize(maxResponseSize); err != nil {
				return err
			}
			if err := plan.CheckGRPCTransport(protocol.KServeGRPC, o.GRPCTransport); err != nil {
				return fmt.Errorf("--grpc-transport %w", err)
			}
			if err := checkAuthority(o.Authority); err != nil {
				return err
			}
			if o.Compression, err = compressionFlag(compression); err != nil {
				return err
			}
			kind := protocol.Kind(o.Protocol)
			if o.Reference {
				kind = protocol.KServeHTTP // every KServe protocol
			}
			if o.SharedMemory, err = sharedMemoryFlag(kind, sharedMemory); err != nil {
				return err
			}
			if !o.Reference {
				if err := plan.CheckTLS(protocol.Kind(o.Protocol), o.URL, o.TLS); err != nil {
					return fmt.Errorf("--url %s: %w", o.URL, err)
				}
				// user:password@ in --url: Basic credentials, never printed.
				e, err := plan.CheckURL(protocol.Kind(o.Protocol), o.URL)
				if err != nil {
					return fmt.Errorf("--url: %w", err)
				}
				d := plan.Deployment{Headers: o.Headers}
				if err := d.WithCredentials(e); err != nil {
					return fmt.Errorf("--url: %w", err)
				}
				o.URL, o.Headers = plan.DialURL(d.URL), d.Headers
			}
			return conformance.Run(cmd.Context(), cmd.OutOrStdout(), *o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Reference, "reference", false, "start the reference server in-process and check all protocols against it")
	fl.StringVar(&o.URL, "url", "", "server URL (http://host:port or https://host:port for HTTP, host:port or grpcs://host:port for gRPC)")
	fl.StringVar(&o.Protocol, "protocol", string(protocol.KServeHTTP), "protocol: kserve-http|kserve-http-json|kserve-grpc")
	fl.StringVar(&o.Model, "model", "yolov8n", "model name")
	fl.StringVar(&o.Version, "model-version", "", "model version (empty: the server's choice)")
	fl.IntVarP(&o.Requests, "requests", "n", 20, "inference requests per endpoint")
	fl.DurationVar(&o.Timeout, "timeout", protocol.DefaultTimeout, "timeout of each call")
	fl.StringArrayVarP(&headers, "header", "H", nil, `header "Name: value" sent with every call (gRPC metadata for gRPC; repeatable)`)
	fl.StringVar(&maxResponseSize, "max-response-size", "", maxResponseSizeHelp)
	fl.StringVar(&o.GRPCTransport, "grpc-transport", protocol.GRPCTransportFast, grpcTransportHelp)
	addTLSFlags(fl, &o.TLS, true)
	fl.StringVar(&o.Authority, "authority", "", authorityHelp)
	fl.StringVar(&compression, "compression", "", compressionHelp)
	fl.StringVar(&sharedMemory, "shared-memory", protocol.SharedMemoryNone, sharedMemoryHelp)
	fl.DurationVar(&o.ServiceTime, "service-time", 10*time.Millisecond, "with --reference: the emulated service time")
	return cmd
}

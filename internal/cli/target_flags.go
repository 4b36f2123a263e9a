package cli

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/run"
)

// addTargetFlags registers the flags that name one endpoint, what to send
// it, and where the report goes: shared by bench and sweep, and read by
// benchFlags.plan.
func addTargetFlags(fl *pflag.FlagSet, f *benchFlags) {
	fl.StringVar(&f.url, "url", "", "server URL: http://host:port or host:port (required)")
	fl.StringVar(&f.protocol, "protocol", string(protocol.KServeHTTP), "kserve-http|kserve-http-json|kserve-grpc|nim-http|http-json")
	fl.StringVar(&f.model, "model", "", "model name (required)")
	fl.StringVar(&f.version, "model-version", "", "model version (empty: the server's choice)")
	fl.StringVar(&f.name, "name", "", "deployment name in reports (default: protocol and host)")
	fl.IntVar(&f.warmup, "warmup", -1, "warmup requests per level (default: min(10, max(5, n/20)); 10 for --duration)")
	fl.DurationVar(&f.timeout, "timeout", protocol.DefaultTimeout, "timeout of each request, HTTP and gRPC alike")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", protocol.DefaultConnectTimeout, "timeout of establishing a connection")
	fl.DurationVar(&f.grace, "grace", load.DefaultGrace, "after Ctrl-C, how long requests in flight may finish")
	fl.StringArrayVar(&f.shapes, "shape", nil, "input shape name:dims for variable dimensions, e.g. images:1,3,640,640 (repeatable)")
	fl.IntVar(&f.batchSize, "batch-size", 1, "size of a leading variable (batch) dimension")
	fl.StringVar(&f.inputData, "input-data", "", "input samples in perf_analyzer's JSON format, sent in rotation")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random input data")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `header "Name: value" sent with every call (gRPC metadata for gRPC; repeatable)`)
	fl.IntVar(&f.connections, "connections", protocol.DefaultConnections, "gRPC: connections (HTTP/2 channels) the calls are spread over, round robin")
	fl.StringVar(&f.format, "format", "text", "report format: "+strings.Join(report.Formats, "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.StringVar(&f.results, "results", "", "also keep the result file (JSON, inferbench.result/v1) here, rewritten after every level")
	fl.StringVar(&f.metricsURL, "metrics-url", run.MetricsAuto, "the server's Prometheus metrics: a URL, auto (Triton's port 8002 on the server's host, else its statistics API) or off")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	addImageFlags(fl, &f.img)
}

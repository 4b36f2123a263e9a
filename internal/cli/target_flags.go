package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/bytesize"
	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/session"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// endpointFlags name one endpoint, what to send it, and where the report
// goes: shared by bench and sweep, turned into a one-deployment plan.
type endpointFlags struct {
	url, protocol, model, version, name string
	warmup                              int
	timeout, connectTimeout, grace      time.Duration
	shapes                              []string
	batchSize                           int
	inputData                           string
	seed                                uint64
	headers                             []string
	connections                         int
	format, output, results             string
	metricsURL                          string
	quiet                               bool
	image                               string
	http                                protocol.HTTPOptions
	form                                []string
	kube                                kube.Target
	kubeconfig                          string
	liveAddr                            string         // --metrics-addr
	flags                               *pflag.FlagSet // to tell a flag given from its default
	maxResponseSize                     string
	grpcTransport                       string
	tls                                 tlsconf.Client
	authority                           string
	compression                         string
	sharedMemory                        string
}

// addTLSFlags adds the TLS flags, and --tls when withEnable (a plan's
// deployments say for themselves whether they use TLS).
func addTLSFlags(fl *pflag.FlagSet, t *tlsconf.Client, withEnable bool) {
	if withEnable {
		fl.BoolVar(&t.Enabled, "tls", false, "TLS for a host:port address (https:// and grpcs:// URLs are TLS already; any TLS flag below turns it on too)")
	}
	fl.StringVar(&t.CACert, "ca-cert", "", "TLS: a PEM file of the CA certificates to trust instead of the system's")
	fl.StringVar(&t.Cert, "cert", "", "TLS: the client certificate (PEM) for servers that require one (mutual TLS); needs --key")
	fl.StringVar(&t.Key, "key", "", "TLS: the client certificate's private key (PEM)")
	fl.BoolVar(&t.InsecureSkipVerify, "insecure-skip-verify", false, "TLS: accept any server certificate (encrypted, but the server is not authenticated; every report warns)")
	if withEnable {
		fl.StringVar(&t.ServerName, "server-name", "", "TLS: the name sent (SNI) and checked against the server's certificate, instead of the URL's host")
	}
}

// authorityHelp is the help of --authority.
const authorityHelp = "gRPC: the :authority sent instead of the address's host:port (grpcurl's -authority), e.g. for an ingress that routes by host; for HTTP the Host header. -H 'Host: x' does the same unless --authority is given"

// checkAuthority checks --authority.
func checkAuthority(a string) error {
	if a != "" && (strings.TrimSpace(a) != a || strings.ContainsAny(a, " /\\\t")) {
		return fmt.Errorf("--authority %q: want host or host:port", a)
	}
	return nil
}

// compressionHelp is the help of --compression, the same on every command.
const compressionHelp = "compress the requests: gzip|deflate|none; HTTP bodies get Content-Encoding, gRPC messages grpc-encoding (as perf_analyzer's --grpc-compression-algorithm). Compressed once before the run; the payload bytes reported are the compressed ones. Answers in gzip or deflate (e.g. with -H 'Accept-Encoding: gzip') are decoded whatever this says"

// sharedMemoryHelp is the help of --shared-memory, the same on every command.
const sharedMemoryHelp = "Triton's shared-memory extension, as perf_analyzer's --shared-memory: system writes every distinct input once into POSIX shared memory (/dev/shm) registered with the server, has the server write outputs into regions of ours, and sends only their names (kserve-http, kserve-http-json, kserve-grpc; the client must run on the server's host); none sends the tensors. cuda needs a GPU and is not supported"

// sharedMemoryFlag reads --shared-memory for a protocol: "" for none.
func sharedMemoryFlag(kind protocol.Kind, s string) (string, error) {
	m, err := plan.CheckSharedMemory(kind, s)
	if err != nil {
		return "", fmt.Errorf("--shared-memory: %w", err)
	}
	return m, nil
}

// compressionFlag reads --compression: "" for none.
func compressionFlag(s string) (string, error) {
	c, err := plan.CheckCompression(s)
	if err != nil {
		return "", fmt.Errorf("--compression: %w", err)
	}
	return c, nil
}

// maxResponseSizeHelp is the help of --max-response-size, the same on
// every command.
var maxResponseSizeHelp = fmt.Sprintf("the largest response body or gRPC message accepted, e.g. 16MiB, 200MB: a larger one is a malformed_response, and no buffer grows past it, so a worker holds at most this much of any answer (default %s)",
	bytesize.Format(protocol.DefaultMaxResponseSize))

// grpcTransportHelp is the help of --grpc-transport; why fast is the
// default is in bench/README.md.
var grpcTransportHelp = "kserve-grpc's implementation: fast (our own HTTP/2 client: half grpc-go's CPU per call at c=64 and on YOLO-sized messages, no allocation per call, so the client is the bottleneck later) or grpc-go (Google's, as most Go clients use it, with the same prepared requests and checks: to compare with, or to fall back on should a server or proxy trip ours)"

// responseSize reads --max-response-size; "" is 0, the default.
func responseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := plan.CheckResponseSize(s)
	if err != nil {
		return 0, fmt.Errorf("--max-response-size %q: %w", s, err)
	}
	return n, nil
}

func addEndpointFlags(fl *pflag.FlagSet, f *endpointFlags) {
	f.flags = fl
	fl.StringVar(&f.url, "url", "", "server URL: http://host:port, https://host:port, host:port; for gRPC host:port, grpcs://host:port (TLS) (required)")
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
	fl.StringVar(&f.maxResponseSize, "max-response-size", "", maxResponseSizeHelp)
	fl.StringVar(&f.grpcTransport, "grpc-transport", protocol.GRPCTransportFast, grpcTransportHelp)
	addTLSFlags(fl, &f.tls, true)
	fl.StringVar(&f.authority, "authority", "", authorityHelp)
	fl.StringVar(&f.compression, "compression", "", compressionHelp)
	fl.StringVar(&f.sharedMemory, "shared-memory", protocol.SharedMemoryNone, sharedMemoryHelp)
	fl.StringVar(&f.format, "format", "text", "report format: "+strings.Join(report.Formats, "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.StringVar(&f.results, "results", "", "also keep the result file (JSON, inferbench.result/v2) here, rewritten after every level")
	fl.StringVar(&f.metricsURL, "metrics-url", session.MetricsAuto, "the server's Prometheus metrics: a URL, auto (Triton's port 8002 on the server's host, else its statistics API) or off")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	addLiveFlag(fl, &f.liveAddr)
	fl.StringVar(&f.image, "image", "", "images to send in rotation: a JPEG/PNG file, a folder, a glob, or builtin (a generated street scene); letterboxed into the model's image input over KServe, sent as files over nim-http and http-json")
	fl.StringVar(&f.http.Preset, "http-preset", "", "nim-http/http-json request shape: "+strings.Join(protocol.HTTPPresetNames(), "|")+" (default fastapi for http-json, nim for nim-http)")
	fl.StringVar(&f.http.Method, "http-method", "", "HTTP method (default POST)")
	fl.StringVar(&f.http.Path, "http-path", "", "path of the request, after the URL (default the preset's: /predict, /v1/infer)")
	fl.StringVar(&f.http.Body, "http-body", "", `body as a Go text/template: {{.Image}} the image in base64, {{.DataURL}}, {{.Images}}/{{.DataURLs}} for a batch, {{.Model}}; e.g. '{"image": "{{.Image}}"}'`)
	fl.StringVar(&f.http.ContentType, "http-content-type", "", "Content-Type of --http-body (default application/json)")
	fl.StringVar(&f.http.MultipartField, "http-multipart-field", "", "send the image as a multipart/form-data upload in this field (e.g. file)")
	fl.StringArrayVar(&f.form, "http-form", nil, "another field of the multipart upload, name=value (repeatable), e.g. conf=0.25")
	fl.BoolVar(&f.http.Raw, "http-raw", false, "send the image's bytes as the body (Content-Type image/png or image/jpeg)")
	fl.StringVar(&f.http.CheckPath, "http-check-path", "", "a dot-separated JSON path that must exist in every 200 answer, e.g. 0.box or data.0")
	fl.StringVar(&f.http.Health, "http-health", "", "GET path of the service's health check, or none (default the preset's: /health, /v1/health/ready)")
	fl.StringVar(&f.http.Detections, "http-detections", "", "format of the answer: ultralytics|nim|none (default the preset's), checked on every answer")
	fl.StringVar(&f.kube.Namespace, "kube-namespace", "", "pod checks: the pods' namespace (default: the context's)")
	fl.StringVar(&f.kube.Selector, "kube-selector", "", "pod checks: a label selector for the server's pods, e.g. app=triton; a restart or OOM kill during a level makes it INVALID")
	fl.StringVar(&f.kube.Deployment, "kube-deployment", "", "pod checks: a Deployment whose pods serve the endpoint")
	fl.StringVar(&f.kube.Service, "kube-service", "", "pod checks: a Service whose pods serve the endpoint")
	fl.StringVar(&f.kube.Context, "kube-context", "", "pod checks: the kubeconfig context (default: the current one)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "pod checks: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
}

// deployment checks the flags and turns them into a plan deployment (the
// session reads and decodes the images before anything is sent).
func (f *endpointFlags) deployment() (plan.Deployment, error) {
	var d plan.Deployment
	kind := protocol.Kind(f.protocol)
	switch {
	case f.url == "" || f.model == "":
		return d, errors.New("--url and --model are required")
	case !slices.Contains(protocol.Kinds, kind):
		return d, fmt.Errorf("--protocol %q: want one of %v", f.protocol, protocol.Kinds)
	case !slices.Contains(report.Formats, f.format):
		return d, fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))
	case f.timeout <= 0 || f.connectTimeout <= 0:
		return d, errors.New("--timeout and --connect-timeout must be positive")
	case f.connections < 1:
		return d, fmt.Errorf("--connections %d: need at least 1", f.connections)
	case f.warmup < 0 && (f.flags == nil || f.flags.Changed("warmup")):
		return d, fmt.Errorf("--warmup %d: must not be negative (0: no warmup)", f.warmup)
	case f.batchSize < 1:
		return d, fmt.Errorf("--batch-size %d: need at least 1", f.batchSize)
	}
	name := f.name
	if name == "" {
		host := f.url
		if u, err := url.Parse(f.url); err == nil && u.Host != "" {
			host = u.Host
		}
		name = fmt.Sprintf("%s@%s", kind, host)
	}
	d = plan.Deployment{Name: name, Protocol: f.protocol, URL: f.url, Model: f.model, Version: f.version, Timeout: f.timeout,
		ConnectTimeout: f.connectTimeout, Connections: f.connections, Headers: map[string]string{}, MetricsURL: f.metricsURL,
		Inputs: plan.Inputs{BatchSize: f.batchSize, Data: f.inputData, Seed: f.seed, Image: f.image}}
	var err error
	if d.MaxResponseSize, err = responseSize(f.maxResponseSize); err != nil {
		return d, err
	}
	if err := plan.CheckGRPCTransport(kind, f.grpcTransport); err != nil {
		return d, fmt.Errorf("--grpc-transport %w", err)
	}
	if f.grpcTransport != protocol.GRPCTransportFast {
		d.GRPCTransport = f.grpcTransport
	}
	if err := plan.CheckTLS(kind, f.url, f.tls); err != nil {
		return d, fmt.Errorf("--url %s: %w", f.url, err)
	}
	if err := checkAuthority(f.authority); err != nil {
		return d, err
	}
	d.TLS, d.Authority = f.tls, f.authority
	if d.Compression, err = compressionFlag(f.compression); err != nil {
		return d, err
	}
	if d.SharedMemory, err = sharedMemoryFlag(kind, f.sharedMemory); err != nil {
		return d, err
	}
	if f.kube != (kube.Target{}) {
		k := f.kube
		d.Kubernetes = &plan.Kubernetes{Namespace: k.Namespace, Selector: k.Selector, Deployment: k.Deployment, Service: k.Service, Context: k.Context}
	}
	if err := parseHeaders(f.headers, d.Headers); err != nil {
		return d, err
	}
	// --url's user:password@ becomes Basic credentials, redacted from
	// the URL shown and stored.
	e, err := plan.CheckURL(kind, f.url)
	if err != nil {
		return d, fmt.Errorf("--url: %w", err)
	}
	if err := d.WithCredentials(e); err != nil {
		return d, fmt.Errorf("--url: %w", err)
	}
	for _, s := range f.shapes {
		name, dims, ok := strings.Cut(s, ":")
		t, err := kserve.ParseTensorSpec("shape", name+":FP32:"+dims)
		if !ok || err != nil {
			return d, fmt.Errorf("--shape %q: want name:dims with whole numbers, for example images:1,3,640,640", s)
		}
		if d.Inputs.Shapes == nil {
			d.Inputs.Shapes = map[string][]int64{}
		}
		d.Inputs.Shapes[t.Name] = t.Shape
	}
	return d, f.images(kind, &d)
}

// images checks the image and --http-* flags for a protocol kind.
func (f *endpointFlags) images(kind protocol.Kind, d *plan.Deployment) error {
	h := f.http
	httpSet := h.Preset != "" || h.Method != "" || h.Path != "" || h.Body != "" || h.ContentType != "" || h.MultipartField != "" ||
		h.Raw || h.CheckPath != "" || h.Health != "" || h.Detections != "" || len(f.form) > 0
	if httpSet && !kind.SendsImages() {
		return fmt.Errorf("the --http-* flags shape requests of --protocol %s or %s, not %s", protocol.NIMHTTP, protocol.HTTPJSON, kind)
	}
	for _, kv := range f.form {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--http-form %q: want name=value", kv)
		}
		if h.Form == nil {
			h.Form = map[string]string{}
		}
		h.Form[k] = v
	}
	if kind.SendsImages() {
		if _, err := h.Resolve(kind); err != nil {
			return fmt.Errorf("--http-*: %w", err)
		}
		if f.inputData != "" {
			return fmt.Errorf("--input-data gives tensors: %s sends images (--image)", kind)
		}
	}
	d.HTTP = h
	if f.image != "" && f.inputData != "" {
		return fmt.Errorf("give --image or --input-data, not both")
	}
	return nil
}

// addLiveFlag adds --metrics-addr: the live figures on /metrics.
func addLiveFlag(fl *pflag.FlagSet, addr *string) {
	fl.StringVar(addr, "metrics-addr", "", "serve live figures (requests, errors by class, in flight, late sends, a latency histogram; by deployment and step) on http://HOST:PORT/metrics in Prometheus' text format while it runs, e.g. 127.0.0.1:9090 (:0 picks a free port; empty: off)")
}

// parseHeaders reads "Name: value" flags into out.
func parseHeaders(headers []string, out map[string]string) error {
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("--header %q: want \"Name: value\"", h)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return nil
}

// options are the session options the endpoint flags give.
func (f *endpointFlags) options(stdout, log io.Writer) session.Options {
	o := session.Options{Version: Version, ResultsPath: f.results, Stdout: stdout, Reports: []session.Report{{Format: f.format, Path: f.output}},
		Grace: f.grace, Kubeconfig: f.kubeconfig, MustOpen: true, MetricsAddr: f.liveAddr}
	if !f.quiet {
		o.Log = log
	}
	return o
}

// requirePreprocessImages refuses per-request preprocessing without
// images to preprocess.
func requirePreprocessImages(perRequest bool, d plan.Deployment) error {
	if perRequest && d.Inputs.Image == "" && !protocol.Kind(d.Protocol).SendsImages() {
		return fmt.Errorf("--preprocess-per-request preprocesses images: give --image (%s for the built-in one)", inputs.BuiltinImage)
	}
	return nil
}

package protocol

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
	"github.com/inferbench/inferbench/internal/transport/http1"
)

// httpClient speaks KServe v2 over HTTP/1.1 with keep-alive connections,
// either with Triton's binary tensors (as tritonclient and perf_analyzer do
// by default) or with pure JSON, through a lean transport of its own
// (package http1) rather than net/http.
type httpClient struct {
	opts     Options
	encoding compress.Encoding // of the request bodies
	binary   bool
	basePath string                  // the URL's path prefix, no trailing slash
	fields   []transport.HeaderField // sent with every request: Host, User-Agent, the options' headers
	t        *http1.Transport
}

// hopHeaders are set by the transport; the options' headers cannot.
var hopHeaders = []string{"Content-Length", "Transfer-Encoding", "Connection", kserve.HeaderContentLength}

func newHTTPClient(opts Options) (*httpClient, error) {
	raw := opts.URL
	if opts.TLS != nil && raw != "" && !strings.Contains(raw, "://") {
		raw = "https://" + raw // TLS settings for host:port (--tls)
	}
	base, err := httpBase(raw)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base) // httpBase checked it
	if opts.TLS != nil && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q is plain text (http://), but TLS settings are given: use https://", opts.URL)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	var tlsConfig *tls.Config
	if u.Scheme == "https" {
		// The name checked is the URL's host, whatever the Host header
		// says (as curl does), unless the TLS settings name one.
		tlsConfig = clientTLS(opts.TLS, u.Hostname(), alpnHTTP1)
	}
	host := u.Host
	if opts.Authority != "" {
		host = opts.Authority
	}
	enc, err := compress.Parse(opts.Compression)
	if err != nil {
		return nil, err
	}
	fields := []transport.HeaderField{{Name: "Host", Value: host}, {Name: "User-Agent", Value: "inferbench"}}
	names := make([]string, 0, len(opts.Headers))
	for k := range opts.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := opts.Headers[k]
		if !transport.ValidHeader(k, v) {
			return nil, fmt.Errorf("header %q: not a valid HTTP header", k)
		}
		if slices.ContainsFunc(hopHeaders, func(h string) bool { return strings.EqualFold(h, k) }) {
			return nil, fmt.Errorf("header %q is the client's to set", k)
		}
		if enc != compress.None && strings.EqualFold(k, "Content-Encoding") {
			return nil, fmt.Errorf("header %q: the client sets it, to %s, as the compression option asks", k, enc)
		}
		if strings.EqualFold(k, "Host") && opts.Authority != "" {
			continue // --authority wins, as over gRPC
		}
		if i := slices.IndexFunc(fields, func(f transport.HeaderField) bool { return strings.EqualFold(f.Name, k) }); i >= 0 {
			fields[i].Value = v // Host, User-Agent
			continue
		}
		fields = append(fields, transport.HeaderField{Name: k, Value: v})
	}
	return &httpClient{
		opts: opts, encoding: enc, binary: opts.Kind == KServeHTTP, basePath: strings.TrimSuffix(u.Path, "/"), fields: fields,
		t: http1.New(http1.Config{
			Dialer:  transport.Dialer{Addr: addr, TLS: tlsConfig, Timeout: opts.ConnectTimeout, Net: net.Dialer{KeepAlive: 30 * time.Second}},
			MaxIdle: opts.MaxConns,
			Timeout: opts.Timeout,
			Limit:   opts.MaxResponseSize,
			Capture: kserve.HeaderContentLength,
		}),
	}, nil
}

// httpBase normalises a server URL to scheme://host:port.
func httpBase(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("no server URL")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("server URL %q: scheme %q is not http or https", raw, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server URL %q has no host", raw)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

func (c *httpClient) Kind() Kind { return c.opts.Kind }

func (c *httpClient) Close() error {
	c.t.Close()
	return nil
}

func modelPath(model, version string) string {
	p := "/v2/models/" + url.PathEscape(model)
	if version != "" {
		p += "/versions/" + url.PathEscape(version)
	}
	return p
}

// do sends one request that is not on the hot path (health, metadata)
// under the call timeout and returns the answer with a body of its own.
func (c *httpClient) do(ctx context.Context, method, path string) (*http1.Response, error) {
	req := http1.AppendRequestHead(nil, method, c.basePath+path, c.fields, -1)
	return c.exchange(ctx, method+" "+path, req, method)
}

// exchange sends a rendered request under the call timeout and returns
// the answer with a body of its own.
func (c *httpClient) exchange(ctx context.Context, op string, req []byte, method string) (*http1.Response, error) {
	var (
		w    transport.AbortWatch
		res  http1.Response
		body []byte
	)
	w.Follow(ctx)
	defer w.Release()
	if err := c.t.Exchange(ctx, &w, op, req, method, &res, &body); err != nil {
		overLimit(err)
		return nil, err
	}
	return &res, nil
}

// jsonLen returns the Inference-Header-Content-Length of a response (the
// header the transport captures), -1 when absent, checked as
// kserve.ParseHeaderLength checks it.
func jsonLen(r *http1.Response) (int, error) {
	if !r.HasCaptured {
		return -1, nil
	}
	if n, ok := http1.ParseDecimal(r.Captured); ok && n <= int64(len(r.Body)) {
		return int(n), nil
	}
	_, err := kserve.ParseHeaderLength(string(r.Captured), len(r.Body))
	if err == nil {
		err = fmt.Errorf("invalid %s '%s'", kserve.HeaderContentLength, r.Captured)
	}
	return 0, &MalformedResponseError{Err: err}
}

func statusError(status int, body []byte) error {
	msg := kserve.DecodeHTTPError(body)
	if status == http.StatusBadRequest && plainToTLS(msg) {
		msg += " (the port speaks TLS: use an https:// URL)"
	}
	return &ServerError{HTTPStatus: status, Message: msg}
}

// plainToTLS reports whether a 400's message is a TLS server's answer to
// plain HTTP: Go's net/http ("Client sent an HTTP request to an HTTPS
// server.") and nginx's ("The plain HTTP request was sent to HTTPS port").
func plainToTLS(msg string) bool {
	return strings.Contains(msg, "HTTP request to an HTTPS server") || strings.Contains(msg, "plain HTTP request was sent to HTTPS port")
}

// health asks a health endpoint: the status code alone decides, whatever
// the body (Triton sends none, KServe sends JSON).
func (c *httpClient) health(ctx context.Context, path string) (bool, error) {
	res, err := c.do(ctx, http.MethodGet, path)
	if err != nil {
		return false, err
	}
	return res.Status == http.StatusOK, nil
}

func (c *httpClient) ServerLive(ctx context.Context) (bool, error) {
	return c.health(ctx, "/v2/health/live")
}

func (c *httpClient) ServerReady(ctx context.Context) (bool, error) {
	return c.health(ctx, "/v2/health/ready")
}

func (c *httpClient) ModelReady(ctx context.Context, model, version string) (bool, error) {
	return c.health(ctx, modelPath(model, version)+"/ready")
}

// getJSON fetches a JSON document into v.
func (c *httpClient) getJSON(ctx context.Context, path string, v any) error {
	res, err := c.do(ctx, http.MethodGet, path)
	if err != nil {
		return err
	}
	if res.Status != http.StatusOK {
		return statusError(res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, v); err != nil {
		return &MalformedResponseError{Err: fmt.Errorf("GET %s: %w", path, err)}
	}
	return nil
}

func (c *httpClient) ServerMetadata(ctx context.Context) (*kserve.ServerMetadata, error) {
	var md kserve.ServerMetadata
	if err := c.getJSON(ctx, "/v2", &md); err != nil {
		return nil, err
	}
	return &md, nil
}

func (c *httpClient) ModelMetadata(ctx context.Context, model, version string) (*kserve.ModelMetadata, error) {
	var md kserve.ModelMetadata
	if err := c.getJSON(ctx, modelPath(model, version), &md); err != nil {
		return nil, err
	}
	return &md, nil
}

func (c *httpClient) ModelConfig(ctx context.Context, model, version string) (*pb.ModelConfig, error) {
	var raw json.RawMessage
	if err := c.getJSON(ctx, modelPath(model, version)+"/config", &raw); err != nil {
		return nil, err
	}
	var cfg pb.ModelConfig
	if err := kserve.UnmarshalTritonJSON(raw, &cfg); err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return &cfg, nil
}

func (c *httpClient) ModelStatistics(ctx context.Context, model, version string) (*pb.ModelStatisticsResponse, error) {
	path := "/v2/models/stats"
	if model != "" {
		path = modelPath(model, version) + "/stats"
	}
	var raw json.RawMessage
	if err := c.getJSON(ctx, path, &raw); err != nil {
		return nil, err
	}
	var stats pb.ModelStatisticsResponse
	if err := kserve.UnmarshalTritonJSON(raw, &stats); err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return &stats, nil
}

// httpPayload is an inference request rendered once: request line,
// headers and body, written to the connection in one call.
type httpPayload struct {
	op   string // "POST /v2/models/m/infer", for errors
	wire []byte
	body int // the body's length, at the end of wire
}

func (p *httpPayload) Size() int { return p.body }

// Prepare encodes the request. The binary kind sends inputs as binary
// tensors and asks for every output in binary (binary_data_output) unless
// the request says otherwise; the JSON kind sends and asks for JSON only.
// The body is copied once, behind the rendered headers.
func (c *httpClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	r := *req
	if c.binary {
		if _, set := r.Parameters["binary_data_output"]; !set {
			params := kserve.Parameters{"binary_data_output": true}
			for k, v := range r.Parameters {
				params[k] = v
			}
			r.Parameters = params
		}
	}
	body, jsonLen, err := kserve.EncodeHTTPRequest(&r, c.binary)
	if err != nil {
		return nil, err
	}
	body, fields, err := c.compressBody(body)
	if err != nil {
		return nil, err
	}
	if jsonLen >= 0 {
		fields = withDefault(fields, "Content-Type", "application/octet-stream")
		fields = append(fields, transport.HeaderField{Name: kserve.HeaderContentLength, Value: strconv.Itoa(jsonLen)})
	} else {
		fields = withDefault(fields, "Content-Type", "application/json")
	}
	path := modelPath(model, version) + "/infer"
	head := http1.AppendRequestHead(nil, http.MethodPost, c.basePath+path, fields, len(body))
	wire := make([]byte, 0, len(head)+len(body))
	wire = append(append(wire, head...), body...)
	return &httpPayload{op: http.MethodPost + " " + path, wire: wire, body: len(body)}, nil
}

// compressBody compresses a request body in the options' coding, once,
// and returns it with the client's headers and its Content-Encoding.
// Inference-Header-Content-Length stays the JSON header's length before
// compression, as Triton reads it after decoding.
func (c *httpClient) compressBody(body []byte) ([]byte, []transport.HeaderField, error) {
	fields := slices.Clone(c.fields)
	if c.encoding == compress.None {
		return body, fields, nil
	}
	body, err := compress.Compress(c.encoding, body)
	if err != nil {
		return nil, nil, fmt.Errorf("compressing the request body (%s): %w", c.encoding, err)
	}
	return body, append(fields, transport.HeaderField{Name: "Content-Encoding", Value: c.encoding.String()}), nil
}

// withDefault adds a header unless the options set it.
func withDefault(fields []transport.HeaderField, name, value string) []transport.HeaderField {
	if slices.ContainsFunc(fields, func(f transport.HeaderField) bool { return strings.EqualFold(f.Name, name) }) {
		return fields
	}
	return append(fields, transport.HeaderField{Name: name, Value: value})
}

// payload checks that p was prepared by an HTTP client.
func httpPayloadOf(p Payload) (*httpPayload, error) {
	hp, ok := p.(*httpPayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by an HTTP client", p)
	}
	return hp, nil
}

func (c *httpClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	hp, err := httpPayloadOf(p)
	if err != nil {
		return nil, err
	}
	res, err := c.exchange(ctx, hp.op, hp.wire, http.MethodPost)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		return nil, statusError(res.Status, res.Body)
	}
	headerLen, err := jsonLen(res)
	if err != nil {
		return nil, err
	}
	decode := kserve.DecodeHTTPResponse
	if c.opts.SharedMemory == SharedMemorySystem { // outputs in regions come without data
		decode = kserve.DecodeHTTPResponseSHM
	}
	resp, err := decode(res.Body, headerLen)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

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
)

// httpClient speaks KServe v2 over HTTP/1.1 with keep-alive connections,
// either with Triton's binary tensors (as tritonclient and perf_analyzer do
// by default) or with pure JSON, through a lean transport of its own
// (httptransport.go) rather than net/http.
type httpClient struct {
	opts     Options
	binary   bool
	basePath string        // the URL's path prefix, no trailing slash
	fields   []headerField // sent with every request: Host, User-Agent, the options' headers
	t        *httpTransport
}

// hopHeaders are set by the transport; the options' headers cannot.
var hopHeaders = []string{"Content-Length", "Transfer-Encoding", "Connection", kserve.HeaderContentLength}

func newHTTPClient(opts Options) (*httpClient, error) {
	base, err := httpBase(opts.URL)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base) // httpBase checked it
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
		tlsConfig = &tls.Config{ServerName: u.Hostname()}
	}
	fields := []headerField{{"Host", u.Host}, {"User-Agent", "inferbench"}}
	names := make([]string, 0, len(opts.Headers))
	for k := range opts.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := opts.Headers[k]
		if !validHeader(k, v) {
			return nil, fmt.Errorf("header %q: not a valid HTTP header", k)
		}
		if slices.ContainsFunc(hopHeaders, func(h string) bool { return strings.EqualFold(h, k) }) {
			return nil, fmt.Errorf("header %q is the client's to set", k)
		}
		if i := slices.IndexFunc(fields, func(f headerField) bool { return strings.EqualFold(f.name, k) }); i >= 0 {
			fields[i].value = v // Host, User-Agent
			continue
		}
		fields = append(fields, headerField{k, v})
	}
	return &httpClient{
		opts: opts, binary: opts.Kind == KServeHTTP, basePath: strings.TrimSuffix(u.Path, "/"), fields: fields,
		t: &httpTransport{
			dial:    dialer{addr: addr, tls: tlsConfig, timeout: opts.ConnectTimeout, net: net.Dialer{KeepAlive: 30 * time.Second}},
			pool:    connPool{max: opts.MaxConns},
			timeout: opts.Timeout,
			limit:   opts.MaxMessageSize,
		},
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
	c.t.pool.close()
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
func (c *httpClient) do(ctx context.Context, method, path string) (*httpResponse, error) {
	req := appendRequestHead(nil, method, c.basePath+path, c.fields, -1)
	var (
		w    abortWatch
		res  httpResponse
		body []byte
	)
	w.follow(ctx)
	defer w.release()
	if err := c.t.exchange(ctx, &w, method+" "+path, req, method, &res, &body); err != nil {
		return nil, err
	}
	return &res, nil
}

func statusError(status int, body []byte) error {
	return &ServerError{HTTPStatus: status, Message: kserve.DecodeHTTPError(body)}
}

// health asks a health endpoint: the status code alone decides, whatever
// the body (Triton sends none, KServe sends JSON).
func (c *httpClient) health(ctx context.Context, path string) (bool, error) {
	res, err := c.do(ctx, http.MethodGet, path)
	if err != nil {
		return false, err
	}
	return res.status == http.StatusOK, nil
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
	if res.status != http.StatusOK {
		return statusError(res.status, res.body)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
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
	fields := slices.Clone(c.fields)
	if jsonLen >= 0 {
		fields = withDefault(fields, "Content-Type", "application/octet-stream")
		fields = append(fields, headerField{kserve.HeaderContentLength, strconv.Itoa(jsonLen)})
	} else {
		fields = withDefault(fields, "Content-Type", "application/json")
	}
	path := modelPath(model, version) + "/infer"
	head := appendRequestHead(nil, http.MethodPost, c.basePath+path, fields, len(body))
	wire := make([]byte, 0, len(head)+len(body))
	wire = append(append(wire, head...), body...)
	return &httpPayload{op: http.MethodPost + " " + path, wire: wire, body: len(body)}, nil
}

// withDefault adds a header unless the options set it.
func withDefault(fields []headerField, name, value string) []headerField {
	if slices.ContainsFunc(fields, func(f headerField) bool { return strings.EqualFold(f.name, name) }) {
		return fields
	}
	return append(fields, headerField{name, value})
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
	var (
		w    abortWatch
		res  httpResponse
		body []byte
	)
	w.follow(ctx)
	defer w.release()
	if err := c.t.exchange(ctx, &w, hp.op, hp.wire, http.MethodPost, &res, &body); err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, statusError(res.status, res.body)
	}
	headerLen, err := res.jsonLen()
	if err != nil {
		return nil, err
	}
	resp, err := kserve.DecodeHTTPResponse(res.body, headerLen)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// httpClient speaks KServe v2 over HTTP/1.1 with keep-alive connections,
// either with Triton's binary tensors (as tritonclient and perf_analyzer do
// by default) or with pure JSON.
type httpClient struct {
	opts   Options
	base   string // scheme://host:port, no trailing slash
	binary bool
	hc     *http.Client
}

func newHTTPClient(opts Options) (*httpClient, error) {
	base, err := httpBase(opts.URL)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: opts.ConnectTimeout}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * opts.ConnectTimeout,
		DisableCompression:    true,
		ResponseHeaderTimeout: 0, // the per-call deadline covers it
	}
	return &httpClient{
		opts: opts, base: base, binary: opts.Kind == KServeHTTP,
		hc: &http.Client{Transport: transport},
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
	c.hc.CloseIdleConnections()
	return nil
}

func modelPath(model, version string) string {
	p := "/v2/models/" + url.PathEscape(model)
	if version != "" {
		p += "/versions/" + url.PathEscape(version)
	}
	return p
}

// do sends one request under the call timeout and returns the status, the
// headers and the body, read up to the maximum message size.
func (c *httpClient) do(ctx context.Context, method, path string, body []byte, header http.Header) (int, http.Header, []byte, error) {
	ctx, cancel := withTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	for k, v := range c.opts.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := readLimited(resp.Body, resp.ContentLength, c.opts.MaxMessageSize)
	if err != nil {
		return resp.StatusCode, resp.Header, nil, err
	}
	return resp.StatusCode, resp.Header, out, nil
}

// readLimited reads a body of at most limit bytes. A declared length within
// the limit sizes the buffer at once; the server is trusted that far only.
func readLimited(r io.Reader, declared int64, limit int) ([]byte, error) {
	var buf bytes.Buffer
	if declared > 0 && declared <= int64(limit) {
		buf.Grow(int(declared))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if n > int64(limit) {
		return nil, &MalformedResponseError{Err: fmt.Errorf("response body exceeds %d bytes", limit)}
	}
	return buf.Bytes(), nil
}

func statusError(status int, body []byte) error {
	return &ServerError{HTTPStatus: status, Message: kserve.DecodeHTTPError(body)}
}

// health asks a health endpoint: the status code alone decides, whatever
// the body (Triton sends none, KServe sends JSON).
func (c *httpClient) health(ctx context.Context, path string) (bool, error) {
	status, _, _, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return false, err
	}
	return status == http.StatusOK, nil
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
	status, _, body, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return statusError(status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
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

// httpPayload is an encoded inference request.
type httpPayload struct {
	path   string
	body   []byte
	header http.Header
}

func (p *httpPayload) Size() int { return len(p.body) }

// Prepare encodes the request. The binary kind sends inputs as binary
// tensors and asks for every output in binary (binary_data_output) unless
// the request says otherwise; the JSON kind sends and asks for JSON only.
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
	header := http.Header{}
	if jsonLen >= 0 {
		header.Set(kserve.HeaderContentLength, strconv.Itoa(jsonLen))
		header.Set("Content-Type", "application/octet-stream")
	} else {
		header.Set("Content-Type", "application/json")
	}
	return &httpPayload{path: modelPath(model, version) + "/infer", body: body, header: header}, nil
}

func (c *httpClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	hp, ok := p.(*httpPayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by an HTTP client", p)
	}
	status, header, body, err := c.do(ctx, http.MethodPost, hp.path, hp.body, hp.header)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, statusError(status, body)
	}
	headerLen, err := kserve.ParseHeaderLength(header.Get(kserve.HeaderContentLength), len(body))
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	resp, err := kserve.DecodeHTTPResponse(body, headerLen)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

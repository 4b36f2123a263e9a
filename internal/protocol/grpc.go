package protocol

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
	"github.com/inferbench/inferbench/internal/transport/h2"
)

// DefaultConnections is the default number of gRPC connections (HTTP/2
// channels) inference calls are spread over; bench/README.md has the
// measurements behind it.
const DefaultConnections = 1

// grpcClient speaks KServe v2 gRPC (inference.GRPCInferenceService),
// sending inputs as raw_input_contents like Triton's own clients and
// accepting raw or typed outputs. Calls are spread round robin over
// Options.Connections connections.
//
// It runs on a gRPC transport of its own (package h2) rather than
// grpc-go, for the CPU a call costs. Requests are encoded once, by
// Prepare; answers are checked in the stream's buffer, not unmarshalled.
type grpcClient struct {
	opts      Options
	encoding  compress.Encoding // of the requests' messages
	dialer    transport.Dialer
	authority string
	metadata  []transport.HeaderField // the options' headers as gRPC metadata
	inferHead []byte                  // ModelInfer's header block, grpc-timeout aside
	slots     []grpcSlot
	next      atomic.Uint64
}

// grpcSlot holds one of the client's connections, redialled when it fails.
type grpcSlot struct {
	mu   sync.Mutex
	conn atomic.Pointer[h2.Conn]
}

func newGRPCClient(opts Options) (*grpcClient, error) {
	target, withTLS, err := grpcTarget(opts)
	if err != nil {
		return nil, err
	}
	md, host, err := grpcMetadata(opts.Headers)
	if err != nil {
		return nil, err
	}
	enc, err := compress.Parse(opts.Compression)
	if err != nil {
		return nil, err
	}
	md = append(md, compressionMetadata(enc)...)
	// :authority is --authority, else a Host header (as grpcurl and curl
	// take -H Host:), else the address.
	authority := opts.Authority
	if authority == "" {
		authority = host
	}
	if authority == "" {
		authority = target
	}
	c := &grpcClient{
		opts: opts, encoding: enc, authority: authority, metadata: md,
		dialer: transport.Dialer{Addr: target, Timeout: opts.ConnectTimeout, Net: net.Dialer{KeepAlive: 30 * time.Second}},
		slots:  make([]grpcSlot, opts.Connections),
	}
	if withTLS {
		// The name checked is the authority's host, as grpc-go and
		// grpcurl do, unless the TLS settings name one.
		c.dialer.TLS = clientTLS(opts.TLS, hostOf(authority), alpnH2)
	}
	c.inferHead = c.headerBlock(pb.GRPCInferenceService_ModelInfer_FullMethodName)
	if len(c.inferHead) > h2.DefaultFrameSize/2 {
		return nil, fmt.Errorf("gRPC metadata of %d bytes: too large for one HEADERS frame", len(c.inferHead))
	}
	return c, nil
}

// grpcMetadata checks and renders the options' headers as gRPC metadata:
// lower-case keys, values of "-bin" keys in base64, no reserved names. A
// Host header is not metadata: it is returned apart, as the :authority
// it stands for.
func grpcMetadata(headers map[string]string) (md []transport.HeaderField, host string, err error) {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		key, v := strings.ToLower(k), headers[k]
		if key == "host" {
			if !transport.ValidHeader(key, v) || v == "" {
				return nil, "", fmt.Errorf("header Host %q: not a valid authority", v)
			}
			host = v
			continue
		}
		if strings.HasSuffix(key, "-bin") {
			v = base64.RawStdEncoding.EncodeToString([]byte(v))
		}
		switch {
		case !transport.ValidHeader(key, v) || strings.HasPrefix(key, ":"):
			return nil, "", fmt.Errorf("metadata %q: not a valid gRPC metadata key and value", k)
		case strings.HasPrefix(key, "grpc-") || key == "content-type" || key == "te" || key == "user-agent":
			return nil, "", fmt.Errorf("metadata %q is reserved to the client", k)
		}
		md = append(md, transport.HeaderField{Name: key, Value: v})
	}
	return md, host, nil
}

// compressionMetadata is the metadata of compression: the codings the
// client decodes, as gRPC's C core (Triton's clients, perf_analyzer)
// offers them, and the coding of its messages, if any.
func compressionMetadata(enc compress.Encoding) []transport.HeaderField {
	md := []transport.HeaderField{{Name: "grpc-accept-encoding", Value: "identity,deflate,gzip"}}
	if enc != compress.None {
		md = append(md, transport.HeaderField{Name: "grpc-encoding", Value: enc.String()})
	}
	return md
}

// headerBlock renders the HPACK block of a call to method, but for its
// grpc-timeout, appended per call.
func (c *grpcClient) headerBlock(method string) []byte {
	return h2.HeaderBlock(method, c.authority, c.metadata)
}

func (c *grpcClient) Kind() Kind { return KServeGRPC }

func (c *grpcClient) Close() error {
	for i := range c.slots {
		s := &c.slots[i]
		s.mu.Lock()
		if conn := s.conn.Swap(nil); conn != nil {
			conn.Close()
		}
		s.mu.Unlock()
	}
	return nil
}

// conn returns the next slot's connection, dialling a new one when it has
// none or its connection failed or is going away.
func (c *grpcClient) conn(ctx context.Context, deadline time.Time) (*h2.Conn, error) {
	s := &c.slots[c.next.Add(1)%uint64(len(c.slots))]
	if conn := s.conn.Load(); conn != nil && conn.Usable() {
		return conn, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if conn := s.conn.Load(); conn != nil && conn.Usable() {
		return conn, nil
	}
	conn, err := h2.Dial(ctx, &c.dialer, deadline, c.opts.MaxResponseSize)
	if err != nil {
		return nil, err
	}
	if old := s.conn.Swap(conn); old != nil {
		old.CloseWhenIdle()
	}
	return conn, nil
}

// grpcCall is the state of one caller: a stream, a timer and a header
// block, all reused.
type grpcCall struct {
	c     *grpcClient
	s     *h2.Stream
	timer *time.Timer
	block []byte
	watch transport.AbortWatch
}

func (c *grpcClient) newCall() *grpcCall {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	return &grpcCall{c: c, s: h2.NewStream(), timer: timer}
}

// do runs one unary call of the rendered head (a method's header block)
// with a length-prefixed message, and returns the answer's message, which
// lives in the stream's buffer until the next call. op names the call in
// errors. A call refused before the server processed it (GOAWAY,
// REFUSED_STREAM) is sent once more, on a new connection if need be.
func (g *grpcCall) do(ctx context.Context, op string, head, frame []byte) ([]byte, error) {
	timeout := g.c.opts.Timeout
	deadline, ctxFirst := transport.Deadline(ctx, timeout)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	g.watch.Follow(ctx)
	g.timer.Reset(time.Until(deadline))
	defer g.timer.Stop()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var conn *h2.Conn
		if conn, err = g.c.conn(ctx, deadline); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			return nil, &transport.Error{Op: op, Err: err} // refused, unreachable, a connect timeout
		}
		g.block = h2.AppendTimeout(append(g.block[:0], head...), time.Until(deadline))
		if err = conn.Call(ctx, g.s, g.block, frame, deadline, timeout, g.timer, &g.watch); err == nil {
			err = g.s.Err()
		}
		if !h2.IsRefused(err) {
			break
		}
	}
	if err == nil || g.s.NotGRPC() && ctx.Err() == nil {
		// An answer that is not gRPC (a proxy's status) is reported as it
		// is, however its stream ended: reset, closed, or not in time.
		msg, err := answer(g.s)
		overLimit(err) // a compressed message that decodes past the limit
		return msg, err
	}
	var reset *h2.StreamReset
	if ctx.Err() == nil && errors.As(err, &reset) {
		// A server that enforces the call's grpc-timeout resets the stream
		// with CANCEL when it expires (grpc-go's does); its deadline is the
		// client's or later, so a CANCEL at or after ours is the timeout,
		// whichever timer fired first on a busy machine.
		if reset.Code == h2.Cancel && !time.Now().Before(deadline) {
			return nil, transport.Wrap(ctx, op, context.DeadlineExceeded, ctxFirst, timeout)
		}
		return nil, &ServerError{GRPCCode: resetCode(reset), Message: reset.Error()}
	}
	overLimit(err)
	return nil, transport.Wrap(ctx, op, err, ctxFirst, timeout)
}

// answer returns the message of a stream that ended, or the status it
// ended with as a ServerError.
func answer(s *h2.Stream) ([]byte, error) {
	switch {
	case s.NotGRPC():
		return nil, notGRPC(s.HTTPStatus(), s.ContentType(), s.Body())
	case s.GRPCStatus() < 0:
		return nil, &ServerError{GRPCCode: codes.Internal, Message: "the server ended the call without a grpc-status"}
	case s.GRPCStatus() != 0:
		return nil, &ServerError{GRPCCode: codes.Code(s.GRPCStatus()), Message: decodeGRPCMessage(s.GRPCMessage())}
	}
	return s.Message()
}

// notGRPC words an answer to a gRPC call that is not gRPC: an HTTP status
// other than 200 (an ingress's 413 for a request over its body limit, a
// gateway's 502 or 503) is an http_status with the page's first line; a
// 200 of another content type (an HTML page) a malformed response naming
// it. grpc-go reports both as "unexpected HTTP status code" or "content-type".
func notGRPC(status int, contentType string, body []byte) error {
	if status != http.StatusOK {
		return &ServerError{HTTPStatus: status, Proxy: true, Message: pageLine(status, body)}
	}
	line := pageLine(0, body)
	if line != "" {
		line = ": " + line
	}
	return &MalformedResponseError{Err: fmt.Errorf("the server answered HTTP 200 with content-type %q, not application/grpc (a proxy's page?)%s", contentType, line)}
}

// pageLine is what a page says in one line: an HTML page's title (its
// status number left out: "Request Entity Too Large"), else its first
// line that is not blank, else the status's text.
func pageLine(status int, body []byte) string {
	text := string(body)
	if i := strings.Index(strings.ToLower(text), "<title>"); i >= 0 {
		title := text[i+len("<title>"):]
		if j := strings.Index(strings.ToLower(title), "</title>"); j >= 0 {
			title = strings.TrimSpace(title[:j])
			title = strings.TrimSpace(strings.TrimPrefix(title, strconv.Itoa(status)+" "))
			if title != "" {
				return title
			}
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(text), "<") {
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				return line[:min(len(line), 200)]
			}
		}
	}
	if status == 0 {
		return ""
	}
	return http.StatusText(status)
}

// resetCode maps a stream's end without status to a gRPC code, as grpc-go
// does for RST_STREAM's error codes.
func resetCode(r *h2.StreamReset) codes.Code {
	switch r.Code {
	case h2.RefusedStream:
		return codes.Unavailable
	case h2.Cancel:
		return codes.Canceled
	case h2.FlowControl, h2.EnhanceYourCalm:
		return codes.ResourceExhausted
	}
	return codes.Internal
}

// decodeGRPCMessage undoes grpc-message's percent-encoding.
func decodeGRPCMessage(msg string) string {
	if !strings.Contains(msg, "%") {
		return msg
	}
	if s, err := url.PathUnescape(msg); err == nil {
		return s
	}
	return msg
}

// invoke runs a call of the control plane (health, metadata, statistics):
// proto messages, allocations allowed.
func (c *grpcClient) invoke(ctx context.Context, method string, req, reply proto.Message) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	g := c.newCall()
	defer g.watch.Release()
	op := method[strings.LastIndexByte(method, '/')+1:]
	msg, err := g.do(ctx, op, c.headerBlock(method), h2.FrameMessage(b))
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(msg, reply); err != nil {
		return &MalformedResponseError{Err: fmt.Errorf("%s: %w", op, err)}
	}
	return nil
}

func (c *grpcClient) ServerLive(ctx context.Context) (bool, error) {
	var r pb.ServerLiveResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ServerLive_FullMethodName, &pb.ServerLiveRequest{}, &r); err != nil {
		return false, err
	}
	return r.GetLive(), nil
}

func (c *grpcClient) ServerReady(ctx context.Context) (bool, error) {
	var r pb.ServerReadyResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ServerReady_FullMethodName, &pb.ServerReadyRequest{}, &r); err != nil {
		return false, err
	}
	return r.GetReady(), nil
}

func (c *grpcClient) ModelReady(ctx context.Context, model, version string) (bool, error) {
	var r pb.ModelReadyResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ModelReady_FullMethodName, &pb.ModelReadyRequest{Name: model, Version: version}, &r); err != nil {
		return false, err
	}
	return r.GetReady(), nil
}

func (c *grpcClient) ServerMetadata(ctx context.Context) (*kserve.ServerMetadata, error) {
	var r pb.ServerMetadataResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ServerMetadata_FullMethodName, &pb.ServerMetadataRequest{}, &r); err != nil {
		return nil, err
	}
	return &kserve.ServerMetadata{Name: r.GetName(), Version: r.GetVersion(), Extensions: r.GetExtensions()}, nil
}

func tensorMetadata(ts []*pb.ModelMetadataResponse_TensorMetadata) []kserve.TensorMetadata {
	out := make([]kserve.TensorMetadata, len(ts))
	for i, t := range ts {
		out[i] = kserve.TensorMetadata{Name: t.GetName(), Datatype: kserve.DataType(t.GetDatatype()), Shape: t.GetShape()}
	}
	return out
}

func (c *grpcClient) ModelMetadata(ctx context.Context, model, version string) (*kserve.ModelMetadata, error) {
	var r pb.ModelMetadataResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ModelMetadata_FullMethodName, &pb.ModelMetadataRequest{Name: model, Version: version}, &r); err != nil {
		return nil, err
	}
	return &kserve.ModelMetadata{
		Name: r.GetName(), Versions: r.GetVersions(), Platform: r.GetPlatform(),
		Inputs: tensorMetadata(r.GetInputs()), Outputs: tensorMetadata(r.GetOutputs()),
	}, nil
}

func (c *grpcClient) ModelConfig(ctx context.Context, model, version string) (*pb.ModelConfig, error) {
	var r pb.ModelConfigResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ModelConfig_FullMethodName, &pb.ModelConfigRequest{Name: model, Version: version}, &r); err != nil {
		return nil, err
	}
	return r.GetConfig(), nil
}

func (c *grpcClient) ModelStatistics(ctx context.Context, model, version string) (*pb.ModelStatisticsResponse, error) {
	var r pb.ModelStatisticsResponse
	if err := c.invoke(ctx, pb.GRPCInferenceService_ModelStatistics_FullMethodName, &pb.ModelStatisticsRequest{Name: model, Version: version}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// grpcPayload is a ModelInferRequest encoded and length-prefixed once,
// for either gRPC transport: the fast one sends frame (compressed, when
// the options say), grpc-go the message after its prefix (msg, made once
// so that a call allocates none; uncompressed, as grpc-go compresses it).
type grpcPayload struct {
	frame []byte
	msg   mem.BufferSlice
}

// Size is the encoded message's length, as sent: compressed, if it is.
func (p *grpcPayload) Size() int { return len(p.frame) - h2.PrefixLen }

// Prepare encodes the ModelInferRequest once; calls send these bytes.
func (c *grpcClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	p, err := prepareGRPC(model, version, req, c.encoding, false)
	if err != nil {
		return nil, err // not a nil *grpcPayload in a Payload
	}
	return p, nil
}

// prepareGRPC encodes a ModelInferRequest once, for either transport: in
// enc for the fast one (the frame), and uncompressed too (msg) when plain
// is set, for grpc-go, which compresses it itself. Size is the compressed
// length either way: grpc-go's gzip, at the default level, is ours.
func prepareGRPC(model, version string, req *kserve.InferRequest, enc compress.Encoding, plain bool) (*grpcPayload, error) {
	for i := range req.Inputs {
		if req.Inputs[i].InSharedMemory() {
			continue // its data is in a region, not in the message
		}
		if err := req.Inputs[i].Check(); err != nil {
			return nil, err
		}
	}
	msg, err := proto.Marshal(kserve.RequestToProto(model, version, req))
	if err != nil {
		return nil, fmt.Errorf("encoding the ModelInferRequest: %w", err)
	}
	b, err := compress.Compress(enc, msg)
	if err != nil {
		return nil, fmt.Errorf("compressing the ModelInferRequest (%s): %w", enc, err)
	}
	if uint64(len(b)) > math.MaxUint32 { // proto refuses 2 GiB first; the prefix holds 4
		return nil, fmt.Errorf("the ModelInferRequest of %d bytes exceeds gRPC's 4 GiB message", len(b))
	}
	frame := h2.FrameMessage(b)
	p := &grpcPayload{frame: frame, msg: mem.BufferSlice{mem.SliceBuffer(frame[h2.PrefixLen:])}}
	if enc != compress.None {
		frame[0] = 1 // the compressed flag: the message is in the grpc-encoding
		p.msg = nil
		if plain {
			p.msg = mem.BufferSlice{mem.SliceBuffer(msg)}
		}
	}
	return p, nil
}

// grpcPayloadOf checks that p was prepared by a gRPC client.
func grpcPayloadOf(p Payload) (*grpcPayload, error) {
	gp, ok := p.(*grpcPayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by a gRPC client", p)
	}
	return gp, nil
}

const inferOp = "ModelInfer"

func (c *grpcClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	gp, err := grpcPayloadOf(p)
	if err != nil {
		return nil, err
	}
	g := c.newCall()
	defer g.watch.Release()
	msg, err := g.do(ctx, inferOp, c.inferHead, gp.frame)
	if err != nil {
		return nil, err
	}
	var r pb.ModelInferResponse
	if err := proto.Unmarshal(msg, &r); err != nil {
		return nil, &MalformedResponseError{Err: fmt.Errorf("ModelInferResponse: %w", err)}
	}
	fromProto := kserve.ResponseFromProto
	if c.opts.SharedMemory == SharedMemorySystem { // outputs in regions come without data
		fromProto = kserve.ResponseFromProtoSHM
	}
	resp, err := fromProto(&r)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

// grpcCaller is one worker's hot path over gRPC.
type grpcCaller struct {
	call  *grpcCall
	check *Checker
}

func (c *grpcClient) NewCaller(check *Checker) Caller {
	return &grpcCaller{call: c.newCall(), check: check}
}

func (gc *grpcCaller) Call(ctx context.Context, p Payload) Outcome {
	gp, err := grpcPayloadOf(p)
	if err != nil {
		return Outcome{Err: err}
	}
	g := gc.call
	msg, err := g.do(ctx, inferOp, g.c.inferHead, gp.frame)
	out := Outcome{RequestBytes: gp.Size(), ResponseBytes: g.s.Received()}
	if err == nil {
		err = gc.check.protoMsg(msg)
	}
	out.Err = err
	return out
}

func (gc *grpcCaller) Close() error {
	gc.call.watch.Release()
	return nil
}

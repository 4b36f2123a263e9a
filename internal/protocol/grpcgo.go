package protocol

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// grpcGoClient speaks KServe v2 gRPC as grpcClient does, on grpc-go
// (GRPCTransportGo): the transport everyone else's Go clients use, to
// compare ours with or to fall back on. It sends the same prepared
// request bytes (a raw codec passes them through) and checks answers in
// place with the same Checker; grpc-go itself still allocates about 90
// objects a call. Calls are spread round robin over Options.Connections
// ClientConns.
type grpcGoClient struct {
	opts  Options
	md    metadata.MD // the options' headers; nil when none
	conns []*grpc.ClientConn
	next  atomic.Uint64
}

// goBackoff paces grpc-go's reconnections after a failure: short, as our
// own transport redials at the next call, so that a server back after a
// restart is reached within a second rather than grpc-go's two minutes.
var goBackoff = backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}

func newGRPCGoClient(opts Options) (*grpcGoClient, error) {
	// The same address forms, metadata checks, :authority (--authority,
	// else a Host header) and TLS configuration as the fast transport's.
	target, withTLS, err := grpcTarget(opts)
	if err != nil {
		return nil, err
	}
	_, host, err := grpcMetadata(opts.Headers)
	if err != nil {
		return nil, err
	}
	if opts.Authority == "" {
		opts.Authority = host
	}
	var md metadata.MD
	for k, v := range opts.Headers {
		if strings.EqualFold(k, "host") {
			continue // the :authority
		}
		if md == nil {
			md = metadata.MD{}
		}
		md.Append(strings.ToLower(k), v) // grpc-go encodes -bin values itself
	}
	var tlsConfig *tls.Config
	if withTLS {
		name := opts.Authority
		if name == "" {
			name = target
		}
		tlsConfig = clientTLS(opts.TLS, hostOf(name), alpnH2)
	}
	opts.TLS = tlsConfig
	creds := insecure.NewCredentials()
	if tlsConfig != nil {
		creds = credentials.NewTLS(tlsConfig) // clones it, and offers ALPN h2
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent("inferbench"),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: goBackoff, MinConnectTimeout: opts.ConnectTimeout}),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(opts.MaxResponseSize)),
	}
	if opts.Authority != "" {
		dial = append(dial, grpc.WithAuthority(opts.Authority))
	}
	switch opts.Compression {
	case "":
	case gzip.Name:
		dial = append(dial, grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
	default:
		return nil, fmt.Errorf("compression %q: grpc-go compresses with gzip only (the fast transport does deflate too)", opts.Compression)
	}
	c := &grpcGoClient{opts: opts, md: md}
	for range opts.Connections {
		// passthrough: the address is dialled as given, as the fast
		// transport does, without grpc-go's DNS resolver.
		cc, err := grpc.NewClient("passthrough:///"+target, dial...)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("server address %q: %w", opts.URL, err)
		}
		c.conns = append(c.conns, cc)
	}
	return c, nil
}

func (c *grpcGoClient) Kind() Kind { return KServeGRPC }

func (c *grpcGoClient) Close() error {
	for _, cc := range c.conns {
		cc.Close()
	}
	return nil
}

// invoke runs one unary call on the next connection under the call's
// deadline (the options' Timeout, or ctx's if earlier), with the options'
// metadata; op names the call in errors.
func (c *grpcGoClient) invoke(ctx context.Context, op, method string, req, reply any) error {
	timeout := c.opts.Timeout
	deadline, ctxFirst := transport.Deadline(ctx, timeout)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	callCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if c.md != nil {
		callCtx = metadata.NewOutgoingContext(callCtx, c.md)
	}
	cc := c.conns[c.next.Add(1)%uint64(len(c.conns))]
	err := cc.Invoke(callCtx, method, req, reply)
	if err == nil {
		return nil
	}
	return c.callError(ctx, op, err, deadline, ctxFirst)
}

// callError words a failed grpc-go call as the fast transport words the
// same failure, so that both count it in the same class: the context's
// end, a timeout, a response over the limit, or the status (a transport
// failure is a status too, UNAVAILABLE with grpc-go's words, which
// Classify reads).
func (c *grpcGoClient) callError(ctx context.Context, op string, err error, deadline time.Time, ctxFirst bool) error {
	timeout := c.opts.Timeout
	st, _ := status.FromError(err)
	expired := !time.Now().Before(deadline)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, ctx.Err())
	case st.Code() == codes.DeadlineExceeded && expired,
		// A server that enforces grpc-timeout may reset the stream with
		// CANCEL as it expires, which grpc-go reports as CANCELED.
		st.Code() == codes.Canceled && expired:
		if ctxFirst {
			return fmt.Errorf("%s: %w", op, context.DeadlineExceeded)
		}
		return &transport.TimeoutError{Op: op, After: timeout}
	case st.Code() == codes.ResourceExhausted:
		if err := c.overLimit(st.Message()); err != nil {
			return err
		}
	}
	if err := goNotGRPC(st.Message()); err != nil {
		return err
	}
	msg := st.Message()
	if c.opts.TLS == nil && strings.Contains(msg, "error reading server preface") {
		msg += " (a TLS port? this connection is plain-text h2c)"
	}
	return &ServerError{GRPCCode: st.Code(), Message: msg}
}

// overLimit reads grpc-go's own refusal of a response over
// MaxCallRecvMsgSize (the client's limit, as opposed to a server's
// refusal of the request, worded alike but naming the server's limit) as
// the fast transport's MalformedResponseError; nil for anything else.
func (c *grpcGoClient) overLimit(msg string) error {
	limit := int64(c.opts.MaxResponseSize)
	var size, max int64
	switch {
	case strings.HasPrefix(msg, "grpc: received message larger than max ("):
		if _, err := fmt.Sscanf(msg, "grpc: received message larger than max (%d vs. %d)", &size, &max); err != nil || max != limit {
			return nil
		}
	case strings.HasPrefix(msg, "grpc: message after decompression larger than max ("):
		if _, err := fmt.Sscanf(msg, "grpc: message after decompression larger than max (%d vs. %d)", &size, &max); err != nil || max != limit {
			return nil
		}
	case msg == fmt.Sprintf("grpc: received message after decompression larger than max %d", limit):
		size = -1
	default:
		return nil
	}
	err := transport.OverResponseLimit("response message", size, limit)
	overLimit(err)
	return err
}

// rawCodec is the grpc-go codec of both clients' messages: a prepared
// request (*grpcPayload) goes out as its bytes, an answer into a goRecv is
// checked or copied where it lies, and the control plane's typed messages
// are marshalled as protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *grpcPayload:
		return m.msg, nil // SliceBuffer: gRPC's Free of it is a no-op
	case proto.Message:
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return nil, fmt.Errorf("rawCodec cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *goRecv:
		m.receive(data)
		return nil
	case proto.Message:
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		defer buf.Free()
		return proto.Unmarshal(buf.ReadOnlyData(), m)
	}
	return fmt.Errorf("rawCodec cannot unmarshal into %T", v)
}

// goRecv receives a ModelInferResponse: checked in place by check (the
// hot path) or, with keep, copied whole for a full decode. grpc-go frees
// the message's buffers when Unmarshal returns, so nothing of them is
// kept; a message in several buffers is first copied into buf, which is
// reused from call to call.
type goRecv struct {
	check *Checker
	keep  bool
	buf   []byte
	n     int   // the message's length
	err   error // the check's verdict
}

func (r *goRecv) receive(data mem.BufferSlice) {
	r.n = data.Len()
	var msg []byte
	switch {
	case len(data) == 1 && !r.keep:
		msg = data[0].ReadOnlyData()
	default:
		if cap(r.buf) < r.n {
			r.buf = make([]byte, r.n)
		}
		r.buf = r.buf[:r.n]
		data.CopyTo(r.buf)
		msg = r.buf
	}
	if !r.keep {
		r.err = r.check.protoMsg(msg) // it keeps nothing of msg
	}
}

func (c *grpcGoClient) ServerLive(ctx context.Context) (bool, error) {
	var r pb.ServerLiveResponse
	if err := c.invoke(ctx, "ServerLive", pb.GRPCInferenceService_ServerLive_FullMethodName, &pb.ServerLiveRequest{}, &r); err != nil {
		return false, err
	}
	return r.GetLive(), nil
}

func (c *grpcGoClient) ServerReady(ctx context.Context) (bool, error) {
	var r pb.ServerReadyResponse
	if err := c.invoke(ctx, "ServerReady", pb.GRPCInferenceService_ServerReady_FullMethodName, &pb.ServerReadyRequest{}, &r); err != nil {
		return false, err
	}
	return r.GetReady(), nil
}

func (c *grpcGoClient) ModelReady(ctx context.Context, model, version string) (bool, error) {
	var r pb.ModelReadyResponse
	if err := c.invoke(ctx, "ModelReady", pb.GRPCInferenceService_ModelReady_FullMethodName, &pb.ModelReadyRequest{Name: model, Version: version}, &r); err != nil {
		return false, err
	}
	return r.GetReady(), nil
}

func (c *grpcGoClient) ServerMetadata(ctx context.Context) (*kserve.ServerMetadata, error) {
	var r pb.ServerMetadataResponse
	if err := c.invoke(ctx, "ServerMetadata", pb.GRPCInferenceService_ServerMetadata_FullMethodName, &pb.ServerMetadataRequest{}, &r); err != nil {
		return nil, err
	}
	return &kserve.ServerMetadata{Name: r.GetName(), Version: r.GetVersion(), Extensions: r.GetExtensions()}, nil
}

func (c *grpcGoClient) ModelMetadata(ctx context.Context, model, version string) (*kserve.ModelMetadata, error) {
	var r pb.ModelMetadataResponse
	if err := c.invoke(ctx, "ModelMetadata", pb.GRPCInferenceService_ModelMetadata_FullMethodName, &pb.ModelMetadataRequest{Name: model, Version: version}, &r); err != nil {
		return nil, err
	}
	return &kserve.ModelMetadata{
		Name: r.GetName(), Versions: r.GetVersions(), Platform: r.GetPlatform(),
		Inputs: tensorMetadata(r.GetInputs()), Outputs: tensorMetadata(r.GetOutputs()),
	}, nil
}

func (c *grpcGoClient) ModelConfig(ctx context.Context, model, version string) (*pb.ModelConfig, error) {
	var r pb.ModelConfigResponse
	if err := c.invoke(ctx, "ModelConfig", pb.GRPCInferenceService_ModelConfig_FullMethodName, &pb.ModelConfigRequest{Name: model, Version: version}, &r); err != nil {
		return nil, err
	}
	return r.GetConfig(), nil
}

func (c *grpcGoClient) ModelStatistics(ctx context.Context, model, version string) (*pb.ModelStatisticsResponse, error) {
	var r pb.ModelStatisticsResponse
	if err := c.invoke(ctx, "ModelStatistics", pb.GRPCInferenceService_ModelStatistics_FullMethodName, &pb.ModelStatisticsRequest{Name: model, Version: version}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Prepare encodes the ModelInferRequest once, as the fast transport does.
func (c *grpcGoClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	p, err := prepareGRPC(model, version, req, compress.OfString(c.opts.Compression), true)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (c *grpcGoClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	gp, err := grpcPayloadOf(p)
	if err != nil {
		return nil, err
	}
	r := goRecv{keep: true}
	if err := c.invoke(ctx, inferOp, pb.GRPCInferenceService_ModelInfer_FullMethodName, gp, &r); err != nil {
		return nil, err
	}
	var msg pb.ModelInferResponse
	if err := proto.Unmarshal(r.buf, &msg); err != nil {
		return nil, &MalformedResponseError{Err: fmt.Errorf("ModelInferResponse: %w", err)}
	}
	fromProto := kserve.ResponseFromProto
	if c.opts.SharedMemory == SharedMemorySystem { // outputs in regions come without data
		fromProto = kserve.ResponseFromProtoSHM
	}
	resp, err := fromProto(&msg)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

// grpcGoCaller is one worker's hot path over grpc-go.
type grpcGoCaller struct {
	c    *grpcGoClient
	recv goRecv
}

func (c *grpcGoClient) NewCaller(check *Checker) Caller {
	return &grpcGoCaller{c: c, recv: goRecv{check: check}}
}

func (gc *grpcGoCaller) Call(ctx context.Context, p Payload) Outcome {
	gp, err := grpcPayloadOf(p)
	if err != nil {
		return Outcome{Err: err}
	}
	r := &gc.recv
	r.n, r.err = 0, nil
	err = gc.c.invoke(ctx, inferOp, pb.GRPCInferenceService_ModelInfer_FullMethodName, gp, r)
	if err == nil {
		err = r.err
	}
	return Outcome{Err: err, RequestBytes: gp.Size(), ResponseBytes: r.n}
}

func (gc *grpcGoCaller) Close() error { return nil }

// goNotGRPC reads grpc-go's words for an answer that is not gRPC ("unexpected
// HTTP status code received from server: 413 (Request Entity Too Large);
// transport: received unexpected content-type \"text/html\"") as the fast
// transport reports it (notGRPC): a proxy's http_status, or a malformed
// 200 naming its content type. grpc-go keeps no body: the status's text
// stands for the page's first line. nil for any other message.
func goNotGRPC(msg string) error {
	const statusWords, typeWords = "unexpected HTTP status code received from server: ", "transport: received unexpected content-type "
	if rest, ok := strings.CutPrefix(msg, statusWords); ok {
		var code int
		if _, err := fmt.Sscanf(rest, "%d", &code); err == nil && code != http.StatusOK {
			return notGRPC(code, "", nil)
		}
	}
	if i := strings.Index(msg, typeWords); i >= 0 {
		ct := msg[i+len(typeWords):] // "text/html"\ndata: "<html>..."
		if q, err := strconv.QuotedPrefix(ct); err == nil {
			ct, _ = strconv.Unquote(q)
		}
		return notGRPC(http.StatusOK, ct, nil)
	}
	return nil
}

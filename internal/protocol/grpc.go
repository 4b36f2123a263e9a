package protocol

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// DefaultConnections is the default number of gRPC connections (HTTP/2
// channels) inference calls are spread over; bench/README.md has the
// measurements behind it.
const DefaultConnections = 1

// grpcClient speaks KServe v2 gRPC (inference.GRPCInferenceService),
// sending inputs as raw_input_contents like Triton's own clients and
// accepting raw or typed outputs. Inference calls are spread over
// Options.Connections connections, round robin.
type grpcClient struct {
	opts  Options
	conns []*grpc.ClientConn
	next  atomic.Uint64
	api   pb.GRPCInferenceServiceClient // on the first connection
	md    metadata.MD
}

func newGRPCClient(opts Options) (*grpcClient, error) {
	target := strings.TrimPrefix(opts.URL, "grpc://")
	if target == "" {
		return nil, fmt.Errorf("no server address")
	}
	if strings.Contains(target, "://") {
		return nil, fmt.Errorf("server address %q: use host:port or grpc://host:port", opts.URL)
	}
	c := &grpcClient{opts: opts}
	for range opts.Connections {
		conn, err := grpc.NewClient(target,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: opts.ConnectTimeout}),
			grpc.WithDefaultCallOptions(
				grpc.MaxCallRecvMsgSize(opts.MaxMessageSize),
				grpc.MaxCallSendMsgSize(opts.MaxMessageSize),
				grpc.ForceCodecV2(newRawCodec()),
			),
		)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("gRPC client for %s: %w", target, err)
		}
		c.conns = append(c.conns, conn)
	}
	c.api = pb.NewGRPCInferenceServiceClient(c.conns[0])
	if len(opts.Headers) > 0 {
		c.md = metadata.New(opts.Headers)
	}
	return c, nil
}

// pick returns the connection for the next inference call.
func (c *grpcClient) pick() *grpc.ClientConn {
	return c.conns[c.next.Add(1)%uint64(len(c.conns))]
}

func (c *grpcClient) Kind() Kind { return KServeGRPC }

func (c *grpcClient) Close() error {
	var errs []error
	for _, conn := range c.conns {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}

// call prepares a call's context: the deadline and the metadata.
func (c *grpcClient) call(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := withTimeout(ctx, c.opts.Timeout)
	if c.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, c.md)
	}
	return ctx, cancel
}

// grpcErr turns a gRPC status into a ServerError; transport failures
// (UNAVAILABLE while connecting, DEADLINE_EXCEEDED) keep their status so
// that callers can classify them.
func grpcErr(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &ServerError{GRPCCode: st.Code(), Message: st.Message()}
}

func (c *grpcClient) ServerLive(ctx context.Context) (bool, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ServerLive(ctx, &pb.ServerLiveRequest{})
	if err != nil {
		return false, grpcErr(err)
	}
	return r.GetLive(), nil
}

func (c *grpcClient) ServerReady(ctx context.Context) (bool, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ServerReady(ctx, &pb.ServerReadyRequest{})
	if err != nil {
		return false, grpcErr(err)
	}
	return r.GetReady(), nil
}

func (c *grpcClient) ModelReady(ctx context.Context, model, version string) (bool, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ModelReady(ctx, &pb.ModelReadyRequest{Name: model, Version: version})
	if err != nil {
		return false, grpcErr(err)
	}
	return r.GetReady(), nil
}

func (c *grpcClient) ServerMetadata(ctx context.Context) (*kserve.ServerMetadata, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ServerMetadata(ctx, &pb.ServerMetadataRequest{})
	if err != nil {
		return nil, grpcErr(err)
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
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: model, Version: version})
	if err != nil {
		return nil, grpcErr(err)
	}
	return &kserve.ModelMetadata{
		Name: r.GetName(), Versions: r.GetVersions(), Platform: r.GetPlatform(),
		Inputs: tensorMetadata(r.GetInputs()), Outputs: tensorMetadata(r.GetOutputs()),
	}, nil
}

func (c *grpcClient) ModelConfig(ctx context.Context, model, version string) (*pb.ModelConfig, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ModelConfig(ctx, &pb.ModelConfigRequest{Name: model, Version: version})
	if err != nil {
		return nil, grpcErr(err)
	}
	return r.GetConfig(), nil
}

func (c *grpcClient) ModelStatistics(ctx context.Context, model, version string) (*pb.ModelStatisticsResponse, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ModelStatistics(ctx, &pb.ModelStatisticsRequest{Name: model, Version: version})
	if err != nil {
		return nil, grpcErr(err)
	}
	return r, nil
}

// grpcPayload is a request message encoded once.
type grpcPayload struct {
	wire *encodedRequest
}

func (p *grpcPayload) Size() int { return p.wire.size }

// Prepare encodes the ModelInferRequest once; calls send these bytes.
func (c *grpcClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	for i := range req.Inputs {
		if err := req.Inputs[i].Check(); err != nil {
			return nil, err
		}
	}
	b, err := proto.Marshal(kserve.RequestToProto(model, version, req))
	if err != nil {
		return nil, fmt.Errorf("encoding the ModelInferRequest: %w", err)
	}
	return &grpcPayload{wire: newEncodedRequest(b)}, nil
}

// grpcPayloadOf checks that p was prepared by a gRPC client.
func grpcPayloadOf(p Payload) (*grpcPayload, error) {
	gp, ok := p.(*grpcPayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by a gRPC client", p)
	}
	return gp, nil
}

func (c *grpcClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	gp, err := grpcPayloadOf(p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	var r pb.ModelInferResponse
	if err := c.pick().Invoke(ctx, pb.GRPCInferenceService_ModelInfer_FullMethodName, gp.wire, &r); err != nil {
		return nil, grpcErr(err)
	}
	resp, err := kserve.ResponseFromProto(&r)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

// grpcCaller is one worker's hot path over gRPC.
type grpcCaller struct {
	c     *grpcClient
	reply checkedReply
}

func (c *grpcClient) NewCaller(check *Checker) Caller {
	return &grpcCaller{c: c, reply: checkedReply{check: check}}
}

func (gc *grpcCaller) Call(ctx context.Context, p Payload) Outcome {
	gp, err := grpcPayloadOf(p)
	if err != nil {
		return Outcome{Err: err}
	}
	gc.reply.reset()
	ctx, cancel := gc.c.call(ctx)
	err = gc.c.pick().Invoke(ctx, pb.GRPCInferenceService_ModelInfer_FullMethodName, gp.wire, &gc.reply)
	cancel()
	out := Outcome{RequestBytes: gp.wire.size, ResponseBytes: gc.reply.size}
	if err != nil {
		out.Err = grpcErr(err)
	} else {
		out.Err = gc.reply.err
	}
	return out
}

func (gc *grpcCaller) Close() error { return nil }

package protocol

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// grpcClient speaks KServe v2 gRPC (inference.GRPCInferenceService),
// sending inputs as raw_input_contents like Triton's own clients and
// accepting raw or typed outputs.
type grpcClient struct {
	opts Options
	conn *grpc.ClientConn
	api  pb.GRPCInferenceServiceClient
	md   metadata.MD
}

func newGRPCClient(opts Options) (*grpcClient, error) {
	target := strings.TrimPrefix(opts.URL, "grpc://")
	if target == "" {
		return nil, fmt.Errorf("no server address")
	}
	if strings.Contains(target, "://") {
		return nil, fmt.Errorf("server address %q: use host:port or grpc://host:port", opts.URL)
	}
	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: opts.ConnectTimeout}),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(opts.MaxMessageSize),
			grpc.MaxCallSendMsgSize(opts.MaxMessageSize),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("gRPC client for %s: %w", target, err)
	}
	c := &grpcClient{opts: opts, conn: conn, api: pb.NewGRPCInferenceServiceClient(conn)}
	if len(opts.Headers) > 0 {
		c.md = metadata.New(opts.Headers)
	}
	return c, nil
}

func (c *grpcClient) Kind() Kind   { return KServeGRPC }
func (c *grpcClient) Close() error { return c.conn.Close() }

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

// grpcPayload is a request message built once.
type grpcPayload struct {
	msg  *pb.ModelInferRequest
	size int
}

func (p *grpcPayload) Size() int { return p.size }

func (c *grpcClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	for i := range req.Inputs {
		if err := req.Inputs[i].Check(); err != nil {
			return nil, err
		}
	}
	msg := kserve.RequestToProto(model, version, req)
	size := 0
	for _, raw := range msg.GetRawInputContents() {
		size += len(raw)
	}
	return &grpcPayload{msg: msg, size: size}, nil
}

func (c *grpcClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	gp, ok := p.(*grpcPayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by a gRPC client", p)
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.api.ModelInfer(ctx, gp.msg)
	if err != nil {
		return nil, grpcErr(err)
	}
	resp, err := kserve.ResponseFromProto(r)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	return resp, nil
}

package refserver

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// NewGRPCServer makes a gRPC server with the inference service, the
// standard grpc.health.v1 service (SERVING, as Triton answers when ready)
// and server reflection. Message sizes are bounded by the server's maximum
// request size, far above grpc-go's 4 MiB default so that YOLO-sized
// tensors pass.
func (s *Server) NewGRPCServer() *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(s.maxBytes)),
		grpc.MaxSendMsgSize(int(s.maxBytes)),
	}
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls.Clone()))) // ALPN h2, added by credentials
	}
	g := grpc.NewServer(opts...)
	pb.RegisterGRPCInferenceServiceServer(g, &grpcService{s: s})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(pb.GRPCInferenceService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	reflection.Register(g)
	return g
}

// grpcService implements inference.GRPCInferenceService.
type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

// grpcError turns an error into Triton's gRPC status.
func grpcError(err error) error {
	var ke *kserve.Error
	if errors.As(err, &ke) {
		return status.Error(ke.Code.GRPCCode(), ke.Msg)
	}
	return status.Error(kserve.CodeInternal.GRPCCode(), err.Error())
}

func (g *grpcService) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: true}, nil
}

func (g *grpcService) ModelReady(_ context.Context, r *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	if _, err := g.s.lookup(r.GetName(), r.GetVersion()); err != nil {
		return nil, grpcError(err)
	}
	return &pb.ModelReadyResponse{Ready: true}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	md := g.s.metadata()
	return &pb.ServerMetadataResponse{Name: md.Name, Version: md.Version, Extensions: md.Extensions}, nil
}

func (g *grpcService) ModelMetadata(_ context.Context, r *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	m, err := g.s.lookup(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	md := m.metadata()
	resp := &pb.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform}
	for _, t := range md.Inputs {
		resp.Inputs = append(resp.Inputs, &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: string(t.Datatype), Shape: t.Shape})
	}
	for _, t := range md.Outputs {
		resp.Outputs = append(resp.Outputs, &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: string(t.Datatype), Shape: t.Shape})
	}
	return resp, nil
}

func (g *grpcService) ModelConfig(_ context.Context, r *pb.ModelConfigRequest) (*pb.ModelConfigResponse, error) {
	m, err := g.s.lookup(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.ModelConfigResponse{Config: m.config()}, nil
}

func (g *grpcService) ModelStatistics(_ context.Context, r *pb.ModelStatisticsRequest) (*pb.ModelStatisticsResponse, error) {
	resp, err := g.s.statistics(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	return resp, nil
}

func (g *grpcService) infer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	req, err := kserve.RequestFromProto(r)
	if err != nil {
		return nil, err
	}
	var shmOut map[string]kserve.SharedMemoryRef
	if usesSHM(req) {
		g.s.shm.mu.RLock() // no region is unmapped until the outputs are written
		defer g.s.shm.mu.RUnlock()
		if err := g.s.shm.readInputs(r.GetModelName(), req); err != nil {
			return nil, err
		}
		if shmOut, err = g.s.shm.outputRefs(req); err != nil {
			return nil, err
		}
	}
	resp, drop, err := g.s.infer(ctx, r.GetModelName(), r.GetModelVersion(), req, nil)
	if err != nil {
		return nil, err
	}
	if shmOut != nil {
		if err := g.s.shm.writeOutputs(shmOut, resp); err != nil {
			return nil, err
		}
	}
	if drop {
		// The drop fault: break the transport under the call. gRPC cannot
		// send half a message, so the connection goes before the response.
		if p, ok := peer.FromContext(ctx); ok {
			g.s.grpcConns.drop(p.Addr.String())
		}
		return nil, kserve.Errorf(kserve.CodeUnavailable, "connection dropped (injected fault)")
	}
	return kserve.ResponseToProto(resp), nil
}

func (g *grpcService) ModelInfer(ctx context.Context, r *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	resp, err := g.infer(ctx, r)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The client's deadline passed while the request waited: say so,
			// as the client's own timer does, rather than CANCELLED.
			return nil, status.Error(codes.DeadlineExceeded, err.Error())
		}
		return nil, grpcError(err)
	}
	return resp, nil
}

// ModelStreamInfer serves the requests of a stream concurrently, as Triton
// does, so responses may come back out of order: clients match them by id.
// A request's error travels in-band in error_message; the stream stays OK.
func (g *grpcService) ModelStreamInfer(stream pb.GRPCInferenceService_ModelStreamInferServer) error {
	ctx := stream.Context()
	var (
		sendMu  sync.Mutex
		sendErr error
		wg      sync.WaitGroup
	)
	send := func(resp *pb.ModelStreamInferResponse) {
		sendMu.Lock()
		defer sendMu.Unlock()
		if sendErr == nil {
			sendErr = stream.Send(resp)
		}
	}
	defer wg.Wait()
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := g.infer(ctx, r)
			if err != nil {
				send(&pb.ModelStreamInferResponse{
					ErrorMessage:  err.Error(),
					InferResponse: &pb.ModelInferResponse{ModelName: r.GetModelName(), ModelVersion: r.GetModelVersion(), Id: r.GetId()},
				})
				return
			}
			send(&pb.ModelStreamInferResponse{InferResponse: resp})
		}()
	}
}

func (g *grpcService) SystemSharedMemoryStatus(_ context.Context, r *pb.SystemSharedMemoryStatusRequest) (*pb.SystemSharedMemoryStatusResponse, error) {
	st, err := g.s.shm.status(r.GetName())
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &pb.SystemSharedMemoryStatusResponse{Regions: map[string]*pb.SystemSharedMemoryStatusResponse_RegionStatus{}}
	for _, s := range st {
		resp.Regions[s.Name] = &pb.SystemSharedMemoryStatusResponse_RegionStatus{Name: s.Name, Key: s.Key, Offset: uint64(s.Offset), ByteSize: uint64(s.ByteSize)}
	}
	return resp, nil
}

func (g *grpcService) SystemSharedMemoryRegister(_ context.Context, r *pb.SystemSharedMemoryRegisterRequest) (*pb.SystemSharedMemoryRegisterResponse, error) {
	if r.GetOffset() > math.MaxInt64 || r.GetByteSize() > math.MaxInt64 {
		return nil, status.Error(codes.InvalidArgument, "offset or byte_size out of range")
	}
	if err := g.s.shm.register(r.GetName(), r.GetKey(), int64(r.GetOffset()), int64(r.GetByteSize())); err != nil {
		return nil, grpcError(err)
	}
	return &pb.SystemSharedMemoryRegisterResponse{}, nil
}

func (g *grpcService) SystemSharedMemoryUnregister(_ context.Context, r *pb.SystemSharedMemoryUnregisterRequest) (*pb.SystemSharedMemoryUnregisterResponse, error) {
	if err := g.s.shm.unregister(r.GetName()); err != nil {
		return nil, grpcError(err)
	}
	return &pb.SystemSharedMemoryUnregisterResponse{}, nil
}

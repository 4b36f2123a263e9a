package refserver_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/refserver"
)

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestGRPCMalformedRequests(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}, MaxRequestSize: 1 << 20})
	api := pb.NewGRPCInferenceServiceClient(dial(t, r.GRPCAddr))
	x := func() *pb.ModelInferRequest_InferInputTensor {
		return &pb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}}
	}
	typed := x()
	typed.Contents = &pb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}}
	tests := []struct {
		name    string
		req     *pb.ModelInferRequest
		code    codes.Code
		message string
	}{
		{"unknown model", &pb.ModelInferRequest{ModelName: "nope"}, codes.InvalidArgument, "Request for unknown model: 'nope' is not found"},
		{"unknown version", &pb.ModelInferRequest{ModelName: "tiny", ModelVersion: "9"}, codes.NotFound, "version 9"},
		{"raw and typed mixed", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{typed}, RawInputContents: [][]byte{fp32le(1, 2, 3, 4)}}, codes.InvalidArgument, "contents field must not be specified when using raw_input_contents"},
		{"raw size wrong", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{x()}, RawInputContents: [][]byte{fp32le(1, 2, 3)}}, codes.InvalidArgument, "x"},
		{"more raw contents than inputs", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{x()}, RawInputContents: [][]byte{fp32le(1, 2, 3, 4), fp32le(1)}}, codes.InvalidArgument, ""},
		{"typed in the wrong field", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}, Contents: &pb.InferTensorContents{IntContents: []int32{1, 2, 3, 4}}}}}, codes.InvalidArgument, ""},
		{"huge shape", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1 << 40, 1 << 20}}}, RawInputContents: [][]byte{fp32le(1)}}, codes.InvalidArgument, ""},
		{"message over the maximum", &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{x()}, RawInputContents: [][]byte{make([]byte, 2<<20)}}, codes.ResourceExhausted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := api.ModelInfer(ctx, tt.req)
			st, _ := status.FromError(err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.message) {
				t.Errorf("got %v %q, want %v with %q", st.Code(), st.Message(), tt.code, tt.message)
			}
		})
	}
	// Typed contents are accepted; the answer is raw, as Triton's.
	resp, err := api.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "tiny", Inputs: []*pb.ModelInferRequest_InferInputTensor{typed}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetRawOutputContents()) != 1 || len(resp.GetRawOutputContents()[0]) != 32 || resp.GetOutputs()[0].GetContents() != nil {
		t.Errorf("response not in Triton's raw form: %v", resp)
	}
	stats, err := api.ModelStatistics(context.Background(), &pb.ModelStatisticsRequest{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	if s := stats.GetModelStats()[0].GetInferenceStats(); s.GetSuccess().GetCount() != 1 || s.GetFail().GetCount() != 0 {
		t.Errorf("statistics count malformed requests: %v", s)
	}
}

func TestGRPCHealthAndStream(t *testing.T) {
	spec := tinyModel("tiny", refserver.NewInstances(4, 5*time.Millisecond))
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	conn := dial(t, r.GRPCAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, svc := range []string{"", "inference.GRPCInferenceService"} {
		h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q = %v, %v", svc, h, err)
		}
	}

	stream, err := pb.NewGRPCInferenceServiceClient(conn).ModelStreamInfer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	want := map[string]uint32{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("req-%d", i)
		data := fp32le(float32(i), 1, 2, 3)
		req := &pb.ModelInferRequest{ModelName: "tiny", Id: id,
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}}},
			RawInputContents: [][]byte{data}}
		if i == 5 {
			req.ModelName = "nope" // one bad request: its error comes in-band
		} else {
			want[id] = kserve.Fingerprint([]kserve.Tensor{{Name: "x", Data: data}})
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	inBandErrors := 0
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if resp.GetErrorMessage() != "" {
			inBandErrors++
			if resp.GetInferResponse().GetId() != "req-5" {
				t.Errorf("error for %q: %s", resp.GetInferResponse().GetId(), resp.GetErrorMessage())
			}
			continue
		}
		got, err := kserve.ResponseFromProto(resp.GetInferResponse())
		if err != nil {
			t.Fatal(err)
		}
		fp, _ := kserve.ReadFingerprint(got.Output("y"))
		if w, ok := want[got.ID]; !ok || fp != w {
			t.Errorf("response %q: fingerprint %08x, want %08x", got.ID, fp, w)
		}
		delete(want, got.ID)
	}
	if len(want) != 0 || inBandErrors != 1 {
		t.Errorf("unanswered %v, in-band errors %d (want none and 1)", want, inBandErrors)
	}
}

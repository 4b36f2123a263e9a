package kserve

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// TestSharedMemoryTensors: an input or output in a shared-memory region
// travels as its parameters alone, decodes without data, and passes the
// fast response check.
func TestSharedMemoryTensors(t *testing.T) {
	in := Tensor{Name: "x", Datatype: FP32, Shape: []int64{1, 4}}
	in.SetSharedMemory(SharedMemoryRef{Region: "r", Offset: 64, ByteSize: 16})
	req := &InferRequest{Inputs: []Tensor{in}, Outputs: []RequestedOutput{{Name: "y", Parameters: Parameters{ParamSharedMemoryRegion: "o", ParamSharedMemoryByteSize: int64(32)}}}}
	for _, binary := range []bool{false, true} {
		body, jsonLen, err := EncodeHTTPRequest(req, binary)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), `"data"`) || strings.Contains(string(body), "binary_data_size") {
			t.Errorf("binary %v: %s carries data", binary, body)
		}
		if jsonLen < 0 {
			jsonLen = len(body)
		}
		got, err := DecodeHTTPRequest(body, jsonLen)
		if err != nil {
			t.Fatal(err)
		}
		ref, ok, err := got.Inputs[0].SharedMemory()
		if err != nil || !ok || ref != (SharedMemoryRef{Region: "r", Offset: 64, ByteSize: 16}) || got.Inputs[0].Data != nil {
			t.Errorf("binary %v: decoded %+v: %+v %v %v", binary, got.Inputs[0], ref, ok, err)
		}
	}
	out := Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 8}}
	out.SetSharedMemory(SharedMemoryRef{Region: "o", ByteSize: 32})
	body, jsonLen, err := EncodeHTTPResponse(&InferResponse{ModelName: "m", Outputs: []Tensor{out}}, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), `"data"`) || jsonLen >= 0 && jsonLen != len(body) {
		t.Errorf("response %s (json %d) carries data", body, jsonLen)
	}
	if jsonLen < 0 {
		jsonLen = -1
	}
	resp, err := DecodeHTTPResponse(body, jsonLen)
	if err != nil || len(resp.Outputs) != 1 || !resp.Outputs[0].InSharedMemory() {
		t.Fatalf("decoded %+v, %v", resp, err)
	}
	if !NewResponseCheck([]TensorMetadata{{Name: "y", Datatype: FP32, Shape: []int64{-1, 8}}}).HTTPBodyOK(body, jsonLen) {
		t.Error("the fast check refuses an output in shared memory")
	}
	bad := Tensor{Name: "x", Parameters: Parameters{ParamSharedMemoryRegion: "r", ParamSharedMemoryByteSize: int64(-1)}}
	if _, _, err := bad.SharedMemory(); err == nil {
		t.Error("a negative byte size is accepted")
	}
}

// TestSharedMemoryProto: over gRPC, an input in a region has no raw
// contents (the others keep theirs, in order), and an output in one an
// empty entry, which the fast check takes.
func TestSharedMemoryProto(t *testing.T) {
	in := Tensor{Name: "x", Datatype: FP32, Shape: []int64{1, 4}}
	in.SetSharedMemory(SharedMemoryRef{Region: "r", ByteSize: 16})
	plain := Tensor{Name: "z", Datatype: INT32, Shape: []int64{1}, Data: []byte{1, 0, 0, 0}}
	p := RequestToProto("m", "", &InferRequest{Inputs: []Tensor{in, plain}})
	if len(p.RawInputContents) != 1 {
		t.Fatalf("%d raw contents, want 1 (the input not in shared memory)", len(p.RawInputContents))
	}
	req, err := RequestFromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	if !req.Inputs[0].InSharedMemory() || req.Inputs[0].Data != nil || len(req.Inputs[1].Data) != 4 {
		t.Errorf("decoded %+v", req.Inputs)
	}
	out := Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 8}}
	out.SetSharedMemory(SharedMemoryRef{Region: "o", ByteSize: 32})
	rp := ResponseToProto(&InferResponse{ModelName: "m", Outputs: []Tensor{out}})
	resp, err := ResponseFromProto(rp)
	if err != nil || !resp.Outputs[0].InSharedMemory() {
		t.Fatalf("decoded %+v, %v", resp, err)
	}
	msg, err := proto.Marshal(rp)
	if err != nil {
		t.Fatal(err)
	}
	if !NewResponseCheck([]TensorMetadata{{Name: "y", Datatype: FP32, Shape: []int64{-1, 8}}}).ProtoOK(msg) {
		t.Error("the fast check refuses an output in shared memory")
	}
}

// TestSharedMemoryAnswersWithoutParameters: Triton leaves an output
// written into a region out of the answer's data and need not name the
// region; the SHM decoders and checks take it, the plain ones do not.
func TestSharedMemoryAnswersWithoutParameters(t *testing.T) {
	want := []TensorMetadata{{Name: "y", Datatype: FP32, Shape: []int64{-1, 8}}}
	body := []byte(`{"model_name":"m","model_version":"1","outputs":[{"name":"y","datatype":"FP32","shape":[1,8]}]}`)
	if _, err := DecodeHTTPResponse(body, -1); err == nil {
		t.Error("DecodeHTTPResponse takes an output without data")
	}
	if NewResponseCheck(want).HTTPBodyOK(body, -1) {
		t.Error("the plain fast check takes an output without data")
	}
	resp, err := DecodeHTTPResponseSHM(body, -1)
	if err != nil || resp.Outputs[0].Data != nil || resp.Outputs[0].Name != "y" {
		t.Fatalf("DecodeHTTPResponseSHM: %+v, %v", resp, err)
	}
	if !NewResponseCheck(want).SharedMemory().HTTPBodyOK(body, -1) {
		t.Error("the shared-memory fast check refuses an output without data")
	}
	p := &pb.ModelInferResponse{ModelName: "m", Outputs: []*pb.ModelInferResponse_InferOutputTensor{{Name: "y", Datatype: "FP32", Shape: []int64{1, 8}}}}
	if _, err := ResponseFromProto(p); err == nil {
		t.Error("ResponseFromProto takes an output without data")
	}
	if r, err := ResponseFromProtoSHM(p); err != nil || r.Outputs[0].Data != nil {
		t.Errorf("ResponseFromProtoSHM: %+v, %v", r, err)
	}
	msg, _ := proto.Marshal(p)
	if NewResponseCheck(want).ProtoOK(msg) || !NewResponseCheck(want).SharedMemory().ProtoOK(msg) {
		t.Error("the proto fast checks: the plain one must refuse, the shared-memory one take, an output without data")
	}
}

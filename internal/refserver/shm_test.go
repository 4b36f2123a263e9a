//go:build linux

package refserver_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestSystemSharedMemoryErrors: Triton's answers to a region it cannot
// use, each a 400 with Triton's message, before the request reaches the
// model; and register, status and unregister as Triton answers them.
func TestSystemSharedMemoryErrors(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("m", refserver.NewFIFO(0))}})
	base := "http://" + r.HTTPAddr
	name := fmt.Sprintf("inferbench-%d-refserver-test", os.Getpid())
	if err := os.WriteFile("/dev/shm/"+name, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove("/dev/shm/" + name)
	reg := func(region, key string, size int) httpAnswer {
		return send(t, http.MethodPost, base+"/v2/systemsharedmemory/region/"+region+"/register",
			fmt.Appendf(nil, `{"key":%q,"offset":0,"byte_size":%d}`, key, size), nil)
	}
	if a := reg("r", "/"+name, 64); a.status != http.StatusOK {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	if a := reg("r", "/"+name, 64); a.status != http.StatusConflict && a.status != http.StatusBadRequest || !strings.Contains(a.errorMessage(t), "already in manager") {
		t.Errorf("a second register: %d %s", a.status, a.body)
	}
	if a := reg("nokey", "/inferbench-no-such-object", 64); a.status != http.StatusBadRequest || !strings.Contains(a.errorMessage(t), "Unable to open shared memory region: '/inferbench-no-such-object'") {
		t.Errorf("register of a missing object: %d %s", a.status, a.body)
	}
	if a := send(t, http.MethodGet, base+"/v2/systemsharedmemory/region/r/status", nil, nil); a.status != http.StatusOK || !strings.Contains(string(a.body), `"byte_size":64`) {
		t.Errorf("status: %d %s", a.status, a.body)
	}
	infer := func(in, out string) httpAnswer {
		body := fmt.Sprintf(`{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{%s}}],"outputs":[{"name":"y","parameters":{%s}}]}`, in, out)
		return send(t, http.MethodPost, base+"/v2/models/m/infer", []byte(body), nil)
	}
	for _, tc := range []struct{ name, in, out, want string }{
		{"unknown region", `"shared_memory_region":"nope","shared_memory_byte_size":16`, `"binary_data":true`, "Unable to find system shared memory region: 'nope'"},
		{"offset beyond", `"shared_memory_region":"r","shared_memory_offset":64,"shared_memory_byte_size":16`, `"binary_data":true`, "Invalid offset for shared memory region: 'r'"},
		{"past the end", `"shared_memory_region":"r","shared_memory_offset":56,"shared_memory_byte_size":16`, `"binary_data":true`, "Invalid offset + byte size for shared memory region: 'r'"},
		{"wrong input size", `"shared_memory_region":"r","shared_memory_byte_size":12`, `"binary_data":true`, "input byte size mismatch for input 'x' for model 'm'. Expected 16, got 12"},
		{"small output", `"shared_memory_region":"r","shared_memory_byte_size":16`, `"shared_memory_region":"r","shared_memory_offset":16,"shared_memory_byte_size":8`, "shared memory size specified with the request for output 'y' (8 bytes) should be at least 32 bytes"},
		{"unknown output region", `"shared_memory_region":"r","shared_memory_byte_size":16`, `"shared_memory_region":"gone","shared_memory_byte_size":32`, "Unable to find system shared memory region: 'gone'"},
	} {
		a := infer(tc.in, tc.out)
		if a.status != http.StatusBadRequest || !strings.Contains(a.errorMessage(t), tc.want) {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, a.status, a.body, tc.want)
		}
	}
	a := infer(`"shared_memory_region":"r","shared_memory_byte_size":16`, `"shared_memory_region":"r","shared_memory_offset":16,"shared_memory_byte_size":32`)
	if a.status != http.StatusOK || strings.Contains(string(a.body), `"data"`) || !strings.Contains(string(a.body), `"shared_memory_region":"r"`) {
		t.Errorf("an inference in shared memory: %d %s", a.status, a.body)
	}
	if a := send(t, http.MethodPost, base+"/v2/systemsharedmemory/unregister", nil, nil); a.status != http.StatusOK {
		t.Errorf("unregister all: %d %s", a.status, a.body)
	}
	if a := send(t, http.MethodGet, base+"/v2/systemsharedmemory/status", nil, nil); string(a.body) != "[]" && strings.TrimSpace(string(a.body)) != "[]" {
		t.Errorf("status after unregister: %s", a.body)
	}
	if a := send(t, http.MethodGet, base+"/v2/systemsharedmemory/region/r/status", nil, nil); a.status != http.StatusBadRequest || !strings.Contains(a.errorMessage(t), "Unable to find system shared memory region: 'r'") {
		t.Errorf("status of an unregistered region: %d %s", a.status, a.body)
	}
}

// TestSystemSharedMemoryGRPC: the extension's RPCs, and the error cases
// as INVALID_ARGUMENT with Triton's messages; an inference reads its input
// from a region and writes its output into one, with an empty raw entry.
func TestSystemSharedMemoryGRPC(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("m", refserver.NewFIFO(0))}})
	c := pb.NewGRPCInferenceServiceClient(dial(t, r.GRPCAddr))
	ctx := context.Background()
	name := fmt.Sprintf("inferbench-%d-refserver-grpc", os.Getpid())
	if err := os.WriteFile("/dev/shm/"+name, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove("/dev/shm/" + name)
	if _, err := c.SystemSharedMemoryRegister(ctx, &pb.SystemSharedMemoryRegisterRequest{Name: "r", Key: "/" + name, ByteSize: 64}); err != nil {
		t.Fatal(err)
	}
	_, err := c.SystemSharedMemoryRegister(ctx, &pb.SystemSharedMemoryRegisterRequest{Name: "x", Key: "/inferbench-no-such-object", ByteSize: 64})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Unable to open shared memory region") {
		t.Errorf("register of a missing object: %v", err)
	}
	st, err := c.SystemSharedMemoryStatus(ctx, &pb.SystemSharedMemoryStatusRequest{})
	if err != nil || len(st.GetRegions()) != 1 || st.GetRegions()["r"].GetByteSize() != 64 {
		t.Fatalf("status %v, %v", st, err)
	}
	shm := func(region string, offset, size int64) map[string]*pb.InferParameter {
		return map[string]*pb.InferParameter{
			"shared_memory_region":    {ParameterChoice: &pb.InferParameter_StringParam{StringParam: region}},
			"shared_memory_offset":    {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: offset}},
			"shared_memory_byte_size": {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: size}},
		}
	}
	infer := func(in, out map[string]*pb.InferParameter) (*pb.ModelInferResponse, error) {
		return c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "m",
			Inputs:  []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}, Parameters: in}},
			Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "y", Parameters: out}}})
	}
	for _, tc := range []struct {
		name    string
		in, out map[string]*pb.InferParameter
		want    string
	}{
		{"unknown region", shm("nope", 0, 16), nil, "Unable to find system shared memory region: 'nope'"},
		{"offset beyond", shm("r", 64, 16), nil, "Invalid offset for shared memory region: 'r'"},
		{"wrong input size", shm("r", 0, 12), nil, "input byte size mismatch for input 'x' for model 'm'. Expected 16, got 12"},
		{"small output", shm("r", 0, 16), shm("r", 16, 8), "should be at least 32 bytes to hold the results"},
	} {
		if _, err := infer(tc.in, tc.out); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want INVALID_ARGUMENT %q", tc.name, err, tc.want)
		}
	}
	resp, err := infer(shm("r", 0, 16), shm("r", 16, 32))
	if err != nil || len(resp.GetRawOutputContents()) != 1 || len(resp.GetRawOutputContents()[0]) != 0 {
		t.Fatalf("an inference in shared memory: %v, %v", resp, err)
	}
	if _, err := c.SystemSharedMemoryUnregister(ctx, &pb.SystemSharedMemoryUnregisterRequest{}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.SystemSharedMemoryStatus(ctx, &pb.SystemSharedMemoryStatusRequest{}); err != nil || len(st.GetRegions()) != 0 {
		t.Errorf("status after unregister: %v, %v", st, err)
	}
}

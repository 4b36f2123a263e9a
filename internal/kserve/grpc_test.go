package kserve

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// viaWire marshals and unmarshals a message, as a gRPC call does.
func viaWire[M proto.Message](t *testing.T, m M, into M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
	return into
}

func sampleRequest(inputs []Tensor) *InferRequest {
	return &InferRequest{
		ID:         "id-1",
		Parameters: Parameters{"sequence_id": int64(-3), "u": uint64(math.MaxUint64), "d": 0.5, "s": "str", "b": true},
		Inputs:     inputs,
		Outputs:    []RequestedOutput{{Name: "out", Parameters: Parameters{"classification": int64(2)}}, {Name: "plain"}},
	}
}

func TestGRPCRequestRoundTripRaw(t *testing.T) {
	req := sampleRequest(sampleTensors())
	p := RequestToProto("model", "2", req)
	if p.ModelName != "model" || p.ModelVersion != "2" || len(p.RawInputContents) != len(req.Inputs) {
		t.Fatalf("proto %v", p)
	}
	for i, in := range p.Inputs {
		if in.Contents != nil {
			t.Errorf("input %d has typed contents", i)
		}
		if len(req.Inputs[i].Data) > 0 && &p.RawInputContents[i][0] != &req.Inputs[i].Data[0] {
			t.Errorf("input %d data was copied", i)
		}
	}
	got, err := RequestFromProto(viaWire(t, p, &pb.ModelInferRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRequests(got, req); d != "" {
		t.Fatal(d)
	}
}

func TestGRPCRequestRoundTripTyped(t *testing.T) {
	req := sampleRequest(jsonTensors())
	p := RequestToProto("m", "", req)
	for i, in := range p.Inputs {
		c, err := ContentsFromRaw(req.Inputs[i].Datatype, req.Inputs[i].Data)
		if err != nil {
			t.Fatalf("%s: %v", req.Inputs[i].Name, err)
		}
		in.Contents = c
	}
	p.RawInputContents = nil
	got, err := RequestFromProto(viaWire(t, p, &pb.ModelInferRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRequests(got, req); d != "" {
		t.Fatal(d)
	}
}

func TestGRPCResponseRoundTrip(t *testing.T) {
	resp := &InferResponse{ModelName: "m", ModelVersion: "1", ID: "x", Parameters: Parameters{"k": "v"}, Outputs: sampleTensors()}
	p := ResponseToProto(resp)
	if len(p.RawOutputContents) != len(resp.Outputs) {
		t.Fatalf("%d raw contents for %d outputs", len(p.RawOutputContents), len(resp.Outputs))
	}
	for _, o := range p.Outputs {
		if o.Contents != nil {
			t.Errorf("output %s has typed contents", o.Name)
		}
	}
	wire := viaWire(t, p, &pb.ModelInferResponse{})
	// The 0-byte output keeps its (empty) raw entry.
	if len(wire.RawOutputContents) != len(resp.Outputs) {
		t.Fatalf("after the wire: %d raw contents for %d outputs", len(wire.RawOutputContents), len(resp.Outputs))
	}
	got, err := ResponseFromProto(wire)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffResponses(got, resp); d != "" {
		t.Fatal(d)
	}

	// Typed, as KServe Python or OpenVINO send it.
	typed := ResponseToProto(&InferResponse{ModelName: "m", ModelVersion: "1", ID: "x", Parameters: Parameters{"k": "v"}, Outputs: jsonTensors()})
	typed.RawOutputContents = nil
	for i, o := range typed.Outputs {
		c, err := ContentsFromRaw(DataType(o.Datatype), jsonTensors()[i].Data)
		if err != nil {
			t.Fatal(err)
		}
		o.Contents = c
	}
	got, err = ResponseFromProto(viaWire(t, typed, &pb.ModelInferResponse{}))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffResponses(got, &InferResponse{ModelName: "m", ModelVersion: "1", ID: "x", Parameters: Parameters{"k": "v"}, Outputs: jsonTensors()}); d != "" {
		t.Fatal(d)
	}
}

func TestContentsFromRaw(t *testing.T) {
	for _, tc := range []struct {
		dt   DataType
		raw  []byte
		want *pb.InferTensorContents
	}{
		{BOOL, []byte{1, 0, 2}, &pb.InferTensorContents{BoolContents: []bool{true, false, true}}},
		{INT8, rawOf[int8](-128, 127), &pb.InferTensorContents{IntContents: []int32{-128, 127}}},
		{INT16, rawOf[int16](-32768, 5), &pb.InferTensorContents{IntContents: []int32{-32768, 5}}},
		{INT32, rawOf[int32](math.MinInt32), &pb.InferTensorContents{IntContents: []int32{math.MinInt32}}},
		{INT64, rawOf[int64](math.MinInt64), &pb.InferTensorContents{Int64Contents: []int64{math.MinInt64}}},
		{UINT8, []byte{255}, &pb.InferTensorContents{UintContents: []uint32{255}}},
		{UINT16, rawOf[uint16](65535), &pb.InferTensorContents{UintContents: []uint32{65535}}},
		{UINT32, rawOf[uint32](math.MaxUint32), &pb.InferTensorContents{UintContents: []uint32{math.MaxUint32}}},
		{UINT64, rawOf[uint64](math.MaxUint64), &pb.InferTensorContents{Uint64Contents: []uint64{math.MaxUint64}}},
		{FP32, rawOf[float32](1.5), &pb.InferTensorContents{Fp32Contents: []float32{1.5}}},
		{FP64, rawOf(2.5), &pb.InferTensorContents{Fp64Contents: []float64{2.5}}},
		{BYTES, bytesOf("ab", ""), &pb.InferTensorContents{BytesContents: [][]byte{[]byte("ab"), {}}}},
	} {
		got, err := ContentsFromRaw(tc.dt, tc.raw)
		if err != nil {
			t.Errorf("%s: %v", tc.dt, err)
			continue
		}
		if !proto.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.dt, got, tc.want)
		}
	}
	for _, tc := range []struct {
		dt   DataType
		raw  []byte
		want string
	}{
		{FP16, []byte{0, 0}, "FP16 has no typed contents field"},
		{BF16, nil, "BF16 has no typed contents field"},
		{INT32, []byte{1, 2, 3}, "not a whole number of 4-byte INT32 elements"},
		{BYTES, []byte{5, 0, 0, 0, 1}, "runs past the end"},
		{"INT4", nil, "unknown datatype 'INT4'"},
	} {
		_, err := ContentsFromRaw(tc.dt, tc.raw)
		wantInvalid(t, err, tc.want)
	}
}

func TestRawFromContents(t *testing.T) {
	for _, tc := range []struct {
		dt   DataType
		c    *pb.InferTensorContents
		want []byte
	}{
		{BOOL, &pb.InferTensorContents{BoolContents: []bool{true, false}}, []byte{1, 0}},
		{INT8, &pb.InferTensorContents{IntContents: []int32{-128, 127}}, rawOf[int8](-128, 127)},
		{INT16, &pb.InferTensorContents{IntContents: []int32{-32768, 32767}}, rawOf[int16](-32768, 32767)},
		{INT32, &pb.InferTensorContents{IntContents: []int32{math.MinInt32}}, rawOf[int32](math.MinInt32)},
		{UINT8, &pb.InferTensorContents{UintContents: []uint32{0, 255}}, []byte{0, 255}},
		{UINT16, &pb.InferTensorContents{UintContents: []uint32{65535}}, rawOf[uint16](65535)},
		{UINT32, &pb.InferTensorContents{UintContents: []uint32{math.MaxUint32}}, rawOf[uint32](math.MaxUint32)},
		{BYTES, &pb.InferTensorContents{BytesContents: [][]byte{[]byte("é"), nil}}, bytesOf("é", "")},
		{FP32, nil, nil},
		{FP16, &pb.InferTensorContents{}, nil},
	} {
		got, err := RawFromContents(tc.dt, tc.c)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: % x, %v; want % x", tc.dt, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		dt   DataType
		c    *pb.InferTensorContents
		want []string
	}{
		{"INT8 200", INT8, &pb.InferTensorContents{IntContents: []int32{1, 200}}, []string{"element 1", "200", "out of range for INT8"}},
		{"INT8 -129", INT8, &pb.InferTensorContents{IntContents: []int32{-129}}, []string{"out of range for INT8"}},
		{"INT16 40000", INT16, &pb.InferTensorContents{IntContents: []int32{40000}}, []string{"out of range for INT16"}},
		{"UINT8 256", UINT8, &pb.InferTensorContents{UintContents: []uint32{256}}, []string{"256", "out of range for UINT8"}},
		{"UINT16 70000", UINT16, &pb.InferTensorContents{UintContents: []uint32{70000}}, []string{"out of range for UINT16"}},
		{"fp32 for INT32", INT32, &pb.InferTensorContents{Fp32Contents: []float32{1}}, []string{"INT32 data must be in int_contents, found fp32_contents"}},
		{"int64 for INT32", INT32, &pb.InferTensorContents{Int64Contents: []int64{1}}, []string{"found int64_contents"}},
		{"int for UINT8", UINT8, &pb.InferTensorContents{IntContents: []int32{1}}, []string{"must be in uint_contents"}},
		{"two fields", FP32, &pb.InferTensorContents{Fp32Contents: []float32{1}, Fp64Contents: []float64{1}}, []string{"found fp64_contents"}},
		{"bytes for BOOL", BOOL, &pb.InferTensorContents{BytesContents: [][]byte{nil}}, []string{"BOOL data must be in bool_contents, found bytes_contents"}},
		{"FP16 typed", FP16, &pb.InferTensorContents{Fp32Contents: []float32{1}}, []string{"FP16 data cannot be sent in typed contents"}},
		{"BF16 typed", BF16, &pb.InferTensorContents{UintContents: []uint32{1}}, []string{"BF16 data cannot be sent in typed contents"}},
		{"unknown", "X", &pb.InferTensorContents{}, []string{"unknown datatype 'X'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RawFromContents(tc.dt, tc.c)
			wantInvalid(t, err, tc.want...)
		})
	}
}

func TestRequestFromProtoErrors(t *testing.T) {
	fp32 := func(name string, shape ...int64) *pb.ModelInferRequest_InferInputTensor {
		return &pb.ModelInferRequest_InferInputTensor{Name: name, Datatype: "FP32", Shape: shape}
	}
	withContents := func(in *pb.ModelInferRequest_InferInputTensor, c *pb.InferTensorContents) *pb.ModelInferRequest_InferInputTensor {
		in.Contents = c
		return in
	}
	four := rawOf[float32](1)
	for _, tc := range []struct {
		name string
		p    *pb.ModelInferRequest
		want []string
	}{
		{"nil", nil, []string{"nil ModelInferRequest"}},
		{"mixed raw and typed", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{fp32("a", 1), withContents(fp32("b", 1), &pb.InferTensorContents{Fp32Contents: []float32{1}})},
			RawInputContents: [][]byte{four},
		}, []string{"contents field must not be specified when using raw_input_contents", "'b'"}},
		{"raw with empty contents", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{withContents(fp32("a", 1), &pb.InferTensorContents{})},
			RawInputContents: [][]byte{four},
		}, []string{"contents field must not be specified"}},
		{"too few raw", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{fp32("a", 1), fp32("b", 1)},
			RawInputContents: [][]byte{four},
		}, []string{"expected 2 raw_input_contents", "got 1"}},
		{"too many raw", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{fp32("a", 1)},
			RawInputContents: [][]byte{four, four},
		}, []string{"expected 1 raw_input_contents", "got 2"}},
		{"raw size mismatch", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{fp32("a", 2)},
			RawInputContents: [][]byte{four},
		}, []string{"tensor 'a'", "unexpected byte size 4", "expecting 8"}},
		{"typed count mismatch", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{withContents(fp32("a", 3), &pb.InferTensorContents{Fp32Contents: []float32{1, 2}})},
		}, []string{"tensor 'a'", "unexpected byte size 8"}},
		{"typed wrong field", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{withContents(&pb.ModelInferRequest_InferInputTensor{Name: "i", Datatype: "INT32", Shape: []int64{1}}, &pb.InferTensorContents{Fp32Contents: []float32{1}})},
		}, []string{"input 'i'", "INT32 data must be in int_contents, found fp32_contents"}},
		{"typed out of range", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{withContents(&pb.ModelInferRequest_InferInputTensor{Name: "i", Datatype: "UINT8", Shape: []int64{1}}, &pb.InferTensorContents{UintContents: []uint32{300}})},
		}, []string{"input 'i'", "300", "out of range for UINT8"}},
		{"FP16 typed", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{withContents(&pb.ModelInferRequest_InferInputTensor{Name: "h", Datatype: "FP16", Shape: []int64{1}}, &pb.InferTensorContents{Fp32Contents: []float32{1}})},
		}, []string{"input 'h'", "FP16 data cannot be sent in typed contents"}},
		{"typed missing contents", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{fp32("a", 1)},
		}, []string{"tensor 'a'", "unexpected byte size 0"}},
		{"unknown datatype", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "a", Datatype: "FLOAT", Shape: []int64{1}}},
		}, []string{"input 'a'", "unknown datatype 'FLOAT'"}},
		{"missing name", &pb.ModelInferRequest{
			Inputs: []*pb.ModelInferRequest_InferInputTensor{{Datatype: "FP32", Shape: []int64{0}}},
		}, []string{"input 0 has no name"}},
		{"negative shape", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{fp32("a", -1)},
			RawInputContents: [][]byte{nil},
		}, []string{"tensor 'a'", "negative"}},
		{"huge shape", &pb.ModelInferRequest{
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{fp32("a", 1<<40, 1<<20)},
			RawInputContents: [][]byte{four},
		}, []string{"tensor 'a'"}},
		{"output without name", &pb.ModelInferRequest{
			Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{}},
		}, []string{"requested output 0 has no name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RequestFromProto(tc.p)
			wantInvalid(t, err, tc.want...)
		})
	}
}

func TestResponseFromProtoErrors(t *testing.T) {
	out := func(name, dt string, shape ...int64) *pb.ModelInferResponse_InferOutputTensor {
		return &pb.ModelInferResponse_InferOutputTensor{Name: name, Datatype: dt, Shape: shape}
	}
	for _, tc := range []struct {
		name string
		p    *pb.ModelInferResponse
		want []string
	}{
		{"nil", nil, []string{"nil ModelInferResponse"}},
		{"raw count", &pb.ModelInferResponse{Outputs: []*pb.ModelInferResponse_InferOutputTensor{out("a", "UINT8", 1), out("b", "UINT8", 1)}, RawOutputContents: [][]byte{{1}}}, []string{"expected 2 raw_output_contents"}},
		{"mixed", &pb.ModelInferResponse{
			Outputs:           []*pb.ModelInferResponse_InferOutputTensor{{Name: "a", Datatype: "UINT8", Shape: []int64{1}, Contents: &pb.InferTensorContents{UintContents: []uint32{1}}}},
			RawOutputContents: [][]byte{{1}},
		}, []string{"contents field must not be specified when using raw_output_contents"}},
		{"size", &pb.ModelInferResponse{Outputs: []*pb.ModelInferResponse_InferOutputTensor{out("a", "INT16", 2)}, RawOutputContents: [][]byte{{1, 2}}}, []string{"tensor 'a'", "expecting 4"}},
		{"typed field", &pb.ModelInferResponse{Outputs: []*pb.ModelInferResponse_InferOutputTensor{{Name: "a", Datatype: "FP64", Shape: []int64{1}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{1}}}}}, []string{"output 'a'", "fp64_contents"}},
		{"datatype", &pb.ModelInferResponse{Outputs: []*pb.ModelInferResponse_InferOutputTensor{out("a", "", 1)}}, []string{"output 'a'", "unknown datatype ''"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ResponseFromProto(tc.p)
			wantInvalid(t, err, tc.want...)
		})
	}
}

func TestParametersProto(t *testing.T) {
	p := Parameters{"b": true, "i": int64(-1), "u": uint64(math.MaxUint64), "d": 1.25, "s": "x", "int": 7, "f32": float32(0.5), "other": []int{7}}
	m := ParametersToProto(p)
	want := map[string]*pb.InferParameter{
		"b":     {ParameterChoice: &pb.InferParameter_BoolParam{BoolParam: true}},
		"i":     {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: -1}},
		"u":     {ParameterChoice: &pb.InferParameter_Uint64Param{Uint64Param: math.MaxUint64}},
		"d":     {ParameterChoice: &pb.InferParameter_DoubleParam{DoubleParam: 1.25}},
		"s":     {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "x"}},
		"int":   {ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: 7}},
		"f32":   {ParameterChoice: &pb.InferParameter_DoubleParam{DoubleParam: 0.5}},
		"other": {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "[7]"}},
	}
	if len(m) != len(want) {
		t.Fatalf("%d parameters, want %d", len(m), len(want))
	}
	for k, v := range want {
		if !proto.Equal(m[k], v) {
			t.Errorf("%s: %v, want %v", k, m[k], v)
		}
	}
	back := ParametersFromProto(m)
	wantBack := Parameters{"b": true, "i": int64(-1), "u": uint64(math.MaxUint64), "d": 1.25, "s": "x", "int": int64(7), "f32": 0.5, "other": "[7]"}
	if !reflect.DeepEqual(back, wantBack) {
		t.Errorf("back %#v, want %#v", back, wantBack)
	}
	if ParametersToProto(nil) != nil || ParametersToProto(Parameters{}) != nil || ParametersFromProto(nil) != nil {
		t.Error("empty parameters are not nil")
	}
	if got := ParametersFromProto(map[string]*pb.InferParameter{"nil": nil, "unset": {}}); got != nil {
		t.Errorf("unset parameters gave %#v", got)
	}
}

func TestYOLORoundTripGRPCRaw(t *testing.T) {
	req := &InferRequest{ID: "y", Inputs: []Tensor{yoloInput()}}
	p := RequestToProto("yolo", "1", req)
	if &p.RawInputContents[0][0] != &req.Inputs[0].Data[0] {
		t.Error("RequestToProto copied the data")
	}
	got, err := RequestFromProto(viaWire(t, p, &pb.ModelInferRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRequests(got, req); d != "" {
		t.Fatal(d)
	}

	resp := &InferResponse{ModelName: "yolo", ModelVersion: "1", ID: "y", Outputs: []Tensor{{Name: "output0", Datatype: FP32, Shape: []int64{1, 84, 8400}, Data: make([]byte, 2822400)}}}
	rp := ResponseToProto(resp)
	if &rp.RawOutputContents[0][0] != &resp.Outputs[0].Data[0] {
		t.Error("ResponseToProto copied the data")
	}
	gotResp, err := ResponseFromProto(viaWire(t, rp, &pb.ModelInferResponse{}))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffResponses(gotResp, resp); d != "" {
		t.Fatal(d)
	}
}

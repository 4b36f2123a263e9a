package kserve

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// The benchmarks use a YOLO image input: FP32 [1,3,640,640], 1,228,800
// elements, 4,915,200 raw bytes.

func yoloRequest() *InferRequest {
	return &InferRequest{
		Inputs:  []Tensor{yoloInput()},
		Outputs: []RequestedOutput{{Name: "output0", Parameters: Parameters{"binary_data": true}}},
	}
}

func BenchmarkDecodeHTTPRequestJSONYOLO(b *testing.B) {
	body, jsonLen, err := EncodeHTTPRequest(yoloRequest(), false)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHTTPRequest(body, jsonLen); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHTTPRequestBinaryYOLO(b *testing.B) {
	body, jsonLen, err := EncodeHTTPRequest(yoloRequest(), true)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHTTPRequest(body, jsonLen); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeHTTPRequestBinaryYOLO(b *testing.B) {
	req := yoloRequest()
	b.SetBytes(int64(len(req.Inputs[0].Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EncodeHTTPRequest(req, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeHTTPRequestJSONYOLO(b *testing.B) {
	req := yoloRequest()
	b.SetBytes(int64(len(req.Inputs[0].Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EncodeHTTPRequest(req, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestFromProtoRawYOLO(b *testing.B) {
	wire, err := proto.Marshal(RequestToProto("yolo", "1", yoloRequest()))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var p pb.ModelInferRequest
		if err := proto.Unmarshal(wire, &p); err != nil {
			b.Fatal(err)
		}
		if _, err := RequestFromProto(&p); err != nil {
			b.Fatal(err)
		}
	}
}

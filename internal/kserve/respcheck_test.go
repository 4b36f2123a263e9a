package kserve

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// wants returns what a check wants of each tensor: its name, datatype and
// shape, with the first dimension variable (as a batching model says).
func wants(ts []Tensor) []TensorMetadata {
	var out []TensorMetadata
	for _, t := range ts {
		shape := slices.Clone(t.Shape)
		if len(shape) > 0 {
			shape[0] = -1
		}
		out = append(out, TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: shape})
	}
	return out
}

// fits is the reference answer: the decoded response has every wanted
// output (the first of its name) with the datatype and a fitting shape.
func fits(want []TensorMetadata, resp *InferResponse) bool {
	for _, w := range want {
		got := resp.Output(w.Name)
		if got == nil || got.Datatype != w.Datatype || len(got.Shape) != len(w.Shape) {
			return false
		}
		for i, d := range w.Shape {
			if d >= 0 && got.Shape[i] != d {
				return false
			}
		}
	}
	return true
}

// slowHTTP and slowProto are the full decoders' answers.
func slowHTTP(want []TensorMetadata, body []byte, headerLen int) bool {
	resp, err := DecodeHTTPResponse(body, headerLen)
	return err == nil && fits(want, resp)
}

func slowProto(want []TensorMetadata, msg []byte) bool {
	var p pb.ModelInferResponse
	if proto.Unmarshal(msg, &p) != nil {
		return false
	}
	resp, err := ResponseFromProto(&p)
	return err == nil && fits(want, resp)
}

func sampleResponse(outputs []Tensor) *InferResponse {
	return &InferResponse{ModelName: "m", ModelVersion: "1", ID: "r-1", Parameters: Parameters{"p": int64(3), "s": "x", "f": 1.5, "b": true}, Outputs: outputs}
}

// TestResponseCheckAcceptsWhatDecodes: well-formed responses of every
// datatype, in binary, JSON (FP16 and BF16 aside) and gRPC, pass the fast
// check, with every output wanted, some, or none.
func TestResponseCheckAcceptsWhatDecodes(t *testing.T) {
	for name, outs := range map[string][]Tensor{"all": sampleTensors(), "json": jsonTensors()} {
		resp := sampleResponse(outs)
		for _, want := range [][]TensorMetadata{wants(outs), wants(outs[:2]), nil} {
			c := NewResponseCheck(want)
			bin, jsonLen, err := EncodeHTTPResponse(resp, func(string) bool { return true })
			if err != nil {
				t.Fatal(err)
			}
			if !c.HTTPBodyOK(bin, jsonLen) || !slowHTTP(want, bin, jsonLen) {
				t.Errorf("%s: binary response with %d wanted: fast %v, slow %v", name, len(want), c.HTTPBodyOK(bin, jsonLen), slowHTTP(want, bin, jsonLen))
			}
			msg, err := proto.Marshal(ResponseToProto(resp))
			if err != nil {
				t.Fatal(err)
			}
			if !c.ProtoOK(msg) {
				t.Errorf("%s: gRPC response with %d wanted: fast check false", name, len(want))
			}
			if name != "json" {
				continue
			}
			js, jsonLen, err := EncodeHTTPResponse(resp, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !c.HTTPBodyOK(js, jsonLen) {
				t.Errorf("JSON response with %d wanted: fast check false\n%s", len(want), js)
			}
			// Mixed: half binary.
			mixed, jsonLen, err := EncodeHTTPResponse(resp, func(n string) bool { return len(n)%2 == 0 })
			if err != nil {
				t.Fatal(err)
			}
			if !c.HTTPBodyOK(mixed, jsonLen) {
				t.Errorf("mixed response with %d wanted: fast check false", len(want))
			}
		}
	}
}

// TestResponseCheckRefuses: responses that do not fit, or do not decode,
// fail the fast check (and the full decoder explains why).
func TestResponseCheckRefuses(t *testing.T) {
	y := Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 8}, Data: make([]byte, 32)}
	want := []TensorMetadata{{Name: "y", Datatype: FP32, Shape: []int64{-1, 8}}}
	c := NewResponseCheck(want)
	enc := func(ts ...Tensor) ([]byte, int) {
		b, n, err := EncodeHTTPResponse(&InferResponse{ModelName: "m", Outputs: ts}, func(string) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		return b, n
	}
	good, n := enc(y)
	if !c.HTTPBodyOK(good, n) {
		t.Fatal("the good response fails")
	}
	other := y
	other.Name = "z"
	wrongType := Tensor{Name: "y", Datatype: INT32, Shape: []int64{1, 8}, Data: make([]byte, 32)}
	wrongShape := Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 4}, Data: make([]byte, 16)}
	cases := map[string]func() ([]byte, int){
		"missing":           func() ([]byte, int) { return enc(other) },
		"datatype":          func() ([]byte, int) { return enc(wrongType) },
		"shape":             func() ([]byte, int) { return enc(wrongShape) },
		"first of its name": func() ([]byte, int) { return enc(wrongShape, y) },
		"truncated":         func() ([]byte, int) { return good[:len(good)-1], n },
		"extra byte":        func() ([]byte, int) { return append(slices.Clone(good), 0), n },
		"header length 0":   func() ([]byte, int) { return good, 0 },
		"header too long":   func() ([]byte, int) { return good, len(good) + 1 },
		"no header length":  func() ([]byte, int) { return good, -1 },
		"not JSON":          func() ([]byte, int) { return []byte("<html>"), -1 },
		"empty":             func() ([]byte, int) { return nil, -1 },
		"trailing JSON":     func() ([]byte, int) { return []byte(`{"outputs":[]} {}`), -1 },
		"size twice": func() ([]byte, int) {
			return []byte(`{"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"parameters":{"binary_data_size":32,"binary_data_size":32}}]}` + strings.Repeat("\x00", 32)), -1
		},
		"outputs twice": func() ([]byte, int) {
			return []byte(`{"outputs":[],"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}`), -1
		},
		"shape of objects": func() ([]byte, int) {
			return []byte(`{"outputs":[{"name":"y","datatype":"FP32","shape":[1,{}],"data":[1,2,3,4,5,6,7,8]}]}`), -1
		},
		"JSON count": func() ([]byte, int) {
			return []byte(`{"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7]}]}`), -1
		},
		"FP32 range": func() ([]byte, int) {
			return []byte(`{"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,1e39]}]}`), -1
		},
		"null name": func() ([]byte, int) {
			return []byte(`{"outputs":[{"name":null,"datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}`), -1
		},
		"bad version": func() ([]byte, int) {
			return []byte(`{"model_version":true,"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}`), -1
		},
		"null parameter": func() ([]byte, int) {
			return []byte(`{"parameters":{"a":null},"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[1,2,3,4,5,6,7,8]}]}`), -1
		},
	}
	for name, f := range cases {
		body, hl := f()
		if c.HTTPBodyOK(body, hl) {
			t.Errorf("%s: the fast check passes %q", name, clipBytes(body))
		}
	}
	jsonGood := []byte(`{"id":null,"model_version":7,"parameters":{"n":-2.5e3,"u":18446744073709551616},"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[[1,2,3,4],[5,6,7,-8e-3]],"x":{"y":[]}}],"z":0}`)
	if !c.HTTPBodyOK(jsonGood, -1) || !slowHTTP(want, jsonGood, -1) {
		t.Errorf("an unusual but valid JSON response fails")
	}

	pm := func(ts ...Tensor) []byte {
		b, err := proto.Marshal(ResponseToProto(&InferResponse{Outputs: ts}))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !c.ProtoOK(pm(y)) {
		t.Fatal("the good gRPC response fails")
	}
	noRaw := ResponseToProto(&InferResponse{Outputs: []Tensor{y, other}})
	noRaw.RawOutputContents = noRaw.RawOutputContents[:1]
	short, _ := proto.Marshal(noRaw)
	badUTF8 := ResponseToProto(&InferResponse{Outputs: []Tensor{y}})
	badUTF8.Id = "\xff"
	bu, _ := proto.Marshal(proto.Message(badUTF8))
	for name, msg := range map[string][]byte{
		"missing":         pm(other),
		"datatype":        pm(wrongType),
		"shape":           pm(wrongShape),
		"raw count":       short,
		"truncated":       pm(y)[:len(pm(y))-1],
		"invalid UTF-8":   bu,
		"garbage":         {0xff, 0xff, 0xff},
		"bad BOOL byte":   pm(Tensor{Name: "y", Datatype: BOOL, Shape: []int64{1, 8}, Data: []byte{0, 1, 2, 0, 0, 0, 0, 0}}),
		"data size":       pm(Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 8}, Data: make([]byte, 28)}),
		"negative dims":   pm(Tensor{Name: "y", Datatype: FP32, Shape: []int64{-1, 8}, Data: make([]byte, 32)}),
		"unknown type":    pm(Tensor{Name: "y", Datatype: "FP8", Shape: []int64{1, 8}, Data: make([]byte, 32)}),
		"empty name":      pm(Tensor{Name: "", Datatype: FP32, Shape: []int64{1, 8}, Data: make([]byte, 32)}),
		"an empty answer": nil,
	} {
		if c.ProtoOK(msg) {
			t.Errorf("%s: the fast gRPC check passes", name)
		}
		if slowProto(want, msg) {
			t.Errorf("%s: the full decoder accepts the case (the test is wrong)", name)
		}
	}
}

// TestResponseCheckDoesNotAllocate: the point of the fast path.
func TestResponseCheckDoesNotAllocate(t *testing.T) {
	outs := jsonTensors()
	resp := sampleResponse(outs)
	c := NewResponseCheck(wants(outs))
	bin, binLen, _ := EncodeHTTPResponse(resp, func(string) bool { return true })
	js, jsLen, _ := EncodeHTTPResponse(resp, nil)
	msg, _ := proto.Marshal(ResponseToProto(resp))
	for name, f := range map[string]func() bool{
		"binary": func() bool { return c.HTTPBodyOK(bin, binLen) },
		"JSON":   func() bool { return c.HTTPBodyOK(js, jsLen) },
		"proto":  func() bool { return c.ProtoOK(msg) },
	} {
		if !f() {
			t.Fatalf("%s: check fails", name)
		}
		if n := testing.AllocsPerRun(100, func() { f() }); n != 0 {
			t.Errorf("%s: %.1f allocations per check, want 0", name, n)
		}
	}
}

// fuzzWant is what the fuzz tests want: the tiny model's output.
var fuzzWant = []TensorMetadata{{Name: "y", Datatype: FP32, Shape: []int64{-1, 8}}}

// FuzzResponseCheckHTTP: whatever the body, a pass of the fast check
// implies that the full decoder takes it and that it fits.
func FuzzResponseCheckHTTP(f *testing.F) {
	y := Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 8}, Data: rawOf[float32](1, 2, 3, 4, 5, 6, 7, 8)}
	for _, outs := range [][]Tensor{{y}, jsonTensors(), sampleTensors()} {
		resp := sampleResponse(outs)
		for _, bin := range []func(string) bool{nil, func(string) bool { return true }} {
			if b, n, err := EncodeHTTPResponse(resp, bin); err == nil {
				f.Add(b, n)
			}
		}
	}
	f.Add([]byte(`{"id":null,"model_version":7,"outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[[1,2,3,4],[5,6,7,8]]}]}`), -1)
	f.Fuzz(func(t *testing.T, body []byte, headerLen int) {
		for _, want := range [][]TensorMetadata{fuzzWant, nil} {
			if NewResponseCheck(want).HTTPBodyOK(body, headerLen) && !slowHTTP(want, body, headerLen) {
				_, err := DecodeHTTPResponse(body, headerLen)
				t.Fatalf("fast check passes what the decoder refuses (%v) or does not fit: %q (header %d)", err, body, headerLen)
			}
		}
	})
}

// FuzzResponseCheckProto: the same for gRPC messages.
func FuzzResponseCheckProto(f *testing.F) {
	y := Tensor{Name: "y", Datatype: FP32, Shape: []int64{1, 8}, Data: rawOf[float32](1, 2, 3, 4, 5, 6, 7, 8)}
	for _, outs := range [][]Tensor{{y}, sampleTensors()} {
		if b, err := proto.Marshal(ResponseToProto(sampleResponse(outs))); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0xe5, 0xe5, 0xfa, 0xef, 0x30, 0x30, 0x30, 0x30, 0x30}) // a field number beyond 2^29-1
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, want := range [][]TensorMetadata{fuzzWant, nil} {
			if NewResponseCheck(want).ProtoOK(msg) && !slowProto(want, msg) {
				t.Fatalf("fast check passes what the decoder refuses or does not fit: %x", msg)
			}
		}
	})
}

package kserve

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// codecLE is shorthand for the byte order of raw data.
var codecLE = binary.LittleEndian

// rawOf builds raw data of a fixed-size datatype from typed Go values.
func rawOf[T bool | int8 | uint8 | int16 | uint16 | int32 | uint32 | int64 | uint64 | float32 | float64](vals ...T) []byte {
	var out []byte
	for _, v := range vals {
		switch v := any(v).(type) {
		case bool:
			if v {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		case int8:
			out = append(out, uint8(v))
		case uint8:
			out = append(out, v)
		case int16:
			out = codecLE.AppendUint16(out, uint16(v))
		case uint16:
			out = codecLE.AppendUint16(out, v)
		case int32:
			out = codecLE.AppendUint32(out, uint32(v))
		case uint32:
			out = codecLE.AppendUint32(out, v)
		case int64:
			out = codecLE.AppendUint64(out, uint64(v))
		case uint64:
			out = codecLE.AppendUint64(out, v)
		case float32:
			out = codecLE.AppendUint32(out, math.Float32bits(v))
		case float64:
			out = codecLE.AppendUint64(out, math.Float64bits(v))
		}
	}
	return out
}

// bytesOf builds raw BYTES data.
func bytesOf(elems ...string) []byte {
	var out []byte
	for _, e := range elems {
		out = AppendBytesElement(out, []byte(e))
	}
	return out
}

// sampleTensors has one tensor of each of the 14 datatypes, with values at
// the edges of each type's range.
func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "bool", Datatype: BOOL, Shape: []int64{2, 2}, Data: rawOf(true, false, true, true)},
		{Name: "uint8", Datatype: UINT8, Shape: []int64{4}, Data: rawOf[uint8](0, 1, 254, 255)},
		{Name: "uint16", Datatype: UINT16, Shape: []int64{3}, Data: rawOf[uint16](0, 1, math.MaxUint16)},
		{Name: "uint32", Datatype: UINT32, Shape: []int64{3}, Data: rawOf[uint32](0, 123456, math.MaxUint32)},
		{Name: "uint64", Datatype: UINT64, Shape: []int64{3}, Data: rawOf[uint64](0, 1<<63+5, math.MaxUint64)},
		{Name: "int8", Datatype: INT8, Shape: []int64{4}, Data: rawOf[int8](math.MinInt8, -1, 0, math.MaxInt8)},
		{Name: "int16", Datatype: INT16, Shape: []int64{1, 3}, Data: rawOf[int16](math.MinInt16, 7, math.MaxInt16)},
		{Name: "int32", Datatype: INT32, Shape: []int64{3, 1}, Data: rawOf[int32](math.MinInt32, -5, math.MaxInt32)},
		{Name: "int64", Datatype: INT64, Shape: []int64{4}, Data: rawOf[int64](math.MinInt64, 1<<53+1, -(1<<53 + 1), math.MaxInt64)},
		{Name: "fp16", Datatype: FP16, Shape: []int64{3}, Data: rawOf(Float32ToFloat16(1.5), Float32ToFloat16(-65504), uint16(0x0001))},
		{Name: "bf16", Datatype: BF16, Shape: []int64{2}, Data: rawOf(Float32ToBFloat16(-2.5), Float32ToBFloat16(1e30))},
		{Name: "fp32", Datatype: FP32, Shape: []int64{2, 3}, Data: rawOf[float32](0, float32(math.Copysign(0, -1)), 0.1, math.MaxFloat32, math.SmallestNonzeroFloat32, -1e-30)},
		{Name: "fp64", Datatype: FP64, Shape: []int64{2, 2}, Data: rawOf(0.1, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Pi)},
		{
			Name: "bytes", Datatype: BYTES, Shape: []int64{4},
			Data:       bytesOf("hello", "", "héllo ✓ 日本 😀", "quote\" back\\ nl\n ctl\x01 tab\t"),
			Parameters: Parameters{"note": "kept", "n": int64(3)},
		},
		{Name: "scalar", Datatype: FP32, Shape: []int64{}, Data: rawOf[float32](42)},
		{Name: "empty", Datatype: INT32, Shape: []int64{0, 3}, Data: []byte{}},
	}
}

// jsonTensors is sampleTensors without FP16 and BF16, which JSON cannot carry.
func jsonTensors() []Tensor {
	return slices.DeleteFunc(sampleTensors(), func(t Tensor) bool { return !t.Datatype.JSONAllowed() })
}

// normParams makes nil and empty parameters compare equal.
func normParams(p Parameters) Parameters {
	if len(p) == 0 {
		return nil
	}
	return p
}

// diffTensors describes how two tensor lists differ, or returns "".
func diffTensors(got, want []Tensor) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d tensors, want %d\n", len(got), len(want))
	}
	var b strings.Builder
	for i := range got {
		g, w := &got[i], &want[i]
		switch {
		case g.Name != w.Name:
			fmt.Fprintf(&b, "tensor %d: name %q, want %q\n", i, g.Name, w.Name)
		case g.Datatype != w.Datatype:
			fmt.Fprintf(&b, "%s: datatype %s, want %s\n", w.Name, g.Datatype, w.Datatype)
		case !slices.Equal(g.Shape, w.Shape):
			fmt.Fprintf(&b, "%s: shape %v, want %v\n", w.Name, g.Shape, w.Shape)
		case !bytes.Equal(g.Data, w.Data):
			fmt.Fprintf(&b, "%s: data % x, want % x\n", w.Name, clipBytes(g.Data), clipBytes(w.Data))
		case !reflect.DeepEqual(normParams(g.Parameters), normParams(w.Parameters)):
			fmt.Fprintf(&b, "%s: parameters %#v, want %#v\n", w.Name, g.Parameters, w.Parameters)
		}
	}
	return b.String()
}

// clipBytes keeps test failure messages short.
func clipBytes(b []byte) []byte {
	return b[:min(len(b), 64)]
}

// diffRequests describes how two requests differ, or returns "".
func diffRequests(got, want *InferRequest) string {
	s := diffTensors(got.Inputs, want.Inputs)
	if got.ID != want.ID {
		s += fmt.Sprintf("id %q, want %q\n", got.ID, want.ID)
	}
	if !reflect.DeepEqual(normParams(got.Parameters), normParams(want.Parameters)) {
		s += fmt.Sprintf("request parameters %#v, want %#v\n", got.Parameters, want.Parameters)
	}
	if len(got.Outputs) != len(want.Outputs) {
		return s + fmt.Sprintf("%d requested outputs, want %d\n", len(got.Outputs), len(want.Outputs))
	}
	for i := range got.Outputs {
		if got.Outputs[i].Name != want.Outputs[i].Name ||
			!reflect.DeepEqual(normParams(got.Outputs[i].Parameters), normParams(want.Outputs[i].Parameters)) {
			s += fmt.Sprintf("requested output %d: %+v, want %+v\n", i, got.Outputs[i], want.Outputs[i])
		}
	}
	return s
}

// diffResponses describes how two responses differ, or returns "".
func diffResponses(got, want *InferResponse) string {
	s := diffTensors(got.Outputs, want.Outputs)
	if got.ID != want.ID || got.ModelName != want.ModelName || got.ModelVersion != want.ModelVersion {
		s += fmt.Sprintf("id/model/version %q/%q/%q, want %q/%q/%q\n", got.ID, got.ModelName, got.ModelVersion, want.ID, want.ModelName, want.ModelVersion)
	}
	if !reflect.DeepEqual(normParams(got.Parameters), normParams(want.Parameters)) {
		s += fmt.Sprintf("response parameters %#v, want %#v\n", got.Parameters, want.Parameters)
	}
	return s
}

// wantInvalid fails unless err is an INVALID_ARG *Error whose message
// contains every one of subs.
func wantInvalid(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want INVALID_ARG mentioning %q", subs)
	}
	if _, ok := err.(*Error); !ok {
		t.Fatalf("error %T %q is not an *Error", err, err)
	}
	if c := CodeOf(err); c != CodeInvalidArg {
		t.Fatalf("code %v, want INVALID_ARG: %v", c, err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %q", err, s)
		}
	}
}

// allocatedDuring returns how many bytes f allocated.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// yoloInput is a YOLO image input, FP32 [1,3,640,640], with pixel-like
// values k/255.
func yoloInput() Tensor {
	const n = 3 * 640 * 640
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 4*n)
	for i := range n {
		codecLE.PutUint32(data[4*i:], math.Float32bits(float32(r.IntN(256))/255))
	}
	return Tensor{Name: "images", Datatype: FP32, Shape: []int64{1, 3, 640, 640}, Data: data}
}

func TestParametersWidenGoNumbers(t *testing.T) {
	p := Parameters{"priority": 3, "ratio": float32(0.5), "small": uint8(7)}
	m := ParametersToProto(p)
	if m["priority"].GetInt64Param() != 3 || m["ratio"].GetDoubleParam() != 0.5 || m["small"].GetUint64Param() != 7 {
		t.Errorf("proto parameters = %v", m)
	}
	body, _, err := EncodeHTTPRequest(&InferRequest{Parameters: p, Inputs: []Tensor{{Name: "x", Datatype: INT32, Shape: []int64{1}, Data: []byte{1, 0, 0, 0}}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"priority":3`) || !strings.Contains(string(body), `"ratio":0.5`) {
		t.Errorf("JSON parameters: %s", body)
	}
}

func TestCheckRejectsBoolBytesOtherThanZeroAndOne(t *testing.T) {
	bad := Tensor{Name: "b", Datatype: BOOL, Shape: []int64{3}, Data: []byte{0, 1, 2}}
	if err := bad.Check(); err == nil || CodeOf(err) != CodeInvalidArg || !strings.Contains(err.Error(), "element 2") {
		t.Errorf("Check = %v", err)
	}
}

package kserve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHeaderLength(t *testing.T) {
	for _, tc := range []struct {
		value   string
		bodyLen int
		want    int
		wantErr string // substring; "" for success
	}{
		{"", 10, -1, ""},
		{"0", 10, 0, ""},
		{"10", 10, 10, ""},
		{"7", 10, 7, ""},
		{" 7 ", 10, 7, ""},
		{"11", 10, 0, "'11'"},
		{"-1", 10, 0, "'-1'"},
		{"abc", 10, 0, "'abc'"},
		{"1.5", 10, 0, "'1.5'"},
		{"2147483648", math.MaxInt, 0, "'2147483648'"}, // beyond int32
		{"2147483647", math.MaxInt, math.MaxInt32, ""},
	} {
		got, err := ParseHeaderLength(tc.value, tc.bodyLen)
		if tc.wantErr != "" {
			wantInvalid(t, err, tc.wantErr)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseHeaderLength(%q, %d) = %d, %v; want %d", tc.value, tc.bodyLen, got, err, tc.want)
		}
	}
}

func TestHTTPRequestRoundTrip(t *testing.T) {
	for _, binary := range []bool{false, true} {
		t.Run(fmt.Sprintf("binary=%v", binary), func(t *testing.T) {
			inputs := jsonTensors()
			if binary {
				inputs = sampleTensors()
			}
			req := &InferRequest{
				ID:         "req-1 \"quoted\"",
				Parameters: Parameters{"binary_data_output": true, "priority": uint64(1 << 63), "timeout": int64(-7), "ratio": 0.25, "whole": 2.0, "s": "é"},
				Inputs:     inputs,
				Outputs: []RequestedOutput{
					{Name: "out0", Parameters: Parameters{"binary_data": false}},
					{Name: "out1"},
					{Name: "out2", Parameters: Parameters{"binary_data": true, "classification": int64(3)}},
				},
			}
			body, jsonLen, err := EncodeHTTPRequest(req, binary)
			if err != nil {
				t.Fatal(err)
			}
			jsonPart := body
			if binary {
				jsonPart = body[:jsonLen]
			}
			if !json.Valid(jsonPart) {
				t.Fatalf("JSON part is not valid JSON: %s", jsonPart)
			}
			if !binary && jsonLen != -1 {
				t.Fatalf("jsonLen = %d for a JSON body, want -1", jsonLen)
			}
			if binary {
				total := 0
				for _, in := range inputs {
					total += len(in.Data)
				}
				if len(body)-jsonLen != total {
					t.Fatalf("binary part is %d bytes, want %d", len(body)-jsonLen, total)
				}
			}
			got, err := DecodeHTTPRequest(body, jsonLen)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, body)
			}
			if d := diffRequests(got, req); d != "" {
				t.Fatalf("round trip differs:\n%s", d)
			}
			if got.OutputBinary("out0") || !got.OutputBinary("out1") || !got.OutputBinary("out2") {
				t.Errorf("OutputBinary after decode: out0 %v out1 %v out2 %v, want false true true",
					got.OutputBinary("out0"), got.OutputBinary("out1"), got.OutputBinary("out2"))
			}
			for _, in := range got.Inputs {
				if _, ok := in.Parameters[binaryDataSizeKey]; ok {
					t.Errorf("input %s: binary_data_size leaked into Parameters", in.Name)
				}
			}
		})
	}
}

func TestHTTPResponseRoundTrip(t *testing.T) {
	all := sampleTensors()
	for _, tc := range []struct {
		name    string
		outputs []Tensor
		binary  func(string) bool
	}{
		{"json", jsonTensors(), nil},
		{"binary", all, func(string) bool { return true }},
		{"mixed", all, func(name string) bool {
			return !DataType(strings.ToUpper(name)).JSONAllowed() || name == "uint8" || name == "empty"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &InferResponse{ModelName: "m", ModelVersion: "3", ID: "abc", Parameters: Parameters{"sequence_id": int64(9)}, Outputs: tc.outputs}
			body, jsonLen, err := EncodeHTTPResponse(resp, tc.binary)
			if err != nil {
				t.Fatal(err)
			}
			if (tc.binary == nil) != (jsonLen == -1) {
				t.Fatalf("jsonLen = %d", jsonLen)
			}
			got, err := DecodeHTTPResponse(body, jsonLen)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, body)
			}
			if d := diffResponses(got, resp); d != "" {
				t.Fatalf("round trip differs:\n%s", d)
			}
		})
	}
}

// TestHTTPRequestJSONExact pins the request layout: keys in order, data flat,
// parameters sorted, binary_data_size last.
func TestHTTPRequestJSONExact(t *testing.T) {
	req := &InferRequest{
		ID:         "7",
		Parameters: Parameters{"b": true, "a": "x"},
		Inputs: []Tensor{
			{Name: "x", Datatype: INT32, Shape: []int64{2, 2}, Data: rawOf[int32](1, -2, 3, 4), Parameters: Parameters{"binary_data_size": int64(99), "k": int64(1)}},
			{Name: "s", Datatype: BYTES, Shape: []int64{2}, Data: bytesOf("a\"", "")},
		},
		Outputs: []RequestedOutput{{Name: "y", Parameters: Parameters{"binary_data": true}}, {Name: "z"}},
	}
	body, jsonLen, err := EncodeHTTPRequest(req, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"7","parameters":{"a":"x","b":true},"inputs":[` +
		`{"name":"x","shape":[2,2],"datatype":"INT32","parameters":{"k":1},"data":[1,-2,3,4]},` +
		`{"name":"s","shape":[2],"datatype":"BYTES","data":["a\"",""]}],` +
		`"outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"z"}]}`
	if string(body) != want || jsonLen != -1 {
		t.Errorf("JSON request:\n got %s (%d)\nwant %s", body, jsonLen, want)
	}

	body, jsonLen, err = EncodeHTTPRequest(&InferRequest{Inputs: req.Inputs[:1]}, true)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"inputs":[{"name":"x","shape":[2,2],"datatype":"INT32","parameters":{"k":1,"binary_data_size":16}}]}`
	if string(body[:jsonLen]) != want || !bytes.Equal(body[jsonLen:], req.Inputs[0].Data) {
		t.Errorf("binary request:\n got %q\nwant %s + data", body, want)
	}
}

// TestHTTPResponseJSONExact pins Triton's response layout: id, model_name,
// model_version, parameters, outputs; an output's name, datatype, shape,
// then parameters or data; a 0-byte binary output has binary_data_size 0
// and no blob.
func TestHTTPResponseJSONExact(t *testing.T) {
	resp := &InferResponse{
		ModelName: "yolo", ModelVersion: "1", ID: "42", Parameters: Parameters{"p": 1.5},
		Outputs: []Tensor{
			{Name: "out", Datatype: FP32, Shape: []int64{3}, Data: rawOf[float32](1.5, -2, 1e-7)},
			{Name: "none", Datatype: UINT8, Shape: []int64{0}, Data: nil},
			{Name: "bin", Datatype: UINT8, Shape: []int64{2}, Data: []byte{7, 8}},
			{Name: "f", Datatype: BOOL, Shape: []int64{1}, Data: []byte{0}, Parameters: Parameters{"q": "r"}},
		},
	}
	binary := func(name string) bool { return name == "none" || name == "bin" }
	body, jsonLen, err := EncodeHTTPResponse(resp, binary)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"42","model_name":"yolo","model_version":"1","parameters":{"p":1.5},"outputs":[` +
		`{"name":"out","datatype":"FP32","shape":[3],"data":[1.5,-2,1e-07]},` +
		`{"name":"none","datatype":"UINT8","shape":[0],"parameters":{"binary_data_size":0}},` +
		`{"name":"bin","datatype":"UINT8","shape":[2],"parameters":{"binary_data_size":2}},` +
		`{"name":"f","datatype":"BOOL","shape":[1],"parameters":{"q":"r"},"data":[false]}]}`
	if jsonLen != len(want) || string(body[:jsonLen]) != want || string(body[jsonLen:]) != "\x07\x08" {
		t.Errorf("response:\n got %q (jsonLen %d)\nwant %s + 07 08", body, jsonLen, want)
	}

	// Without binary outputs and without id or parameters.
	body, jsonLen, err = EncodeHTTPResponse(&InferResponse{ModelName: "m", Outputs: resp.Outputs[:1]}, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	want = `{"model_name":"m","model_version":"","outputs":[{"name":"out","datatype":"FP32","shape":[3],"data":[1.5,-2,1e-07]}]}`
	if string(body) != want || jsonLen != -1 {
		t.Errorf("response:\n got %s (%d)\nwant %s", body, jsonLen, want)
	}
}

// TestTritonBinaryExample is the worked example of Triton's binary data
// extension: input0 UINT32 [2,2] and input1 BOOL [3] make JSON + 19 bytes;
// the FP32 [3,2] output is 24 bytes.
func TestTritonBinaryExample(t *testing.T) {
	header := `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}},` +
		`{"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}}],` +
		`"outputs":[{"name":"output0","parameters":{"binary_data":true}}]}`
	blob := append(rawOf[uint32](1, 2, 3, 4), 1, 0, 1)
	if len(blob) != 19 {
		t.Fatalf("blob is %d bytes", len(blob))
	}
	body := append([]byte(header), blob...)
	hl, err := ParseHeaderLength(fmt.Sprint(len(header)), len(body))
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeHTTPRequest(body, hl)
	if err != nil {
		t.Fatal(err)
	}
	want := &InferRequest{
		Inputs: []Tensor{
			{Name: "input0", Datatype: UINT32, Shape: []int64{2, 2}, Data: rawOf[uint32](1, 2, 3, 4)},
			{Name: "input1", Datatype: BOOL, Shape: []int64{3}, Data: []byte{1, 0, 1}},
		},
		Outputs: []RequestedOutput{{Name: "output0", Parameters: Parameters{"binary_data": true}}},
	}
	if d := diffRequests(req, want); d != "" {
		t.Fatal(d)
	}
	if !req.OutputBinary("output0") {
		t.Error("output0 not binary")
	}
	// The encoder makes the same layout.
	enc, jsonLen, err := EncodeHTTPRequest(want, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc)-jsonLen != 19 || !bytes.Equal(enc[jsonLen:], blob) {
		t.Errorf("encoded binary part % x, want % x", enc[jsonLen:], blob)
	}

	out := Tensor{Name: "output0", Datatype: FP32, Shape: []int64{3, 2}, Data: rawOf[float32](1, 2, 3, 4, 5, 6)}
	rb, rl, err := EncodeHTTPResponse(&InferResponse{ModelName: "m", ModelVersion: "1", Outputs: []Tensor{out}}, req.OutputBinary)
	if err != nil {
		t.Fatal(err)
	}
	if len(rb)-rl != 24 || !bytes.Contains(rb[:rl], []byte(`"parameters":{"binary_data_size":24}`)) || bytes.Contains(rb[:rl], []byte(`"data"`)) {
		t.Errorf("response %q", rb)
	}
}

func TestDecodeHTTPRequestNestedJSON(t *testing.T) {
	for _, tc := range []struct {
		data  string
		dt    DataType
		shape string
		want  []byte
	}{
		{`[[1,2,3],[4,5,6]]`, INT32, `[2,3]`, rawOf[int32](1, 2, 3, 4, 5, 6)},
		{`[1,2,3,4,5,6]`, INT32, `[2,3]`, rawOf[int32](1, 2, 3, 4, 5, 6)},
		{`[[[1],[2]],[[3],[4]]]`, UINT8, `[2,2,1]`, []byte{1, 2, 3, 4}},
		{`[[1,2],[3,[4]]]`, INT16, `[4]`, rawOf[int16](1, 2, 3, 4)}, // ragged nesting is flattened too
		{` [ [ 1.5 , -2e3 ] , [ 0 , 1E-2 ] ] `, FP64, `[2,2]`, rawOf(1.5, -2e3, 0.0, 1e-2)},
		{`[[true,false],[1,0]]`, BOOL, `[2,2]`, []byte{1, 0, 1, 0}},
		{`[["a","b\u00e9"],["\ud83d\ude00",""]]`, BYTES, `[2,2]`, bytesOf("a", "bé", "😀", "")},
		{`[[]]`, FP32, `[0]`, nil},
		{`[]`, BYTES, `[1,0]`, nil},
		{`[7]`, INT64, `[]`, rawOf[int64](7)},
		{`[-0,0]`, UINT32, `[2]`, rawOf[uint32](0, 0)},
		{`[1e-50, 3.4028235e38]`, FP32, `[2]`, rawOf[float32](0, math.MaxFloat32)},
	} {
		body := fmt.Sprintf(`{"inputs":[{"name":"x","datatype":"%s","shape":%s,"data":%s}]}`, tc.dt, tc.shape, tc.data)
		req, err := DecodeHTTPRequest([]byte(body), -1)
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if got := req.Inputs[0].Data; !bytes.Equal(got, tc.want) {
			t.Errorf("%s: data % x, want % x", body, got, tc.want)
		}
	}
}

func TestDecodeHTTPRequestParameters(t *testing.T) {
	body := `{"parameters":{"t":true,"f":false,"s":"x\ny","i":-5,"z":0,"u":18446744073709551615,` +
		`"big":9223372036854775807,"fl":1.5,"e":1e3,"fz":2.0,"neg0":-0,"huge":1e300},` +
		`"inputs":[{"name":"x","datatype":"BOOL","shape":[1],"data":[true],"parameters":{"k":"v","binary_data_size":null}}]}`
	// A null binary_data_size is not a size.
	_, err := DecodeHTTPRequest([]byte(body), -1)
	wantInvalid(t, err, "parameter 'binary_data_size'")

	body = strings.Replace(body, `,"binary_data_size":null`, "", 1)
	req, err := DecodeHTTPRequest([]byte(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := Parameters{
		"t": true, "f": false, "s": "x\ny", "i": int64(-5), "z": int64(0), "u": uint64(math.MaxUint64),
		"big": int64(math.MaxInt64), "fl": 1.5, "e": 1000.0, "fz": 2.0, "neg0": int64(0), "huge": 1e300,
	}
	if !reflect.DeepEqual(req.Parameters, want) {
		t.Errorf("parameters %#v\nwant %#v", req.Parameters, want)
	}
	if !reflect.DeepEqual(req.Inputs[0].Parameters, Parameters{"k": "v"}) {
		t.Errorf("input parameters %#v", req.Inputs[0].Parameters)
	}
	// Encoding keeps the types: 2.0 stays a float, large uint64 stays exact.
	enc, _, err := EncodeHTTPRequest(req, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"fz":2.0`, `"u":18446744073709551615`, `"e":1000.0`, `"huge":1e+300`} {
		if !bytes.Contains(enc, []byte(s)) {
			t.Errorf("encoded request lacks %s: %s", s, enc)
		}
	}
	again, err := DecodeHTTPRequest(enc, -1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Parameters, want) {
		t.Errorf("re-decoded parameters %#v", again.Parameters)
	}

	// Go's other numeric types are widened and sent as numbers, anything
	// else as a string; NaN cannot be sent.
	enc, _, err = EncodeHTTPRequest(&InferRequest{Parameters: Parameters{"n": 5, "f": float32(1.5), "s": []int{1}}}, false)
	if err != nil || !bytes.Contains(enc, []byte(`"f":1.5,"n":5,"s":"[1]"`)) {
		t.Errorf("odd types: %s, %v", enc, err)
	}
	_, _, err = EncodeHTTPRequest(&InferRequest{Parameters: Parameters{"nan": math.NaN()}}, false)
	wantInvalid(t, err, "nan", "NaN")
}

func TestDecodeHTTPRequestRawBinary(t *testing.T) {
	body := []byte{1, 2, 3, 4, 5}
	req, err := DecodeHTTPRequest(body, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &InferRequest{Inputs: []Tensor{{Data: body}}}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("raw request %#v, want %#v", req, want)
	}
	if &req.Inputs[0].Data[0] != &body[0] {
		t.Error("raw request data was copied")
	}
}

func TestDecodeHTTPRequestBinaryShares(t *testing.T) {
	in := Tensor{Name: "x", Datatype: UINT8, Shape: []int64{3}, Data: []byte{1, 2, 3}}
	body, jsonLen, err := EncodeHTTPRequest(&InferRequest{Inputs: []Tensor{in}}, true)
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeHTTPRequest(body, jsonLen)
	if err != nil {
		t.Fatal(err)
	}
	d := req.Inputs[0].Data
	if &d[0] != &body[jsonLen] {
		t.Error("binary data was copied")
	}
	if cap(d) != len(d) {
		t.Errorf("binary data has capacity %d beyond its length %d: appends would clobber the body", cap(d), len(d))
	}
}

func TestDecodeHTTPRequestErrors(t *testing.T) {
	// input builds a one-input request JSON.
	input := func(fields string) string { return `{"inputs":[{` + fields + `}]}` }
	bin := func(json string, blob ...byte) []byte { return append([]byte(json), blob...) }
	const x = `"name":"x",`
	for _, tc := range []struct {
		name      string
		body      []byte
		headerLen int // 0 means -1 here; raw binary is tested elsewhere
		want      []string
	}{
		{"bad JSON", []byte(`{"inputs":[`), 0, []string{"failed to parse the request JSON"}},
		{"not an object", []byte(`[1,2]`), 0, []string{"failed to parse the request JSON", "must be an object, not an array"}},
		{"syntax error offset", []byte(`{"inputs":[}`), 0, []string{"invalid character '}'", "at byte 11"}},
		{"inputs not an array", []byte(`{"inputs":5}`), 0, []string{"'inputs' must be an array, not a number"}},
		{"input not an object", []byte(`{"inputs":["x"]}`), 0, []string{"input 0 must be an object, not a string"}},
		{"name not a string", []byte(`{"inputs":[{"name":5}]}`), 0, []string{"input 0: 'name' must be a string, not a number"}},
		{"shape of strings", []byte(input(x + `"datatype":"FP32","shape":["1"],"data":[1]`)), 0, []string{"input 'x'", `dimension 0 is "1"`}},
		{"empty body", nil, 0, []string{"failed to parse the request JSON"}},
		{"id not a string", []byte(`{"id":5,"inputs":[]}`), 0, []string{"'id' must be a string, not a number"}},
		{"missing inputs", []byte(`{"outputs":[]}`), 0, []string{"no 'inputs'"}},
		{"null inputs", []byte(`{"inputs":null}`), 0, []string{"no 'inputs'"}},
		{"missing name", []byte(input(`"datatype":"FP32","shape":[1],"data":[1]`)), 0, []string{"input 0 has no 'name'"}},
		{"empty name", []byte(input(`"name":"","datatype":"FP32","shape":[1],"data":[1]`)), 0, []string{"input 0 has no 'name'"}},
		{"missing datatype", []byte(input(x + `"shape":[1],"data":[1]`)), 0, []string{"input 'x' has no 'datatype'"}},
		{"unknown datatype", []byte(input(x + `"datatype":"FP8","shape":[1],"data":[1]`)), 0, []string{"input 'x'", "unknown datatype 'FP8'"}},
		{"lower-case datatype", []byte(input(x + `"datatype":"fp32","shape":[1],"data":[1]`)), 0, []string{"unknown datatype 'fp32'"}},
		{"missing shape", []byte(input(x + `"datatype":"FP32","data":[1]`)), 0, []string{"input 'x' has no 'shape'"}},
		{"negative dim", []byte(input(x + `"datatype":"FP32","shape":[-1],"data":[1]`)), 0, []string{"input 'x'", "dimension 0 is -1"}},
		{"fractional dim", []byte(input(x + `"datatype":"FP32","shape":[1.5],"data":[1]`)), 0, []string{"dimension 0 is 1.5"}},
		{"shape not array", []byte(input(x + `"datatype":"FP32","shape":3,"data":[1]`)), 0, []string{"'shape' must be an array"}},
		{"too few elements", []byte(input(x + `"datatype":"INT32","shape":[3],"data":[1,2]`)), 0, []string{"input 'x'", "needs 3", "has 2"}},
		{"too many elements", []byte(input(x + `"datatype":"INT32","shape":[2],"data":[[1,2],[3]]`)), 0, []string{"input 'x'", "needs 2", "has 3"}},
		{"UINT8 300", []byte(input(x + `"datatype":"UINT8","shape":[2],"data":[1,300]`)), 0, []string{"input 'x'", "element 1", "300", "out of range for UINT8"}},
		{"UINT8 negative", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":[-1]`)), 0, []string{"-1", "out of range for UINT8"}},
		{"INT8 128", []byte(input(x + `"datatype":"INT8","shape":[1],"data":[128]`)), 0, []string{"128", "out of range for INT8"}},
		{"INT16 -32769", []byte(input(x + `"datatype":"INT16","shape":[1],"data":[-32769]`)), 0, []string{"out of range for INT16"}},
		{"UINT16 65536", []byte(input(x + `"datatype":"UINT16","shape":[1],"data":[65536]`)), 0, []string{"out of range for UINT16"}},
		{"INT32 2^31", []byte(input(x + `"datatype":"INT32","shape":[1],"data":[2147483648]`)), 0, []string{"out of range for INT32"}},
		{"UINT32 2^32", []byte(input(x + `"datatype":"UINT32","shape":[1],"data":[4294967296]`)), 0, []string{"out of range for UINT32"}},
		{"INT64 2^63", []byte(input(x + `"datatype":"INT64","shape":[1],"data":[9223372036854775808]`)), 0, []string{"9223372036854775808", "out of range for INT64"}},
		{"UINT64 2^64", []byte(input(x + `"datatype":"UINT64","shape":[1],"data":[18446744073709551616]`)), 0, []string{"out of range for UINT64"}},
		{"INT32 fraction", []byte(input(x + `"datatype":"INT32","shape":[1],"data":[1.5]`)), 0, []string{"1.5", "not a valid INT32"}},
		{"INT64 exponent", []byte(input(x + `"datatype":"INT64","shape":[1],"data":[1e3]`)), 0, []string{"1e3", "not a valid INT64"}},
		{"FP32 overflow", []byte(input(x + `"datatype":"FP32","shape":[1],"data":[1e39]`)), 0, []string{"1e39", "out of range for FP32"}},
		{"FP64 overflow", []byte(input(x + `"datatype":"FP64","shape":[1],"data":[1e309]`)), 0, []string{"out of range for FP64"}},
		{"FP32 string", []byte(input(x + `"datatype":"FP32","shape":[1],"data":["1"]`)), 0, []string{`"1"`, "not a valid FP32"}},
		{"FP32 bool", []byte(input(x + `"datatype":"FP32","shape":[1],"data":[true]`)), 0, []string{"true", "not a valid FP32"}},
		{"FP32 null", []byte(input(x + `"datatype":"FP32","shape":[1],"data":[null]`)), 0, []string{"null", "not a valid FP32"}},
		{"BOOL 2", []byte(input(x + `"datatype":"BOOL","shape":[1],"data":[2]`)), 0, []string{"not a valid BOOL"}},
		{"BOOL string", []byte(input(x + `"datatype":"BOOL","shape":[1],"data":["true"]`)), 0, []string{"not a valid BOOL"}},
		{"BYTES number", []byte(input(x + `"datatype":"BYTES","shape":[1],"data":[5]`)), 0, []string{"element 0", "not a string"}},
		{"object in data", []byte(input(x + `"datatype":"FP32","shape":[1],"data":[{"a":1}]`)), 0, []string{"unexpected '{'"}},
		{"data not an array", []byte(input(x + `"datatype":"FP32","shape":[],"data":5`)), 0, []string{"'data' must be an array"}},
		{"long value clipped", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":[` + strings.Repeat("9", 200) + `]`)), 0, []string{strings.Repeat("9", 64) + "..."}},
		{"FP16 in JSON", []byte(input(x + `"datatype":"FP16","shape":[1],"data":[1]`)), 0, []string{"receiving FP16 data via JSON is not supported. Please use the binary data format", "'x'"}},
		{"BF16 in JSON", []byte(input(x + `"datatype":"BF16","shape":[1],"data":[1]`)), 0, []string{"receiving BF16 data via JSON is not supported"}},
		{"data and binary", bin(input(x+`"datatype":"UINT8","shape":[1],"data":[1],"parameters":{"binary_data_size":1}`), 1), -2, []string{"both 'data' and parameter 'binary_data_size'"}},
		{"neither data nor binary", []byte(input(x + `"datatype":"UINT8","shape":[1]`)), 0, []string{"neither 'data' nor parameter 'binary_data_size'"}},
		{"null data", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":null`)), 0, []string{"neither 'data' nor"}},
		{"negative binary size", []byte(input(x + `"datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":-1}`)), 0, []string{"binary_data_size", "non-negative integer"}},
		{"string binary size", []byte(input(x + `"datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":"1"}`)), 0, []string{"binary_data_size", "non-negative integer"}},
		{"fractional binary size", []byte(input(x + `"datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":1.5}`)), 0, []string{"binary_data_size", "non-negative integer"}},
		{"binary size without header", bin(input(x+`"datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":1}`), 1), 0, []string{"expecting 1 additional bytes but only 0 remain"}},
		{"garbage after the JSON", bin(`{"inputs":[]}`, 1), 0, []string{"failed to parse the request JSON", "after the top-level value"}},
		{"duplicate data", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":[1],"data":[2]`)), 0, []string{"duplicate key \"data\""}},
		{"duplicate inputs", []byte(`{"inputs":[],"inputs":[]}`), 0, []string{"duplicate key \"inputs\""}},
		{"too deep", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":` + strings.Repeat("[", 10001) + "1" + strings.Repeat("]", 10001))), 0, []string{"nested more than 10000 levels"}},
		{"trailing comma", []byte(`{"inputs":[],}`), 0, []string{"invalid character '}'"}},
		{"invalid escape", []byte(`{"id":"\x","inputs":[]}`), 0, []string{"invalid character 'x'"}},
		{"control character in string", []byte("{\"id\":\"a\nb\",\"inputs\":[]}"), 0, []string{"invalid byte 0x0a"}},
		{"leading zero", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":[01]`)), 0, []string{"invalid character '1'"}},
		{"bare minus", []byte(input(x + `"datatype":"INT8","shape":[1],"data":[-]`)), 0, []string{"invalid character ']'"}},
		{"truncated literal", []byte(input(x + `"datatype":"BOOL","shape":[1],"data":[tru]`)), 0, []string{"invalid character ']'"}},
		{"name an array", []byte(input(`"name":["x"],"datatype":"UINT8","shape":[1],"data":[1]`)), 0, []string{"input 0: 'name' must be a string, not an array"}},
		{"truncated binary body", bin(input(x+`"datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}`), 1, 2, 3, 4), -2, []string{"unexpected size for input 'x', expecting 8 additional bytes", "only 4 remain"}},
		{"extra trailing bytes", bin(input(x+`"datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":1}`), 1, 2, 3, 4), -2, []string{"3 bytes after the last binary input"}},
		{"trailing bytes after JSON-only", bin(`{"inputs":[]}`, 9), -2, []string{"1 bytes after the last binary input"}},
		{"binary size mismatching shape", bin(input(x+`"datatype":"FP32","shape":[2],"parameters":{"binary_data_size":4}`), 1, 2, 3, 4), -2, []string{"tensor 'x'", "unexpected byte size 4", "expecting 8"}},
		{"binary BYTES malformed", bin(input(x+`"datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":4}`), 9, 0, 0, 0), -2, []string{"tensor 'x'", "runs past the end"}},
		{"params not an object", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":[1],"parameters":[1]`)), 0, []string{"input 'x'", "'parameters' must be an object, not an array"}},
		{"param value an array", []byte(`{"parameters":{"k":[1]},"inputs":[]}`), 0, []string{"request parameters", "parameter 'k'", "not a boolean, number or string"}},
		{"param value null", []byte(`{"parameters":{"k":null},"inputs":[]}`), 0, []string{"parameter 'k'", "not a boolean, number or string"}},
		{"param number overflow", []byte(`{"parameters":{"k":1e400},"inputs":[]}`), 0, []string{"parameter 'k'", "out of range"}},
		{"binary_data_output not bool", []byte(`{"parameters":{"binary_data_output":1},"inputs":[]}`), 0, []string{"'binary_data_output' must be a boolean"}},
		{"output without name", []byte(`{"inputs":[],"outputs":[{"parameters":{"binary_data":true}}]}`), 0, []string{"requested output 0 has no 'name'"}},
		{"outputs not an array", []byte(`{"inputs":[],"outputs":"all"}`), 0, []string{"'outputs' must be an array, not a string"}},
		{"output not an object", []byte(`{"inputs":[],"outputs":["y"]}`), 0, []string{"requested output 0 must be an object, not a string"}},
		{"output name a number", []byte(`{"inputs":[],"outputs":[{"name":1}]}`), 0, []string{"requested output 0: 'name' must be a string, not a number"}},
		{"output duplicate name", []byte(`{"inputs":[],"outputs":[{"name":"a","name":"b"}]}`), 0, []string{`duplicate key "name"`}},
		{"output bad parameters", []byte(`{"inputs":[],"outputs":[{"name":"y","parameters":5}]}`), 0, []string{"requested output 'y'", "'parameters' must be an object, not a number"}},
		{"datatype a number", []byte(input(x + `"datatype":5,"shape":[1],"data":[1]`)), 0, []string{"input 'x': 'datatype' must be a string, not a number"}},
		{"escaped key duplicate", []byte(input(x + `"datatype":"UINT8","shape":[1],"data":[1],"d\u0061ta":[2]`)), 0, []string{"duplicate key"}},
		{"binary_data not bool", []byte(`{"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":"yes"}}]}`), 0, []string{"requested output 'y'", "'binary_data' must be a boolean"}},
		{"unterminated nothing after header", bin(`{"inputs":[]}`), -3, []string{"inference header size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hl := -1
			switch tc.headerLen {
			case -2: // JSON part is everything up to the binary part
				hl = bytes.LastIndexByte(tc.body, '}') + 1
			case -3: // beyond the body
				hl = len(tc.body) + 1
			}
			req, err := DecodeHTTPRequest(tc.body, hl)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", req)
			}
			wantInvalid(t, err, tc.want...)
		})
	}
}

// TestDecodeHTTPRequestHugeDeclarations checks that sizes and shapes that
// promise more data than the body holds fail before anything is allocated
// for them.
func TestDecodeHTTPRequestHugeDeclarations(t *testing.T) {
	input := func(fields string) string { return `{"inputs":[{"name":"x",` + fields + `}]}` }
	for _, tc := range []struct {
		name      string
		body      string
		blob      int
		headerLen bool
		want      []string
	}{
		{"huge binary_data_size", input(`"datatype":"UINT8","shape":[1000000000000000],"parameters":{"binary_data_size":1000000000000000}`), 4, true, []string{"expecting 1000000000000000 additional bytes"}},
		{"binary_data_size beyond int64", input(`"datatype":"UINT8","shape":[1],"parameters":{"binary_data_size":18446744073709551615}`), 4, true, []string{"unexpected size for input 'x'"}},
		{"huge shape JSON", input(`"datatype":"FP64","shape":[1000000000000000],"data":[1]`), 0, false, []string{"needs 1000000000000000", "has 1"}},
		{"huge shape JSON BYTES", input(`"datatype":"BYTES","shape":[1000000000000000],"data":["a","b"]`), 0, false, []string{"needs 1000000000000000", "has 2"}},
		{"huge shape BYTES binary", input(`"datatype":"BYTES","shape":[1000000000000000],"parameters":{"binary_data_size":4}`), 4, true, []string{"expected 1000000000000000 BYTES elements"}},
		{"huge shape binary", input(`"datatype":"FP32","shape":[1000000000000000],"parameters":{"binary_data_size":4}`), 4, true, []string{"unexpected byte size 4", "expecting 4000000000000000"}},
		{"shape overflow", input(`"datatype":"FP32","shape":[4294967296,4294967296],"data":[1]`), 0, false, []string{"too many elements"}},
		{"shape bytes overflow", input(`"datatype":"FP64","shape":[4611686018427387904],"parameters":{"binary_data_size":4}`), 4, true, []string{"too many bytes"}},
		{"many elements just above body", input(`"datatype":"FP64","shape":[60],"data":[` + strings.Repeat("1,", 29) + `1]`), 0, false, []string{"needs 60", "has 30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := append([]byte(tc.body), make([]byte, tc.blob)...)
			hl := -1
			if tc.headerLen {
				hl = len(tc.body)
			}
			var err error
			alloc := allocatedDuring(func() { _, err = DecodeHTTPRequest(body, hl) })
			wantInvalid(t, err, tc.want...)
			if alloc > 10<<20 {
				t.Errorf("allocated %d bytes for a %d-byte body", alloc, len(body))
			}
		})
	}
}

func TestDecodeHTTPRequestBytesStrings(t *testing.T) {
	// Escapes of every kind, and invalid UTF-8 (which JSON strings cannot
	// carry; encoding/json turns it into U+FFFD, and so do we).
	data := `["plain","tab\there","q\"b\\s\/","\u0000\u001f","é","\ud83d\ude00","` + "\xff" + `"]`
	body := `{"inputs":[{"name":"s","datatype":"BYTES","shape":[7],"data":` + data + `}]}`
	req, err := DecodeHTTPRequest([]byte(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := bytesOf("plain", "tab\there", `q"b\s/`, "\x00\x1f", "é", "😀", "\uFFFD")
	if !bytes.Equal(req.Inputs[0].Data, want) {
		t.Errorf("BYTES data %q, want %q", req.Inputs[0].Data, want)
	}
}

func TestEncodeHTTPRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     Tensor
		binary bool
		want   []string
	}{
		{"FP16 as JSON", Tensor{Name: "h", Datatype: FP16, Shape: []int64{1}, Data: []byte{0, 0x3c}}, false, []string{"sending FP16 data via JSON is not supported", "input 'h'"}},
		{"BF16 as JSON", Tensor{Name: "h", Datatype: BF16, Shape: []int64{1}, Data: []byte{0, 0x3f}}, false, []string{"sending BF16 data via JSON"}},
		{"NaN as JSON", Tensor{Name: "f", Datatype: FP32, Shape: []int64{2}, Data: rawOf(float32(1), float32(math.NaN()))}, false, []string{"input 'f'", "element 1", "NaN"}},
		{"Inf as JSON", Tensor{Name: "f", Datatype: FP64, Shape: []int64{1}, Data: rawOf(math.Inf(-1))}, false, []string{"element 0", "-Inf"}},
		{"binary BYTES as JSON", Tensor{Name: "b", Datatype: BYTES, Shape: []int64{2}, Data: bytesOf("ok", "\xff\xfe")}, false, []string{"input 'b'", "element 1", "not valid UTF-8"}},
		{"short data", Tensor{Name: "s", Datatype: INT32, Shape: []int64{2}, Data: []byte{1, 2, 3, 4}}, true, []string{"tensor 's'", "unexpected byte size 4"}},
		{"unknown datatype", Tensor{Name: "u", Datatype: "INT128", Shape: []int64{1}}, true, []string{"unknown datatype 'INT128'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := EncodeHTTPRequest(&InferRequest{Inputs: []Tensor{tc.in}}, tc.binary)
			wantInvalid(t, err, tc.want...)
		})
	}
	// The same tensors are fine in binary, NaN included.
	nan := Tensor{Name: "f", Datatype: FP32, Shape: []int64{1}, Data: rawOf(float32(math.NaN()))}
	body, jl, err := EncodeHTTPRequest(&InferRequest{Inputs: []Tensor{nan}}, true)
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeHTTPRequest(body, jl)
	if err != nil || !bytes.Equal(req.Inputs[0].Data, nan.Data) {
		t.Errorf("NaN in binary: %v", err)
	}
}

func TestEncodeHTTPResponseErrors(t *testing.T) {
	h := Tensor{Name: "h", Datatype: FP16, Shape: []int64{1}, Data: []byte{0, 0x3c}}
	_, _, err := EncodeHTTPResponse(&InferResponse{Outputs: []Tensor{h}}, nil)
	wantInvalid(t, err, "sending FP16 data via JSON is not supported", "output 'h'")
	_, _, err = EncodeHTTPResponse(&InferResponse{Outputs: []Tensor{h}}, func(string) bool { return false })
	wantInvalid(t, err, "FP16")
	if _, _, err := EncodeHTTPResponse(&InferResponse{Outputs: []Tensor{h}}, func(string) bool { return true }); err != nil {
		t.Errorf("FP16 in binary: %v", err)
	}

	bad := Tensor{Name: "bad", Datatype: FP32, Shape: []int64{2}, Data: []byte{1}}
	_, _, err = EncodeHTTPResponse(&InferResponse{Outputs: []Tensor{bad}}, nil)
	if CodeOf(err) != CodeInternal || !strings.Contains(fmt.Sprint(err), "'bad'") {
		t.Errorf("inconsistent output: %v (code %v), want INTERNAL", err, CodeOf(err))
	}
}

func TestDecodeHTTPResponse(t *testing.T) {
	// Nested and lenient forms other servers send.
	body := `{"model_name":"m","model_version":2,"outputs":[` +
		`{"name":"a","datatype":"FP32","shape":[2,2],"data":[[1,2],[3,4]]},` +
		`{"name":"h","datatype":"FP16","shape":[2],"data":[1.5,-2]},` +
		`{"name":"b","datatype":"BF16","shape":[1],"data":[-2.5]},` +
		`{"name":"z","datatype":"UINT8","shape":[0],"parameters":{"binary_data_size":0,"x":1}},` +
		`{"name":"y","datatype":"UINT8","shape":[2],"parameters":{"binary_data_size":2}}]}`
	full := append([]byte(body), 5, 6)
	resp, err := DecodeHTTPResponse(full, len(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &InferResponse{ModelName: "m", ModelVersion: "2", Outputs: []Tensor{
		{Name: "a", Datatype: FP32, Shape: []int64{2, 2}, Data: rawOf[float32](1, 2, 3, 4)},
		{Name: "h", Datatype: FP16, Shape: []int64{2}, Data: rawOf(Float32ToFloat16(1.5), Float32ToFloat16(-2))},
		{Name: "b", Datatype: BF16, Shape: []int64{1}, Data: rawOf(Float32ToBFloat16(-2.5))},
		{Name: "z", Datatype: UINT8, Shape: []int64{0}, Data: []byte{}, Parameters: Parameters{"x": int64(1)}},
		{Name: "y", Datatype: UINT8, Shape: []int64{2}, Data: []byte{5, 6}},
	}}
	if d := diffResponses(resp, want); d != "" {
		t.Error(d)
	}

	for _, tc := range []struct {
		name      string
		body      string
		headerLen int
		want      []string
	}{
		{"bad JSON", `{"outputs":`, -1, []string{"failed to parse the response JSON"}},
		{"raw header length", `{}`, 0, []string{"inference header size 0"}},
		{"header too long", `{}`, 3, []string{"inference header size"}},
		{"FP16 overflow", `{"outputs":[{"name":"h","datatype":"FP16","shape":[1],"data":[70000]}]}`, -1, []string{"output 'h'", "out of range for FP16"}},
		{"count mismatch", `{"outputs":[{"name":"o","datatype":"INT8","shape":[3],"data":[1]}]}`, -1, []string{"output 'o'", "needs 3"}},
		{"short binary", `{"outputs":[{"name":"o","datatype":"INT8","shape":[3],"parameters":{"binary_data_size":3}}]}`, -1, []string{"output 'o'", "expecting 3 additional bytes"}},
		{"version an object", `{"model_version":{},"outputs":[]}`, -1, []string{"model_version"}},
		{"output without datatype", `{"outputs":[{"name":"o","shape":[1],"data":[1]}]}`, -1, []string{"output 'o' has no 'datatype'"}},
		{"not an object", `"x"`, -1, []string{"must be an object, not a string"}},
		{"empty", ``, -1, []string{"unexpected end of JSON input"}},
		{"outputs not an array", `{"outputs":{}}`, -1, []string{"'outputs' must be an array, not an object"}},
		{"output not an object", `{"outputs":[[]]}`, -1, []string{"output 0 must be an object, not an array"}},
		{"duplicate outputs", `{"outputs":[],"outputs":[]}`, -1, []string{`duplicate key "outputs"`}},
		{"duplicate model_name", `{"model_name":"a","model_name":"b"}`, -1, []string{`duplicate key "model_name"`}},
		{"model_name a number", `{"model_name":1}`, -1, []string{"'model_name' must be a string, not a number"}},
		{"id a boolean", `{"id":true}`, -1, []string{"'id' must be a string, not a boolean"}},
		{"bad parameters", `{"parameters":{"a":{}}}`, -1, []string{"response parameters", "parameter 'a'"}},
		{"trailing bytes", `{"outputs":[]}`, -2, []string{"1 bytes after the last binary output"}},
		{"syntax error in outputs", `{"outputs":[{"name":"o",}]}`, -1, []string{"failed to parse the response JSON", "invalid character '}'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, hl := []byte(tc.body), tc.headerLen
			if hl == -2 {
				body, hl = append(body, 0), len(body)
			}
			_, err := DecodeHTTPResponse(body, hl)
			wantInvalid(t, err, tc.want...)
		})
	}
}

func TestHTTPError(t *testing.T) {
	for _, msg := range []string{
		"",
		"Request for unknown model: 'x' is not found",
		`quotes " and \ backslashes`,
		"new\nline, tab\t, nul \x00, bell \a, del \x7f",
		"unicode é 日本 😀 \u2028",
		"invalid \xff utf-8 \xc3",
		"html <b>&</b>",
	} {
		body := EncodeHTTPError(msg)
		if !json.Valid(body) {
			t.Errorf("EncodeHTTPError(%q) = %s, not valid JSON", msg, body)
			continue
		}
		var std map[string]string
		if err := json.Unmarshal(body, &std); err != nil || len(std) != 1 {
			t.Errorf("EncodeHTTPError(%q) = %s: %v", msg, body, err)
		}
		// What encoding/json makes of the same message.
		ref, _ := json.Marshal(msg)
		var want string
		_ = json.Unmarshal(ref, &want)
		if got := DecodeHTTPError(body); got != want || std["error"] != want {
			t.Errorf("DecodeHTTPError(EncodeHTTPError(%q)) = %q, want %q", msg, got, want)
		}
		if utf8.ValidString(msg) && want != msg {
			t.Errorf("valid message %q changed", msg)
		}
	}
	if got := string(EncodeHTTPError(`a"b`)); got != `{"error":"a\"b"}` {
		t.Errorf("EncodeHTTPError = %s", got)
	}

	long := strings.Repeat("x", 600)
	for _, tc := range []struct{ body, want string }{
		{`{"error":"model not ready"}`, "model not ready"},
		{` {"error" : "with spaces", "extra": 1} `, "with spaces"},
		{`{"error":""}`, ""},
		{"  upstream connect error\n", "upstream connect error"},
		{`{"error":5}`, `{"error":5}`},
		{`{"message":"x"}`, `{"message":"x"}`},
		{"", ""},
		{long, long[:512]},
		{strings.Repeat("é", 300), strings.Repeat("é", 256)}, // cut on a rune boundary
		{strings.Repeat("a", 511) + "é", strings.Repeat("a", 511)},
	} {
		if got := DecodeHTTPError([]byte(tc.body)); got != tc.want {
			t.Errorf("DecodeHTTPError(%.40q) = %.40q (%d bytes), want %.40q (%d bytes)", tc.body, got, len(got), tc.want, len(tc.want))
		}
	}
}

func TestAppendJSONQuotedMatchesEncodingJSON(t *testing.T) {
	// Every byte value alone and in context.
	for c := 0; c < 256; c++ {
		for _, s := range []string{string(rune(c)), string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "é"} {
			got := appendJSONQuoted(nil, s)
			if !json.Valid(got) {
				t.Fatalf("appendJSONQuoted(%q) = %s, invalid JSON", s, got)
			}
			var back, want string
			_ = json.Unmarshal(got, &back)
			ref, _ := json.Marshal(s)
			_ = json.Unmarshal(ref, &want)
			if back != want {
				t.Fatalf("appendJSONQuoted(%q) reads back as %q, encoding/json as %q", s, back, want)
			}
			if b := appendJSONQuoted(nil, []byte(s)); !bytes.Equal(b, got) {
				t.Fatalf("string and []byte forms differ for %q", s)
			}
		}
	}
}

func TestYOLORoundTripHTTPBinary(t *testing.T) {
	in := yoloInput()
	req := &InferRequest{Inputs: []Tensor{in}, Outputs: []RequestedOutput{{Name: "output0", Parameters: Parameters{"binary_data": true}}}}
	body, jsonLen, err := EncodeHTTPRequest(req, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(body) - jsonLen; got != 4915200 {
		t.Fatalf("binary part %d bytes, want 4915200", got)
	}
	got, err := DecodeHTTPRequest(body, jsonLen)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRequests(got, req); d != "" {
		t.Fatal(d)
	}

	out := Tensor{Name: "output0", Datatype: FP32, Shape: []int64{1, 84, 8400}, Data: make([]byte, 84*8400*4)}
	rb, rl, err := EncodeHTTPResponse(&InferResponse{ModelName: "yolo", ModelVersion: "1", Outputs: []Tensor{out}}, got.OutputBinary)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rb[:rl], []byte(`"binary_data_size":2822400`)) {
		t.Errorf("response JSON %s", rb[:rl])
	}
	resp, err := DecodeHTTPResponse(rb, rl)
	if err != nil || !bytes.Equal(resp.Outputs[0].Data, out.Data) {
		t.Fatalf("response round trip: %v", err)
	}
}

func TestYOLORoundTripHTTPJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("slow in -short mode")
	}
	in := yoloInput()
	req := &InferRequest{Inputs: []Tensor{in}}
	body, _, err := EncodeHTTPRequest(req, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeHTTPRequest(body, -1)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRequests(got, req); d != "" {
		t.Fatal(d)
	}
}

// TestDecodeHTTPRequestStructureAllocation checks that many small JSON
// values cost a small multiple of their size, not of a Go structure's.
func TestDecodeHTTPRequestStructureAllocation(t *testing.T) {
	const n = 1 << 18
	for _, tc := range []struct {
		name string
		body string
	}{
		{"empty inputs", `{"inputs":[` + strings.Repeat(`{},`, n) + `{}]}`},
		{"nameless inputs", `{"inputs":[` + strings.Repeat(`{"name":"a"},`, n) + `{}]}`},
		{"empty outputs", `{"inputs":[],"outputs":[` + strings.Repeat(`{},`, n) + `{}]}`},
		{"long shape", `{"inputs":[{"name":"x","datatype":"INT8","shape":[` + strings.Repeat("0,", n) + `0],"data":[]}]}`},
		{"many inputs", `{"inputs":[` + strings.Repeat(`{"name":"a","datatype":"BOOL","shape":[],"data":[1]},`, n/16) + `{}]}`},
		{"many parameters", `{"inputs":[],"parameters":{` + manyKeys(n) + `"a":1}}`},
		{"many scalars", `{"inputs":[{"name":"x","datatype":"BOOL","shape":[1],"data":[1]}],"extra":[` + strings.Repeat(`1,`, n) + `1]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			alloc := allocatedDuring(func() { _, _ = DecodeHTTPRequest(body, -1) })
			ratio := float64(alloc) / float64(len(body))
			t.Logf("%.1fx", ratio)
			if ratio > 16 {
				t.Errorf("allocated %d bytes for a %d-byte body (%.1fx)", alloc, len(body), ratio)
			}
		})
	}
}

// manyKeys makes n distinct parameter members, "k0":1,"k1":1,...
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `"%x":1,`, i)
	}
	return b.String()
}

func TestDecodeHTTPRequestIgnoresUnknownKeys(t *testing.T) {
	body := `{"model_name":"m","extra":{"a":[1,{"b":null}]},"inputs":[{"name":"x","unit":"px","datatype":"UINT8","shape":[1],"data":[7],"Data":[1,2]}],` +
		`"outputs":[{"name":"y","note":true}],"id":"i"}`
	req, err := DecodeHTTPRequest([]byte(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := &InferRequest{ID: "i", Inputs: []Tensor{{Name: "x", Datatype: UINT8, Shape: []int64{1}, Data: []byte{7}}}, Outputs: []RequestedOutput{{Name: "y"}}}
	if d := diffRequests(req, want); d != "" {
		t.Error(d)
	}
	// An escaped key is the key it spells.
	req, err = DecodeHTTPRequest([]byte(`{"inputs":[{"n\u0061me":"x","datatype":"UINT8","shape":[1],"data":[7]}]}`), -1)
	if err != nil || req.Inputs[0].Name != "x" {
		t.Errorf("escaped key: %+v, %v", req, err)
	}
}

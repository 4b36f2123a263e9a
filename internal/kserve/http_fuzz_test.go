package kserve

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeHTTPRequest feeds DecodeHTTPRequest arbitrary bodies and header
// lengths. It must not panic, must fail only with INVALID_ARG, and whatever
// it accepts must pass Check and survive re-encoding (binary always, JSON
// when JSON can carry the data) unchanged.
func FuzzDecodeHTTPRequest(f *testing.F) {
	add := func(body string, headerLen int) { f.Add([]byte(body), headerLen) }
	addBin := func(json, blob string) { f.Add([]byte(json+blob), len(json)) }
	addReq := func(req *InferRequest, binary bool) {
		body, jsonLen, err := EncodeHTTPRequest(req, binary)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, jsonLen)
	}
	// JSON, flat and nested, every JSON datatype.
	addReq(&InferRequest{ID: "1", Parameters: Parameters{"binary_data_output": true, "p": 1.5}, Inputs: jsonTensors(),
		Outputs: []RequestedOutput{{Name: "o", Parameters: Parameters{"binary_data": false}}}}, false)
	add(`{"inputs":[{"name":"x","shape":[2,2],"datatype":"INT32","data":[[1,2],[3,4]]}]}`, -1)
	add(`{"inputs":[{"name":"x","shape":[2,1,2],"datatype":"FP32","data":[[[1.5,-2e-3]],[[0,1E+2]]]}]}`, -1)
	add(`{"inputs":[{"name":"b","shape":[3],"datatype":"BYTES","data":["a\"\\\u00e9\ud83d\ude00","",  "x"]}]}`, -1)
	add(`{"inputs":[{"name":"b","shape":[4],"datatype":"BOOL","data":[true,false,1,0]}]}`, -1)
	add(`{"id":"","parameters":{"u":18446744073709551615,"i":-9223372036854775808,"s":"x","b":false},"inputs":[]}`, -1)
	// Binary, every datatype; Triton's worked example.
	addReq(&InferRequest{Inputs: sampleTensors()}, true)
	ex := `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}},` +
		`{"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}}],` +
		`"outputs":[{"name":"output0","parameters":{"binary_data":true}}]}`
	addBin(ex, "\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x01\x00\x01")
	// Raw binary.
	add("\x00\x01\x02\x03", 0)
	add("", 0)
	// Malformed.
	add(`{"inputs":[`, -1)
	add(`{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","data":[300]}]}`, -1)
	add(`{"inputs":[{"name":"x","shape":[1],"datatype":"FP16","data":[1]}]}`, -1)
	add(`{"inputs":[{"name":"x","shape":[1000000000000000],"datatype":"FP32","data":[1]}]}`, -1)
	addBin(`{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","parameters":{"binary_data_size":1000000000000000}}]}`, "\x01")
	addBin(`{"inputs":[{"name":"x","shape":[2],"datatype":"UINT8","parameters":{"binary_data_size":2}}]}`, "\x01")
	addBin(`{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","parameters":{"binary_data_size":1}}]}`, "\x01\x02")
	addBin(`{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","data":[1],"parameters":{"binary_data_size":1}}]}`, "\x01")
	add(`{}`, 5)
	add(`{}`, -7)

	f.Fuzz(func(t *testing.T, body []byte, headerLen int) {
		orig := bytes.Clone(body)
		req, err := DecodeHTTPRequest(body, headerLen)
		if !bytes.Equal(body, orig) {
			t.Fatal("DecodeHTTPRequest modified the body")
		}
		if err != nil {
			if CodeOf(err) != CodeInvalidArg {
				t.Fatalf("error with code %v: %v", CodeOf(err), err)
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			return
		}
		if headerLen == 0 {
			if len(req.Inputs) != 1 || !bytes.Equal(req.Inputs[0].Data, body) || req.Inputs[0].Name != "" {
				t.Fatalf("raw binary request decoded as %+v", req)
			}
			return
		}
		for i := range req.Inputs {
			if err := req.Inputs[i].Check(); err != nil {
				t.Fatalf("decoded input fails Check: %v", err)
			}
			if _, ok := req.Inputs[i].Parameters[binaryDataSizeKey]; ok {
				t.Fatal("binary_data_size left in the input's parameters")
			}
		}

		enc, jsonLen, err := EncodeHTTPRequest(req, true)
		if err != nil {
			t.Fatalf("re-encoding in binary: %v", err)
		}
		again, err := DecodeHTTPRequest(enc, jsonLen)
		if err != nil {
			t.Fatalf("decoding the binary re-encoding: %v\n%q", err, enc)
		}
		if d := diffRequests(again, req); d != "" {
			t.Fatalf("binary re-encoding differs:\n%s", d)
		}

		if !fuzzJSONable(req) {
			return
		}
		enc, jsonLen, err = EncodeHTTPRequest(req, false)
		if err != nil {
			t.Fatalf("re-encoding as JSON: %v", err)
		}
		again, err = DecodeHTTPRequest(enc, jsonLen)
		if err != nil {
			t.Fatalf("decoding the JSON re-encoding: %v\n%s", err, enc)
		}
		if d := diffRequests(again, req); d != "" {
			t.Fatalf("JSON re-encoding differs:\n%s\n%s", d, enc)
		}
	})
}

// fuzzJSONable reports whether JSON can carry a request's inputs exactly:
// no FP16 or BF16, no NaN or Inf, BOOL bytes 0 or 1, BYTES valid UTF-8.
func fuzzJSONable(req *InferRequest) bool {
	le := binary.LittleEndian
	for _, t := range req.Inputs {
		d := t.Data
		switch t.Datatype {
		case FP16, BF16:
			return false
		case BOOL:
			for _, b := range d {
				if b > 1 {
					return false
				}
			}
		case FP32:
			for i := 0; i < len(d); i += 4 {
				v := float64(math.Float32frombits(le.Uint32(d[i:])))
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return false
				}
			}
		case FP64:
			for i := 0; i < len(d); i += 8 {
				v := math.Float64frombits(le.Uint64(d[i:]))
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return false
				}
			}
		case BYTES:
			elems, err := SplitBytes(d)
			if err != nil {
				return false
			}
			for _, e := range elems {
				if !utf8.Valid(e) {
					return false
				}
			}
		}
	}
	return true
}

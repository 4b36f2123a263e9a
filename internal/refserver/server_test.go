package refserver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

// tinyModel is a small FP32 model: x [1,4] -> y [1,8].
func tinyModel(name string, em refserver.Emulator) refserver.ModelSpec {
	return refserver.ModelSpec{
		Name:     name,
		Emulator: em,
		Inputs:   []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{1, 4}}},
		Outputs:  []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{1, 8}}},
	}
}

// halfModel has an FP16 output, which Triton sends in binary only.
func halfModel() refserver.ModelSpec {
	m := tinyModel("half", refserver.NewFIFO(0))
	m.Outputs = []kserve.TensorMetadata{{Name: "h", Datatype: kserve.FP16, Shape: []int64{8}}}
	return m
}

// start serves the models on loopback with ephemeral ports until the test ends.
func start(t *testing.T, opts refserver.Options) (*refserver.Server, *refserver.Running) {
	t.Helper()
	srv, err := refserver.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	running, err := srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0", GRPC: "127.0.0.1:0", Metrics: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := running.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv, running
}

type httpAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a httpAnswer) errorMessage(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
		t.Fatalf("status %d: body %q is not Triton's {\"error\": ...}", a.status, a.body)
	}
	return e.Error
}

func send(t *testing.T, method, url string, body []byte, header map[string]string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpAnswer{resp.StatusCode, resp.Header, b}
}

func fp32le(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestHTTPEndpoints(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}})
	base := "http://" + r.HTTPAddr

	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/tiny/ready", "/v2/models/tiny/versions/1/ready"} {
		a := send(t, "GET", base+path, nil, nil)
		if a.status != 200 || len(a.body) != 0 {
			t.Errorf("GET %s: %d %q, want 200 with an empty body (Triton)", path, a.status, a.body)
		}
	}

	a := send(t, "GET", base+"/v2", nil, nil)
	var smd kserve.ServerMetadata
	if err := json.Unmarshal(a.body, &smd); err != nil || a.status != 200 || smd.Name == "" || !strings.Contains(strings.Join(smd.Extensions, ","), "binary_tensor_data") {
		t.Errorf("GET /v2: %d %s", a.status, a.body)
	}

	a = send(t, "GET", base+"/v2/models/tiny", nil, nil)
	var md kserve.ModelMetadata
	if err := json.Unmarshal(a.body, &md); err != nil || a.status != 200 {
		t.Fatalf("GET model metadata: %d %s", a.status, a.body)
	}
	if md.Name != "tiny" || len(md.Versions) != 1 || md.Versions[0] != "1" || md.Inputs[0].Name != "x" || fmt.Sprint(md.Inputs[0].Shape) != "[1 4]" || md.Outputs[0].Datatype != kserve.FP32 {
		t.Errorf("model metadata = %+v", md)
	}

	a = send(t, "GET", base+"/v2/models/tiny/config", nil, nil)
	var cfg map[string]any
	if err := json.Unmarshal(a.body, &cfg); err != nil || a.status != 200 {
		t.Fatalf("GET config: %d %s", a.status, a.body)
	}
	in := cfg["input"].([]any)[0].(map[string]any)
	if in["data_type"] != "TYPE_FP32" || fmt.Sprint(in["dims"]) != "[1 4]" || cfg["max_batch_size"] != float64(0) {
		t.Errorf("config does not look like Triton's (data_type TYPE_FP32, dims as numbers): %s", a.body)
	}

	// Wrong method, unknown routes, unknown model and version.
	if a := send(t, "GET", base+"/v2/models/tiny/infer", nil, nil); a.status != 405 || a.errorMessage(t) != "Method Not Allowed" {
		t.Errorf("GET infer: %d %s, want 405", a.status, a.body)
	}
	for _, path := range []string{"/v3", "/v2/models/tiny/versions/one/ready", "/v2/models/a/b"} {
		if a := send(t, "GET", base+path, nil, nil); a.status != 404 || a.errorMessage(t) != "Not Found" {
			t.Errorf("GET %s: %d %s, want 404 Not Found", path, a.status, a.body)
		}
	}
	if a := send(t, "GET", base+"/v2/models/nope", nil, nil); a.status != 400 || a.errorMessage(t) != "Request for unknown model: 'nope' is not found" {
		t.Errorf("unknown model: %d %s, want 400", a.status, a.body)
	}
	if a := send(t, "GET", base+"/v2/models/tiny/versions/7/ready", nil, nil); a.status != 404 || !strings.Contains(a.errorMessage(t), "version 7") {
		t.Errorf("unknown version: %d %s, want 404", a.status, a.body)
	}
}

// infer sends a JSON inference request and returns the answer.
func inferJSON(t *testing.T, base, model, body string) httpAnswer {
	t.Helper()
	return send(t, "POST", base+"/v2/models/"+model+"/infer", []byte(body), map[string]string{"Content-Type": "application/json"})
}

func TestHTTPInferJSONAndBinary(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}})
	base := "http://" + r.HTTPAddr
	x := kserve.Tensor{Name: "x", Datatype: kserve.FP32, Shape: []int64{1, 4}, Data: fp32le(1, 2, 3, 4)}
	want := kserve.Fingerprint([]kserve.Tensor{x})

	// JSON in (nested data), JSON out, id echoed.
	a := inferJSON(t, base, "tiny", `{"id":"r1","inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[[1,2],[3,4]]}]}`)
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON infer: %d %s", a.status, a.body)
	}
	resp, err := kserve.DecodeHTTPResponse(a.body, -1)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "r1" || resp.ModelName != "tiny" || resp.ModelVersion != "1" {
		t.Errorf("response header fields = %+v", resp)
	}
	if fp, ok := kserve.ReadFingerprint(resp.Output("y")); !ok || fp != want {
		t.Errorf("fingerprint = %08x %v, want %08x", fp, ok, want)
	}
	if !bytes.HasPrefix(a.body, []byte(`{"id":"r1","model_name":"tiny","model_version":"1","outputs":[`)) {
		t.Errorf("keys not in Triton's order: %s", a.body)
	}

	// Binary in, binary out.
	body, jsonLen, err := kserve.EncodeHTTPRequest(&kserve.InferRequest{Inputs: []kserve.Tensor{x}, Parameters: kserve.Parameters{"binary_data_output": true}}, true)
	if err != nil {
		t.Fatal(err)
	}
	a = send(t, "POST", base+"/v2/models/tiny/infer", body, map[string]string{kserve.HeaderContentLength: fmt.Sprint(jsonLen)})
	if a.status != 200 || a.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("binary infer: %d %s", a.status, a.body)
	}
	hl, err := kserve.ParseHeaderLength(a.header.Get(kserve.HeaderContentLength), len(a.body))
	if err != nil || hl <= 0 || len(a.body)-hl != 32 {
		t.Fatalf("binary response: header length %d (%v), body %d bytes, want 32 bytes of data after the JSON", hl, err, len(a.body))
	}
	if strings.Contains(string(a.body[:hl]), `"data"`) || !strings.Contains(string(a.body[:hl]), `"binary_data_size":32`) {
		t.Errorf("binary output JSON: %s", a.body[:hl])
	}

	// Triton's raw binary request: header 0, the body is the only input; every output comes back binary.
	a = send(t, "POST", base+"/v2/models/tiny/infer", x.Data, map[string]string{kserve.HeaderContentLength: "0"})
	if a.status != 200 || a.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("raw binary infer: %d %s", a.status, a.body)
	}
	hl, _ = kserve.ParseHeaderLength(a.header.Get(kserve.HeaderContentLength), len(a.body))
	resp, err = kserve.DecodeHTTPResponse(a.body, hl)
	if err != nil {
		t.Fatal(err)
	}
	if fp, _ := kserve.ReadFingerprint(resp.Output("y")); fp != want {
		t.Errorf("raw binary fingerprint = %08x, want %08x", fp, want)
	}

	// gzip request body, as Triton accepts.
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write([]byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`))
	zw.Close()
	a = send(t, "POST", base+"/v2/models/tiny/infer", zbuf.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	if a.status != 200 {
		t.Errorf("gzip infer: %d %s", a.status, a.body)
	}
}

func TestHTTPMalformedRequests(t *testing.T) {
	_, r := start(t, refserver.Options{
		Models:         []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0)), halfModel()},
		MaxRequestSize: 1 << 20,
	})
	base := "http://" + r.HTTPAddr
	binaryBody := func(declared int, data []byte) ([]byte, string) {
		js := fmt.Sprintf(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"parameters":{"binary_data_size":%d}}]}`, declared)
		return append([]byte(js), data...), fmt.Sprint(len(js))
	}
	trunc, truncLen := binaryBody(16, fp32le(1, 2))
	huge, hugeLen := binaryBody(1<<40, fp32le(1, 2, 3, 4))
	good, goodLen := binaryBody(16, fp32le(1, 2, 3, 4))
	tests := []struct {
		name    string
		model   string
		body    []byte
		header  map[string]string
		status  int
		message string // a part of the error message
	}{
		{"bad JSON", "tiny", []byte(`{"inputs":[`), nil, 400, ""},
		{"not an object", "tiny", []byte(`[1,2]`), nil, 400, ""},
		{"data length does not match shape", "tiny", []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3]}]}`), nil, 400, "x"},
		{"wrong datatype", "tiny", []byte(`{"inputs":[{"name":"x","datatype":"INT32","shape":[1,4],"data":[1,2,3,4]}]}`), nil, 400, "data-type is 'INT32', but model 'tiny' expects 'FP32'"},
		{"wrong shape", "tiny", []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[1,2,3,4]}]}`), nil, 400, "unexpected shape for input 'x'"},
		{"unknown input", "tiny", []byte(`{"inputs":[{"name":"z","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`), nil, 400, "unexpected inference input 'z'"},
		{"no inputs", "tiny", []byte(`{"inputs":[]}`), nil, 400, "expected 1 inputs but got 0"},
		{"unknown output", "tiny", []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"q"}]}`), nil, 400, "unexpected inference output 'q'"},
		{"unknown model", "nope", []byte(`{"inputs":[]}`), nil, 400, "Request for unknown model: 'nope' is not found"},
		{"unknown version", "tiny/versions/3", good, map[string]string{kserve.HeaderContentLength: goodLen}, 404, "version 3"},
		{"binary without header", "tiny", good, nil, 400, ""},
		{"header larger than body", "tiny", good, map[string]string{kserve.HeaderContentLength: "100000"}, 400, "100000"},
		{"header negative", "tiny", good, map[string]string{kserve.HeaderContentLength: "-5"}, 400, "-5"},
		{"header not a number", "tiny", good, map[string]string{kserve.HeaderContentLength: "abc"}, 400, "abc"},
		{"header wrong (too small)", "tiny", good, map[string]string{kserve.HeaderContentLength: "10"}, 400, ""},
		{"truncated binary body", "tiny", trunc, map[string]string{kserve.HeaderContentLength: truncLen}, 400, ""},
		{"huge declared binary size", "tiny", huge, map[string]string{kserve.HeaderContentLength: hugeLen}, 400, ""},
		{"huge declared shape", "tiny", []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1000000000,1000000000],"data":[1]}]}`), nil, 400, ""},
		{"body over the maximum", "tiny", bytes.Repeat([]byte(" "), 2<<20), nil, 400, "maximum"},
		{"FP16 in JSON", "tiny", []byte(`{"inputs":[{"name":"x","datatype":"FP16","shape":[1,4],"data":[1,2,3,4]}]}`), nil, 400, "FP16"},
		{"bad gzip", "tiny", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"}, 400, "gzip"},
		{"FP16 output asked for as JSON", "half", []byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`), nil, 400, "sending FP16 data via JSON is not supported"},
		{"unsupported encoding", "tiny", good, map[string]string{"Content-Encoding": "br"}, 501, "br"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			a := send(t, "POST", base+"/v2/models/"+tt.model+"/infer", tt.body, tt.header)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.status, a.body)
			}
			msg := a.errorMessage(t)
			if !strings.Contains(msg, tt.message) {
				t.Errorf("message %q does not mention %q", msg, tt.message)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("the request made the process allocate %d MB", grew>>20)
			}
		})
	}
	// Nothing malformed reached the model: the statistics count no request.
	a := send(t, "GET", base+"/v2/models/stats", nil, nil)
	if strings.Count(string(a.body), `"success":{"count":0,"ns":0}`) != 2 || strings.Count(string(a.body), `"fail":{"count":0,"ns":0}`) != 2 || !strings.Contains(string(a.body), `"success":{"count":0,"ns":0}`) || !strings.Contains(string(a.body), `"fail":{"count":0,"ns":0}`) {
		t.Errorf("malformed requests were counted: %s", a.body)
	}
}

package refserver_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

func compressed(t *testing.T, e compress.Encoding, b []byte) []byte {
	t.Helper()
	out, err := compress.Compress(e, b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func rawDeflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestHTTPRequestCodings: request bodies in gzip and deflate (zlib as
// tritonclient sends it, and raw DEFLATE) are decoded, over the KServe and
// the plain API; a body that inflates past the maximum request size is
// refused; a coding the server does not speak is 501 (Triton's UNSUPPORTED) with
// its name.
func TestHTTPRequestCodings(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}, MaxRequestSize: 1 << 20})
	url := "http://" + r.HTTPAddr + "/v2/models/tiny/infer"
	body := []byte(tinyJSON)
	for name, tc := range map[string]struct {
		coding string
		body   []byte
	}{
		"gzip":          {"gzip", compressed(t, compress.Gzip, body)},
		"deflate, zlib": {"deflate", compressed(t, compress.Deflate, body)},
		"deflate, raw":  {"deflate", rawDeflate(body)},
	} {
		if a := send(t, "POST", url, tc.body, map[string]string{"Content-Encoding": tc.coding}); a.status != 200 {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
	}
	// 8 MiB of spaces after the JSON: 8 KiB on the wire, over the 1 MiB maximum decoded.
	bomb := compressed(t, compress.Gzip, append(bytes.Clone(body), bytes.Repeat([]byte(" "), 8<<20)...))
	if a := send(t, "POST", url, bomb, map[string]string{"Content-Encoding": "gzip"}); a.status != 400 || !strings.Contains(a.errorMessage(t), "exceeds the server's maximum") {
		t.Errorf("bomb of %d bytes: %d %s", len(bomb), a.status, a.body)
	}
	if a := send(t, "POST", url, body, map[string]string{"Content-Encoding": "br"}); a.status != 501 || !strings.Contains(a.errorMessage(t), "'br'") {
		t.Errorf("br: %d %s", a.status, a.body)
	}
}

// TestHTTPAnswerCodings: an answer is sent in gzip (or deflate) when the
// request's Accept-Encoding takes it, decoding to the answer sent without;
// a coding refused with q=0, or none asked, gets the answer as it is.
func TestHTTPAnswerCodings(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}})
	base := "http://" + r.HTTPAddr
	plain := send(t, "POST", base+"/v2/models/tiny/infer", []byte(tinyJSON), nil)
	if plain.status != 200 || plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d %v", plain.status, plain.header)
	}
	var d compress.Decoder
	for _, tc := range []struct {
		accept string
		want   compress.Encoding
	}{
		{"gzip", compress.Gzip},
		{"deflate, gzip;q=0.5", compress.Gzip},
		{"deflate", compress.Deflate},
		{"gzip;q=0, deflate;q=0", compress.None},
		{"br", compress.None},
	} {
		a := send(t, "POST", base+"/v2/models/tiny/infer", []byte(tinyJSON), map[string]string{"Accept-Encoding": tc.accept})
		if got := compress.OfString(a.header.Get("Content-Encoding")); a.status != 200 || got != tc.want {
			t.Errorf("Accept-Encoding %q: %d in %v, want %v", tc.accept, a.status, got, tc.want)
			continue
		}
		decoded, err := d.Decode(tc.want, a.body, 1<<20, "response body")
		if err != nil || !bytes.Equal(decoded, plain.body) {
			t.Errorf("Accept-Encoding %q: %v: %q, want %q", tc.accept, err, decoded, plain.body)
		}
	}
	// The metadata too; an empty answer (health) has nothing to compress.
	a := send(t, "GET", base+"/v2/models/tiny", nil, map[string]string{"Accept-Encoding": "gzip"})
	md, err := d.Decode(compress.Gzip, a.body, 1<<20, "response body")
	if err != nil || !json.Valid(md) || a.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("metadata: %v %v %q", err, a.header, md)
	}
	if a := send(t, "GET", base+"/v2/health/ready", nil, map[string]string{"Accept-Encoding": "gzip"}); a.status != 200 || a.header.Get("Content-Encoding") != "" || len(a.body) != 0 {
		t.Errorf("health: %d %v %q", a.status, a.header, a.body)
	}
}

// TestGRPCCodings: grpc-go clients compressing with gzip (grpc-go's own)
// and deflate (perf_analyzer's --grpc-compression-algorithm deflate) are
// served; a message that inflates past the maximum request size is
// RESOURCE_EXHAUSTED.
func TestGRPCCodings(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}, MaxRequestSize: 1 << 20})
	api := pb.NewGRPCInferenceServiceClient(dial(t, r.GRPCAddr))
	req := &pb.ModelInferRequest{ModelName: "tiny", Id: "z",
		Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}}},
		RawInputContents: [][]byte{fp32le(1, 2, 3, 4)}}
	for _, coding := range []string{gzip.Name, "deflate"} {
		resp, err := api.ModelInfer(context.Background(), req, grpc.UseCompressor(coding))
		if err != nil || resp.GetId() != "z" || len(resp.GetRawOutputContents()) != 1 {
			t.Errorf("%s: %v, %v", coding, err, resp)
		}
		bomb := &pb.ModelInferRequest{ModelName: "tiny", Id: strings.Repeat("z", 4<<20)}
		if _, err := api.ModelInfer(context.Background(), bomb, grpc.UseCompressor(coding)); status.Code(err) != codes.ResourceExhausted {
			t.Errorf("%s, 4 MiB inflated from a few KiB: %v, want RESOURCE_EXHAUSTED", coding, err)
		}
	}
}

// TestPlainRequestCodings: the plain API (FastAPI's emulation) decodes
// request bodies and compresses answers too.
func TestPlainRequestCodings(t *testing.T) {
	_, r := start(t, refserver.Options{HTTPAPI: refserver.APIPlain, Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}})
	a := send(t, "POST", "http://"+r.HTTPAddr+"/predict", compressed(t, compress.Gzip, []byte(`{"image": "not base64!"}`)),
		map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json", "Accept-Encoding": "gzip"})
	var d compress.Decoder
	body, err := d.Decode(compress.Gzip, a.body, 1<<20, "response body")
	// The image does not decode: the body was read (as JSON) and answered in gzip.
	if a.status != 400 || err != nil || !strings.Contains(string(body), "base64") {
		t.Errorf("%d %v: %q", a.status, err, body)
	}
	a = send(t, "POST", "http://"+r.HTTPAddr+"/predict", []byte("{}"), map[string]string{"Content-Encoding": "zstd", "Content-Type": "application/json"})
	if a.status != 415 || !strings.Contains(string(a.body), "zstd") {
		t.Errorf("zstd: %d %s", a.status, a.body)
	}
}

// TestDropWithAcceptEncoding: the drop fault still breaks the answer in
// the middle when the request asks for gzip (the compressing writer lets
// the handler hijack the connection).
func TestDropWithAcceptEncoding(t *testing.T) {
	spec := tinyModel("d", refserver.NewFIFO(0))
	spec.Faults.DropProbability = 1
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	req, _ := http.NewRequest("POST", "http://"+r.HTTPAddr+"/v2/models/d/infer", strings.NewReader(tinyJSON))
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 {
		t.Errorf("status %d, %d bytes, %v: want part of the body, then an unexpected EOF", resp.StatusCode, len(body), err)
	}
}

package protocol_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	classes "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// nginx413 is ingress-nginx's answer to a body over its client_max_body_size.
const nginx413 = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// TestGRPCThroughAProxy: a gRPC call answered by a proxy in front of the
// server, not by the server: a 4.9 MB YOLO request refused with 413 and
// an HTML page (ingress-nginx's 1 MB body limit), a gateway's 502 in plain
// text, a 503 with no body, each an http_status with the status and the
// page's first line; an HTML page with status 200 a malformed response
// naming its content type. The connection serves the next call.
func TestGRPCThroughAProxy(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	before := func(w http.ResponseWriter, r *http.Request) bool {
		switch mode.Load() {
		case "413":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			io.WriteString(w, nginx413)
		case "502":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "upstream connect error or disconnect/reset before headers. reset reason: connection failure\n")
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "html 200":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html><head><title>Sign in</title></head></html>")
		default:
			return true
		}
		return false
	}
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Model") == "yolo" && mode.Load() == "413" {
			// As nginx: the answer before the body, which is not read.
			before(w, r)
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc+") { // grpc-go's application/grpc+proto
			r.Header.Set("Content-Type", "application/grpc")
		}
		md := tinyMetadata
		if r.Header.Get("X-Model") == "yolo" {
			md = yoloMetadata
		}
		inferHandler(t, md, before)(w, r)
	}, nil)
	_, yoloCaller, yoloP := grpcCallerFor(t, addr, yoloMetadata, protocol.Options{Headers: map[string]string{"X-Model": "yolo"}})
	mode.Store("413")
	out := yoloCaller.Call(context.Background(), yoloP)
	const want413 = "HTTP 413 from a proxy in front of the gRPC server: Request Entity Too Large"
	if se, ok := protocol.IsServerError(out.Err); !ok || se.HTTPStatus != 413 || classOf(out.Err) != classes.ClassHTTPStatus || out.Err.Error() != want413 {
		t.Fatalf("YOLO request through a 1 MB body limit: class %s, %v; want %s %q", classOf(out.Err), out.Err, classes.ClassHTTPStatus, want413)
	}
	if out.ResponseBytes != len(nginx413) {
		t.Errorf("the page's %d bytes counted as %d", len(nginx413), out.ResponseBytes)
	}
	mode.Store("ok")
	if out := yoloCaller.Call(context.Background(), yoloP); out.Err != nil {
		t.Fatalf("the next call: %v", out.Err)
	}

	// Both transports: grpc-go keeps no body, so the status's text stands
	// for the page's first line.
	for _, transport := range protocol.GRPCTransports {
		_, caller, p := grpcCallerFor(t, addr, tinyMetadata, protocol.Options{GRPCTransport: transport})
		for _, tc := range []struct{ mode, class, msg, goMsg string }{
			{"413", classes.ClassHTTPStatus, want413, want413},
			{"502", classes.ClassHTTPStatus, "HTTP 502 from a proxy in front of the gRPC server: upstream connect error or disconnect/reset before headers. reset reason: connection failure",
				"HTTP 502 from a proxy in front of the gRPC server: Bad Gateway"},
			{"503", classes.ClassHTTPStatus, "HTTP 503 from a proxy in front of the gRPC server: Service Unavailable", "HTTP 503 from a proxy in front of the gRPC server: Service Unavailable"},
			{"html 200", classes.ClassMalformed, `HTTP 200 with content-type "text/html; charset=utf-8", not application/grpc`, `HTTP 200 with content-type "text/html; charset=utf-8", not application/grpc`},
			{"ok", "ok", "", ""},
		} {
			mode.Store(tc.mode)
			msg := tc.msg
			if transport == protocol.GRPCTransportGo {
				msg = tc.goMsg
			}
			out := caller.Call(context.Background(), p)
			if got := classOf(out.Err); got != tc.class || out.Err != nil && !strings.Contains(out.Err.Error(), msg) {
				t.Errorf("%s %s: class %s, %v; want %s saying %q", transport, tc.mode, got, out.Err, tc.class, msg)
			}
		}
	}
}

// TestGRPCProxyRawFrames: a proxy that answers 413 in HEADERS and DATA,
// then resets the stream without ending it (as some do), still reports
// the status, not the reset.
func TestGRPCProxyRawFrames(t *testing.T) {
	addr, _ := rawH2(t, func(_ int, fr *http2.Framer, _ net.Conn) {
		for {
			id, err := readUntilHeaders(fr)
			if err != nil {
				return
			}
			var hb strings.Builder
			enc := hpack.NewEncoder(&hb)
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "413"})
			enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "text/html"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte(hb.String()), EndHeaders: true})
			fr.WriteData(id, false, []byte(nginx413))
			fr.WriteRSTStream(id, http2.ErrCodeNo)
		}
	})
	_, caller, p := grpcCallerFor(t, addr, tinyMetadata, protocol.Options{})
	for i := range 2 {
		out := caller.Call(context.Background(), p)
		if se, ok := protocol.IsServerError(out.Err); !ok || se.HTTPStatus != 413 || !strings.Contains(out.Err.Error(), "Request Entity Too Large") {
			t.Errorf("call %d: %v, want HTTP 413", i, out.Err)
		}
	}
}

// compressingHandler answers ModelInfer as inferHandler does, with the
// message compressed in coding (a server forcing compression), checking
// that a compressed request says its coding.
func compressingHandler(t *testing.T, md *kserve.ModelMetadata, coding compress.Encoding, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) < 5 {
			http.Error(w, "no message", http.StatusBadRequest)
			return
		}
		msg := body[5:]
		if body[0] == 1 {
			var d compress.Decoder
			var err error
			if msg, err = d.Decode(compress.OfString(r.Header.Get("Grpc-Encoding")), msg, 64<<20, "request"); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		var req pb.ModelInferRequest
		if err := proto.Unmarshal(msg, &req); err != nil {
			http.Error(w, "bad proto", http.StatusBadRequest)
			return
		}
		resp := &kserve.InferResponse{ModelName: req.GetModelName()}
		for _, o := range md.Outputs {
			n, _ := kserve.ByteSize(o.Datatype, o.Shape)
			resp.Outputs = append(resp.Outputs, kserve.Tensor{Name: o.Name, Datatype: o.Datatype, Shape: o.Shape, Data: make([]byte, n)})
		}
		out, _ := proto.Marshal(kserve.ResponseToProto(resp))
		flag := byte(0)
		if coding != compress.None {
			out, _ = compress.Compress(coding, out)
			flag = 1
		}
		w.Header().Set("Content-Type", "application/grpc")
		if name != "" {
			w.Header().Set("Grpc-Encoding", name)
		}
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(http.StatusOK)
		w.Write(append(binary.BigEndian.AppendUint32([]byte{flag}, uint32(len(out))), out...))
		w.Header().Set("Grpc-Status", "0")
	}
}

// TestGRPCCompressedAnswers: answers in grpc-encoding gzip or deflate with
// the compressed flag are decoded and checked; the bytes counted are the
// compressed ones. A decoded message over the response limit, a flag
// without a coding and a coding the client does not speak are malformed.
func TestGRPCCompressedAnswers(t *testing.T) {
	for _, tc := range []struct {
		coding compress.Encoding
		name   string
		class  string
		msg    string
	}{
		{compress.Gzip, "gzip", "ok", ""},
		{compress.Deflate, "deflate", "ok", ""},
		{compress.Gzip, "", classes.ClassMalformed, "without a grpc-encoding"},
		{compress.Gzip, "snappy", classes.ClassMalformed, `grpc-encoding "snappy"`},
	} {
		addr := h2cServer(t, compressingHandler(t, yoloMetadata, tc.coding, tc.name), nil)
		_, caller, p := grpcCallerFor(t, addr, yoloMetadata, protocol.Options{})
		for i := range 2 {
			out := caller.Call(context.Background(), p)
			if classOf(out.Err) != tc.class || out.Err != nil && !strings.Contains(out.Err.Error(), tc.msg) {
				t.Fatalf("%s %q call %d: %v, want %s %q", tc.coding, tc.name, i, out.Err, tc.class, tc.msg)
			}
			if out.Err == nil && (out.ResponseBytes <= 0 || out.ResponseBytes > 100<<10) {
				t.Errorf("%s: %d bytes counted for 2.8 MB of zeros compressed", tc.coding, out.ResponseBytes)
			}
		}
	}
	// Zeros inflate past the limit: refused at it.
	addr := h2cServer(t, compressingHandler(t, yoloMetadata, compress.Gzip, "gzip"), nil)
	_, caller, p := grpcCallerFor(t, addr, yoloMetadata, protocol.Options{MaxResponseSize: 1 << 20})
	if out := caller.Call(context.Background(), p); classOf(out.Err) != classes.ClassMalformed || !strings.Contains(out.Err.Error(), "decoded response message exceeds the limit of 1 MiB") || !strings.Contains(out.Err.Error(), "--max-response-size") {
		t.Errorf("a bomb: %v", out.Err)
	}
}

// zeros is a request of the yolo model whose image is zeros: it
// compresses well, as a letterboxed image's padding does.
func zeros(t *testing.T, c protocol.Client) protocol.Payload {
	t.Helper()
	x := kserve.Tensor{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}, Data: make([]byte, 3*640*640*4)}
	p, err := c.Prepare("yolo", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompressionAgainstTheReferenceServer: --compression gzip or deflate
// over every KServe kind: every call succeeds and checks, with fewer
// request bytes; -H 'Accept-Encoding: gzip' over HTTP: every answer
// decoded and checked, with fewer response bytes.
func TestCompressionAgainstTheReferenceServer(t *testing.T) {
	r := serve(t, yolo("yolo", refserver.NewInstances(2, 0)))
	plain := clients(t, r, protocol.Options{})
	for _, coding := range []string{"gzip", "deflate"} {
		for kind, c := range clients(t, r, protocol.Options{Compression: coding, Headers: map[string]string{"Accept-Encoding": coding}}) {
			t.Run(fmt.Sprintf("%s/%s", coding, kind), func(t *testing.T) {
				md, err := c.ModelMetadata(context.Background(), "yolo", "")
				if err != nil {
					t.Fatal(err)
				}
				check := protocol.NewChecker(md, nil)
				base := plain[kind].NewCaller(check).Call(context.Background(), zeros(t, plain[kind]))
				caller := c.NewCaller(check)
				defer caller.Close()
				p := zeros(t, c)
				for i := range 3 {
					out := caller.Call(context.Background(), p)
					if out.Err != nil || base.Err != nil {
						t.Fatalf("call %d: %v (uncompressed: %v)", i, out.Err, base.Err)
					}
					if out.RequestBytes*10 > base.RequestBytes {
						t.Errorf("%d request bytes compressed, %d not", out.RequestBytes, base.RequestBytes)
					}
					if out.ResponseBytes >= base.ResponseBytes {
						t.Errorf("%d response bytes compressed, %d not", out.ResponseBytes, base.ResponseBytes)
					}
				}
				resp, err := c.Infer(context.Background(), p)
				if err != nil || protocol.ValidateResponse(md, nil, resp) != nil {
					t.Errorf("Infer: %v", err)
				}
				t.Logf("request %d -> %d bytes, response %d -> %d bytes", base.RequestBytes, p.Size(), base.ResponseBytes, caller.Call(context.Background(), p).ResponseBytes)
			})
		}
	}
	// grpc-go compresses the same message itself, with gzip at the same level.
	goClient, goCaller, _ := grpcCallerFor(t, r.GRPCAddr, &kserve.ModelMetadata{Name: "yolo", Inputs: yoloMetadata.Inputs, Outputs: yoloMetadata.Outputs},
		protocol.Options{GRPCTransport: protocol.GRPCTransportGo, Compression: "GZIP"})
	if out := goCaller.Call(context.Background(), zeros(t, goClient)); out.Err != nil || out.RequestBytes > 10<<10 {
		t.Errorf("grpc-go in gzip: %+v", out)
	}
	if _, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + r.HTTPAddr, Compression: "br"}); err == nil || !strings.Contains(err.Error(), `compression "br"`) {
		t.Errorf("compression br: %v", err)
	}
	if _, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + r.HTTPAddr, Compression: "gzip", Headers: map[string]string{"content-encoding": "gzip"}}); err == nil {
		t.Errorf("Content-Encoding with compression: no error")
	}
}

package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/result"
)

// imageModel is a detector with an image input: the built-in image,
// letterboxed into it, compresses as real images' tensors do.
func imageModel(name string, side int64) refserver.ModelSpec {
	return refserver.ModelSpec{Name: name, Emulator: refserver.NewInstances(4, 0),
		Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, side, side}}},
		Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 84}}}}
}

// benchRun runs bench -n 30 -c 2 with args and returns its one run, every
// request of which must have succeeded.
func benchRun(t *testing.T, args ...string) result.Run {
	t.Helper()
	f, log, err := benchJSON(t, context.Background(), append([]string{"-n", "30", "-c", "2", "-q"}, args...)...)
	if err != nil || len(f.Runs) != 1 {
		t.Fatalf("bench %v: %v\n%s", args, err, log)
	}
	run := f.Runs[0]
	if run.Counts.OK != 30 || run.Counts.Errors != 0 || run.Payload == nil {
		t.Fatalf("bench %v: counts %+v, errors %+v", args, run.Counts, run.Errors)
	}
	return run
}

// TestBenchAcceptEncoding: -H 'Accept-Encoding: gzip' against the
// reference server, which then answers in gzip: every answer decoded and
// checked against the model's metadata, and fewer response bytes on the
// wire than without.
func TestBenchAcceptEncoding(t *testing.T) {
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{imageModel("det", 64)}})
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeHTTPJSON} {
		base := []string{"--url", urlFor(r, kind), "--protocol", string(kind), "--model", "det", "--image", "builtin"}
		plain := benchRun(t, base...)
		gz := benchRun(t, append(base, "-H", "Accept-Encoding: gzip")...)
		t.Logf("%s: %.0f response bytes a request, %.0f in gzip", kind, plain.Payload.ResponseBytes, gz.Payload.ResponseBytes)
		if gz.Payload.ResponseBytes >= plain.Payload.ResponseBytes {
			t.Errorf("%s: %.0f response bytes in gzip, %.0f without", kind, gz.Payload.ResponseBytes, plain.Payload.ResponseBytes)
		}
	}
}

// TestBenchCompression: --compression gzip (and deflate) over kserve-http
// and kserve-grpc against the reference server: every request succeeds,
// with fewer request bytes on the wire. A coding not spoken is refused
// before anything is sent.
func TestBenchCompression(t *testing.T) {
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{imageModel("det", 64)}})
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
		base := []string{"--url", urlFor(r, kind), "--protocol", string(kind), "--model", "det", "--image", "builtin"}
		plain := benchRun(t, base...)
		for _, coding := range []string{"gzip", "deflate"} {
			run := benchRun(t, append(base, "--compression", coding)...)
			t.Logf("%s: %.0f request bytes, %.0f in %s", kind, plain.Payload.RequestBytes, run.Payload.RequestBytes, coding)
			if run.Payload.RequestBytes >= plain.Payload.RequestBytes {
				t.Errorf("%s: %.0f request bytes in %s, %.0f without", kind, run.Payload.RequestBytes, coding, plain.Payload.RequestBytes)
			}
		}
	}
	_, _, err := runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeHTTP), "--model", "det", "--compression", "br", "-q")
	if err == nil || !strings.Contains(err.Error(), `--compression: compression "br": want gzip, deflate or none`) {
		t.Errorf("--compression br: %v", err)
	}
}

// h2cProxy is a gRPC proxy in front of backend (h2c both sides), as
// ingress-nginx is: it passes the first pass ModelInfer requests, then
// refuses with 413 and nginx's page those over limit bytes.
func h2cProxy(t *testing.T, backend string, limit int64, pass int64) string {
	t.Helper()
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.URL.Scheme, pr.Out.URL.Host = "http", backend },
		Transport: &http.Transport{Protocols: &h2c},
	}
	var infers atomic.Int64
	handler := func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ModelInfer") && infers.Add(1) > pass {
			body, _ := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if int64(len(body)) > limit {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				io.WriteString(w, "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(handler), Protocols: &h2c}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestBenchGRPCThroughAProxy: YOLO-sized gRPC requests (4.9 MB) through a
// proxy with a 1 MB body limit (ingress-nginx's default): each is an
// http_status 413 from the proxy, with the page's title, not an Internal
// gRPC error about trailers; the same request compressed (--compression
// gzip shrinks a letterboxed image below the limit) passes.
func TestBenchGRPCThroughAProxy(t *testing.T) {
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{imageModel("yolo", 640)}})
	const want = "HTTP 413 from a proxy in front of the gRPC server: Request Entity Too Large"
	// The opening request passes; the 10 measured ones do not.
	base := []string{"--url", h2cProxy(t, r.GRPCAddr, 1<<20, 1), "--protocol", "kserve-grpc", "--model", "yolo", "--image", "builtin", "-n", "10", "-c", "2", "--warmup", "0", "-q"}
	f, _, err := benchJSON(t, context.Background(), base...)
	if err == nil || len(f.Runs) != 1 {
		t.Fatalf("every request refused: err %v (want exit 1), runs %+v", err, f.Runs)
	}
	run := f.Runs[0]
	if run.Counts.Errors != 10 || len(run.Errors) != 1 || run.Errors[0].Class != "http_status" || run.Errors[0].Example != want {
		t.Errorf("counts %+v, errors %+v: want 10 of class http_status saying %q", run.Counts, run.Errors, want)
	}
	// Refused from the opening request on: one line before any load.
	_, _, err = runCLI(context.Background(), append([]string{"bench"}, append(base[2:], "--url", h2cProxy(t, r.GRPCAddr, 1<<20, 0))...)...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("refused from the start: %v", err)
	}
	compressed := benchRun(t, "--url", h2cProxy(t, r.GRPCAddr, 1<<20, 0), "--protocol", "kserve-grpc", "--model", "yolo", "--image", "builtin", "--compression", "gzip")
	if compressed.Payload.RequestBytes > 1<<20 {
		t.Errorf("%.0f request bytes in gzip", compressed.Payload.RequestBytes)
	}
	t.Logf("request in gzip: %.0f bytes", compressed.Payload.RequestBytes)
}

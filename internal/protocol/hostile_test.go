package protocol_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
	classes "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
)

// The fault suite of the adapters: every path that reads a response
// (the KServe callers, the image kinds' callers, the image kinds' answer
// read with net/http for --check-outputs, gRPC) holds at most
// Options.MaxResponseSize of it, whatever the server sends, and a call
// against a hostile server ends as a malformed_response that names the
// limit. The transports' own suites (transport/http1, transport/h2) test
// each framing; these test that every adapter passes the limit on.

// hostileMax is the response limit of the suite's clients.
const hostileMax = 1 << 20

// allocatedBy returns the bytes the process allocates while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// endlessHTTP answers every request with head and then chunk, forever,
// until the client closes the connection.
func endlessHTTP(t *testing.T, head string, chunk []byte) *fakeServer {
	return startFake(t, func(_ int64, _ *http.Request, _ []byte, w *bufio.Writer) bool {
		w.WriteString(head)
		for {
			if _, err := w.Write(chunk); err != nil {
				return false
			}
		}
	})
}

// waitClosed waits until the fake server has no connection open.
func waitClosed(t *testing.T, f *fakeServer) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); f.open.Load() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Errorf("%d connections still open", f.open.Load())
			return
		}
	}
}

// TestHostileBodiesOverEveryHTTPKind: an endless body (chunked, and to the
// close) and a huge Content-Length, over each HTTP kind's caller.
func TestHostileBodiesOverEveryHTTPKind(t *testing.T) {
	chunk := bytes.Repeat([]byte("z"), 32<<10)
	chunked := append([]byte("8000\r\n"), append(bytes.Clone(chunk), "\r\n"...)...)
	png, err := imaging.Encode(imaging.Scene(8, 8, 1), "png")
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]struct {
		head  string
		chunk []byte
		words string
	}{
		"endless chunked": {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunked, "response body exceeds the limit of 1 MiB"},
		"endless close":   {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", chunk, "response body exceeds the limit of 1 MiB"},
		"huge length":     {"HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n", chunk, "response body of 3000000000 bytes exceeds the limit of 1 MiB"},
	}
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeHTTPJSON, protocol.HTTPJSON, protocol.NIMHTTP} {
		for name, a := range answers {
			t.Run(string(kind)+"/"+name, func(t *testing.T) {
				f := endlessHTTP(t, a.head, a.chunk)
				c := newClient(t, protocol.Options{Kind: kind, URL: "http://" + f.addr, MaxResponseSize: hostileMax})
				req := imageRequest(png)
				if !kind.SendsImages() {
					x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
					req = &kserve.InferRequest{Inputs: []kserve.Tensor{x}}
				}
				p, err := c.Prepare("m", "", req)
				if err != nil {
					t.Fatal(err)
				}
				caller := c.NewCaller(protocol.NewChecker(tinyMetadata, nil))
				defer caller.Close()
				var out protocol.Outcome
				alloc := allocatedBy(func() { out = caller.Call(context.Background(), p) })
				if class := classOf(out.Err); class != classes.ClassMalformed || !strings.Contains(out.Err.Error(), a.words) ||
					!strings.Contains(out.Err.Error(), "--max-response-size") {
					t.Errorf("%v (%s), want a %s that says %q and names --max-response-size", out.Err, class, classes.ClassMalformed, a.words)
				}
				if alloc > 2*hostileMax+2<<20 {
					t.Errorf("%d bytes allocated against a limit of %d", alloc, hostileMax)
				}
				waitClosed(t, f)
			})
		}
	}
}

// TestHostileAnswerOverNetHTTP: the image kinds read an answer in full
// with net/http (ReadAnswer, for --check-outputs); it too holds at most the
// limit of a body and 1 MiB of headers.
func TestHostileAnswerOverNetHTTP(t *testing.T) {
	png, _ := imaging.Encode(imaging.Scene(8, 8, 1), "png")
	chunk := bytes.Repeat([]byte("z"), 32<<10)
	for name, tc := range map[string]struct {
		head  string
		chunk []byte
		words string
	}{
		"endless body": {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", chunk, "response body exceeds the limit of 1 MiB"},
		"huge length":  {"HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n", chunk, "response body of 3000000000 bytes"},
		"header flood": {"HTTP/1.1 200 OK\r\n", bytes.Repeat([]byte("X-Flood: aaaaaaaaaaaaaaaaaaaa\r\n"), 1000), "headers exceeded 1048576 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			f := endlessHTTP(t, tc.head, tc.chunk)
			c := newClient(t, protocol.Options{Kind: protocol.HTTPJSON, URL: "http://" + f.addr, MaxResponseSize: hostileMax})
			p, err := c.Prepare("m", "", imageRequest(png))
			if err != nil {
				t.Fatal(err)
			}
			var aerr error
			alloc := allocatedBy(func() { _, aerr = protocol.ReadAnswer(context.Background(), c, p) })
			if aerr == nil || !strings.Contains(aerr.Error(), tc.words) {
				t.Errorf("%v, want an error that says %q", aerr, tc.words)
			}
			if alloc > 2*hostileMax+4<<20 {
				t.Errorf("%d bytes allocated against a limit of %d", alloc, hostileMax)
			}
			waitClosed(t, f)
		})
	}
}

// TestHostileGRPC: a 2 GiB length prefix and a CONTINUATION flood over the
// kserve-grpc caller, each a malformed_response naming the limit.
func TestHostileGRPC(t *testing.T) {
	for name, tc := range map[string]struct {
		serve func(id uint32, fr *http2.Framer) error
		words string
	}{
		"2 GiB prefix": {func(id uint32, fr *http2.Framer) error {
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x88}, EndHeaders: true}); err != nil {
				return err
			}
			return fr.WriteData(id, false, binary.BigEndian.AppendUint32([]byte{0}, 2<<30))
		}, "response message (by its length prefix) of 2147483648 bytes exceeds the limit of 1 MiB"},
		"CONTINUATION flood": {func(id uint32, fr *http2.Framer) error {
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: []byte{0x88}}); err != nil {
				return err
			}
			for {
				if err := fr.WriteContinuation(id, false, nil); err != nil {
					return err
				}
			}
		}, "a header block in more than 128 frames (a CONTINUATION flood) exceeds the limit of 128 frames"},
	} {
		t.Run(name, func(t *testing.T) {
			addr, _ := rawH2(t, func(_ int, fr *http2.Framer, _ net.Conn) {
				id, err := readUntilHeaders(fr)
				if err != nil {
					return
				}
				if tc.serve(id, fr) == nil {
					readUntilHeaders(fr) // until the client goes
				}
			})
			_, caller, p := grpcCallerFor(t, addr, tinyMetadata, protocol.Options{MaxResponseSize: hostileMax, Timeout: 2 * time.Minute})
			var out protocol.Outcome
			alloc := allocatedBy(func() { out = caller.Call(context.Background(), p) })
			if class := classOf(out.Err); class != classes.ClassMalformed || !strings.Contains(out.Err.Error(), tc.words) {
				t.Errorf("%v (%s), want a %s that says %q", out.Err, class, classes.ClassMalformed, tc.words)
			}
			if strings.Contains(tc.words, "response message") && !strings.Contains(out.Err.Error(), "--max-response-size") {
				t.Errorf("%v does not name --max-response-size", out.Err)
			}
			if alloc > 2<<20 {
				t.Errorf("%d bytes allocated", alloc)
			}
		})
	}
}

// TestPlainTextToTLS: plain HTTP/1.1 and plain gRPC to a TLS server (Go's,
// which answers plain HTTP with a 400 and closes a plain HTTP/2
// connection) say so.
func TestPlainTextToTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // its complaints about plain text
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	ctx := context.Background()

	h := newClient(t, protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + addr})
	if _, err := h.ServerReady(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := h.ServerMetadata(ctx)
	if err == nil || !strings.Contains(err.Error(), "use an https:// URL") {
		t.Errorf("HTTP/1.1: %v, want one that says to use https://", err)
	}
	t.Log(err)

	g := newClient(t, protocol.Options{Kind: protocol.KServeGRPC, URL: addr})
	_, err = g.ServerReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "a TLS port?") {
		t.Errorf("gRPC: %v, want one that asks whether it is a TLS port", err)
	}
	t.Log(err)
}

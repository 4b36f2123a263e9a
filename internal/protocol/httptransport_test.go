package protocol_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	classes "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
)

// fakeServer answers HTTP/1.1 requests on loopback with whatever answer
// writes, to test the client's framing and connection handling byte by
// byte. answer gets the request's number (from 1) and the request, and
// returns false to close the connection after answering.
type fakeServer struct {
	addr     string
	accepted atomic.Int64
	open     atomic.Int64
	requests chan *http.Request
}

func startFake(t *testing.T, answer func(n int64, req *http.Request, body []byte, w *bufio.Writer) (keep bool)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{addr: ln.Addr().String(), requests: make(chan *http.Request, 1000)}
	var count atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			f.accepted.Add(1)
			f.open.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer f.open.Add(-1)
				defer c.Close()
				br, bw := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, err := io.ReadAll(req.Body)
					if err != nil {
						return
					}
					select {
					case f.requests <- req:
					default:
					}
					keep := answer(count.Add(1), req, body, bw)
					if bw.Flush() != nil || !keep {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return f
}

// tinyMetadata is the metadata of the tiny model: x FP32 [4] -> y FP32 [8].
var tinyMetadata = &kserve.ModelMetadata{
	Name:    "m",
	Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
	Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
}

// tinyJSON is a valid JSON answer of the tiny model.
const tinyJSON = `{"model_name":"m","model_version":"1","outputs":[{"name":"y","datatype":"FP32","shape":[8],"data":[1,2,3,4,5,6,7,8]}]}`

// fakeCaller makes a JSON client of the fake server and a caller that
// checks the tiny model's responses, and the tiny model's request.
func fakeCaller(t *testing.T, f *fakeServer, opts protocol.Options) (protocol.Client, protocol.Caller, protocol.Payload) {
	t.Helper()
	if opts.Kind == "" {
		opts.Kind = protocol.KServeHTTPJSON
	}
	opts.URL = "http://" + f.addr
	c, err := protocol.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	caller := c.NewCaller(protocol.NewChecker(tinyMetadata, nil))
	t.Cleanup(func() { caller.Close() })
	return c, caller, p
}

func classOf(err error) string {
	if err == nil {
		return "ok"
	}
	class, _ := protocol.Classify(err)
	return class
}

// TestHTTPResponseFraming: bodies framed by Content-Length, chunked (with
// extensions and trailers) and by the connection's close, after an interim
// 100 Continue; keep-alive connections are reused, a close-delimited
// answer's connection is not.
func TestHTTPResponseFraming(t *testing.T) {
	framings := map[string]struct {
		write func(w *bufio.Writer)
		keep  bool
	}{
		"content-length": {func(w *bufio.Writer) {
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(tinyJSON), tinyJSON)
		}, true},
		"chunked": {func(w *bufio.Writer) {
			half := len(tinyJSON) / 2
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n%x;ext=1\r\n%s\r\n%X\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n",
				half, tinyJSON[:half], len(tinyJSON)-half, tinyJSON[half:])
		}, true},
		"interim then length": {func(w *bufio.Writer) {
			fmt.Fprintf(w, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(tinyJSON), tinyJSON)
		}, true},
		"close-delimited": {func(w *bufio.Writer) {
			fmt.Fprintf(w, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n%s", tinyJSON)
		}, false},
		"connection close": {func(w *bufio.Writer) {
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(tinyJSON), tinyJSON)
		}, false},
	}
	for name, fr := range framings {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(_ int64, _ *http.Request, _ []byte, w *bufio.Writer) bool {
				fr.write(w)
				return fr.keep
			})
			_, caller, p := fakeCaller(t, f, protocol.Options{})
			for i := range 3 {
				out := caller.Call(context.Background(), p)
				if out.Err != nil || out.ResponseBytes != len(tinyJSON) || out.RequestBytes != p.Size() {
					t.Fatalf("call %d: %+v, want no error and %d response bytes", i, out, len(tinyJSON))
				}
			}
			want := int64(1)
			if !fr.keep {
				want = 3
			}
			if got := f.accepted.Load(); got != want {
				t.Errorf("%d connections for 3 calls, want %d", got, want)
			}
		})
	}
}

// TestHTTPRequestOnTheWire: what the server receives.
func TestHTTPRequestOnTheWire(t *testing.T) {
	f := startFake(t, func(_ int64, req *http.Request, body []byte, w *bufio.Writer) bool {
		h := req.Header
		ok := req.Method == http.MethodPost && req.URL.Path == "/prefix/v2/models/m/infer" && req.Host == strings.TrimPrefix(req.Host, "x") &&
			h.Get("X-Api-Key") == "secret" && h.Get("Content-Type") == "application/octet-stream" && h.Get("User-Agent") == "custom-agent" &&
			req.ContentLength == int64(len(body)) && h.Get(kserve.HeaderContentLength) != ""
		if !ok {
			fmt.Fprintf(w, "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno")
			return true
		}
		reqHeader, _ := kserve.ParseHeaderLength(h.Get(kserve.HeaderContentLength), len(body))
		decoded, err := kserve.DecodeHTTPRequest(body, reqHeader)
		if err != nil || len(decoded.Inputs) != 1 || decoded.Inputs[0].Name != "x" {
			fmt.Fprintf(w, "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad")
			return true
		}
		resp, jsonLen, _ := kserve.EncodeHTTPResponse(&kserve.InferResponse{ModelName: "m",
			Outputs: []kserve.Tensor{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}, Data: make([]byte, 32)}}}, func(string) bool { return true })
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nInference-Header-Content-Length: %d\r\nContent-Length: %d\r\n\r\n", jsonLen, len(resp))
		w.Write(resp)
		return true
	})
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + f.addr + "/prefix/",
		Headers: map[string]string{"X-Api-Key": "secret", "User-Agent": "custom-agent"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	caller := c.NewCaller(protocol.NewChecker(tinyMetadata, nil))
	defer caller.Close()
	if out := caller.Call(context.Background(), p); out.Err != nil {
		t.Fatal(out.Err)
	}
	resp, err := c.Infer(context.Background(), p)
	if err != nil || resp.Output("y") == nil {
		t.Fatalf("Infer: %+v, %v", resp, err)
	}
	for _, bad := range []map[string]string{{"Content-Length": "1"}, {"X-Bad": "a\r\nb"}, {"bad name": "v"}} {
		if _, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: f.addr, Headers: bad}); err == nil {
			t.Errorf("headers %q accepted", bad)
		}
	}
}

// TestHTTPStaleConnectionsAreReplaced: a server that closes idle
// keep-alive connections without a word (as uvicorn does after 5 s) costs
// no failed request: a connection closed as the request goes out is
// retried once on a new one, and one idle for long is probed before use.
func TestHTTPStaleConnectionsAreReplaced(t *testing.T) {
	f := startFake(t, func(_ int64, _ *http.Request, _ []byte, w *bufio.Writer) bool {
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(tinyJSON), tinyJSON)
		return false // closes without "Connection: close"
	})
	_, caller, p := fakeCaller(t, f, protocol.Options{})
	for i := range 3 {
		if out := caller.Call(context.Background(), p); out.Err != nil {
			t.Fatalf("call %d: %v", i, out.Err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // past the idle time after which a connection is probed
	if out := caller.Call(context.Background(), p); out.Err != nil {
		t.Fatalf("after an idle second: %v", out.Err)
	}
	if got := f.accepted.Load(); got != 4 {
		t.Errorf("%d connections, want 4", got)
	}
}

// TestHTTPFailuresAreClassified: what the server does, and what the
// error tally will call it.
func TestHTTPFailuresAreClassified(t *testing.T) {
	cases := map[string]struct {
		answer string
		keep   bool
		opts   protocol.Options
		class  string
	}{
		"status 503":       {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 22\r\n\r\n{\"error\":\"overloaded\"}", true, protocol.Options{}, classes.ClassHTTPStatus},
		"cut mid-body":     {"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"model_name\":", false, protocol.Options{}, classes.ClassConnectionReset},
		"closed, no reply": {"", false, protocol.Options{}, classes.ClassConnectionReset},
		"not HTTP":         {"SSH-2.0-OpenSSH\r\n\r\n", true, protocol.Options{}, classes.ClassMalformed},
		"not JSON":         {"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>", true, protocol.Options{}, classes.ClassMalformed},
		"too large":        {fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(tinyJSON), tinyJSON), true, protocol.Options{MaxResponseSize: 64}, classes.ClassMalformed},
		"chunks too large": {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n30\r\n" + strings.Repeat("x", 48) + "\r\n30\r\n" + strings.Repeat("x", 48) + "\r\n0\r\n\r\n", true, protocol.Options{MaxResponseSize: 64}, classes.ClassMalformed},
		"bad header len":   {"HTTP/1.1 200 OK\r\nInference-Header-Content-Length: 9999\r\nContent-Length: 2\r\n\r\n{}", true, protocol.Options{}, classes.ClassMalformed},
		"wrong output":     {withLength(`{"model_name":"m","outputs":[{"name":"z","datatype":"FP32","shape":[1],"data":[1]}]}`), true, protocol.Options{}, classes.ClassValidation},
		"wrong datatype":   {withLength(strings.Replace(tinyJSON, "FP32", "FP64", 1)), true, protocol.Options{}, classes.ClassValidation},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(_ int64, _ *http.Request, _ []byte, w *bufio.Writer) bool {
				w.WriteString(tc.answer)
				return tc.keep
			})
			_, caller, p := fakeCaller(t, f, tc.opts)
			out := caller.Call(context.Background(), p)
			if got := classOf(out.Err); got != tc.class {
				t.Errorf("class %s (%v), want %s", got, out.Err, tc.class)
			}
			if got := f.accepted.Load(); got != 1 {
				t.Errorf("%d connections: a fresh connection's failure is not retried", got)
			}
		})
	}
}

// withLength makes a 200 answer with a Content-Length body.
func withLength(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// TestHTTPDeadlinesAndCancellation: a server that never answers.
func TestHTTPDeadlinesAndCancellation(t *testing.T) {
	release := make(chan struct{})
	f := startFake(t, func(_ int64, _ *http.Request, _ []byte, w *bufio.Writer) bool {
		<-release
		return false
	})
	t.Cleanup(func() { close(release) }) // before the server's cleanup
	_, caller, p := fakeCaller(t, f, protocol.Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	out := caller.Call(context.Background(), p)
	// The server never answers: the call ends only by its deadline, never
	// before it; 3 s of slack for a busy machine.
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("the 100 ms timeout fired after %v, want 100 ms..3 s", elapsed)
	}
	if !errors.Is(out.Err, context.DeadlineExceeded) || classOf(out.Err) != classes.ClassTimeout {
		t.Errorf("timeout: %v (%s)", out.Err, classOf(out.Err))
	}

	// A context deadline earlier than the timeout wins.
	_, caller, p = fakeCaller(t, f, protocol.Options{Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	out = caller.Call(ctx, p)
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > 3*time.Second || classOf(out.Err) != classes.ClassTimeout {
		t.Errorf("context deadline: %v after %v", out.Err, elapsed)
	}

	// Cancelling the context interrupts the call in flight.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	out = caller.Call(ctx, p)
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > 3*time.Second || !errors.Is(out.Err, context.Canceled) {
		t.Errorf("cancellation: %v after %v", out.Err, elapsed)
	}
	if out := caller.Call(ctx, p); !errors.Is(out.Err, context.Canceled) {
		t.Errorf("a call on a cancelled context: %v", out.Err)
	}
}

// TestHTTPPoolKeepsMaxConns: connections beyond MaxConns are closed after
// their request, the pool keeps at most MaxConns.
func TestHTTPPoolKeepsMaxConns(t *testing.T) {
	f := startFake(t, func(_ int64, _ *http.Request, _ []byte, w *bufio.Writer) bool {
		time.Sleep(5 * time.Millisecond) // let the callers overlap
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(tinyJSON), tinyJSON)
		return true
	})
	c, _, p := fakeCaller(t, f, protocol.Options{MaxConns: 2})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			caller := c.NewCaller(protocol.NewChecker(tinyMetadata, nil))
			defer caller.Close()
			for range 5 {
				if out := caller.Call(context.Background(), p); out.Err != nil {
					t.Error(out.Err)
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for f.open.Load() > 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if open, accepted := f.open.Load(), f.accepted.Load(); open > 2 || accepted < 3 {
		t.Errorf("%d connections open of %d accepted, want at most 2 kept of more", open, accepted)
	}
}

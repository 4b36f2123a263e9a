package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
)

// The fault suite of the HTTP/1.1 client: servers that answer with what
// no server should, on raw loopback listeners. Each test asserts the bound
// the client keeps: the bytes it allocates (read from the runtime), the
// call's end with a classified error long before its timeout, and the
// connection closed.

// hostileServer answers every request on a raw loopback listener with
// what answer writes, until answer returns: an endless answer returns
// when a write fails, that is when the client closed the connection,
// which is then counted in closed.
func hostileServer(t *testing.T, answer func(w io.Writer) error) (addr string, closed chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed = make(chan struct{}, 16)
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
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for { // the request's head; the client's requests here have no body
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				if answer(c) != nil {
					closed <- struct{}{}
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
	return ln.Addr().String(), closed
}

// endless writes head, then chunk forever, until a write fails.
func endless(head string, chunk []byte) func(w io.Writer) error {
	return func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		for {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
	}
}

// hostileLimit is the body limit of the suite's transports.
const hostileLimit = 8 << 20

// hostileTimeout is the call timeout: far beyond the time any test takes,
// so that a call that ends did not wait for it.
const hostileTimeout = 2 * time.Minute

// exchangeOnce sends one GET to addr and returns the body buffer, the
// bytes allocated meanwhile and the error (by the whole process: the
// server's writes reuse one buffer).
func exchangeOnce(t *testing.T, addr string) (body []byte, allocated uint64, err error) {
	t.Helper()
	tr := New(Config{Dialer: transport.Dialer{Addr: addr, Timeout: 10 * time.Second}, Timeout: hostileTimeout, Limit: hostileLimit})
	defer tr.Close()
	req := AppendRequestHead(nil, "GET", "/", []transport.HeaderField{{Name: "Host", Value: "x"}}, -1)
	var (
		w      transport.AbortWatch
		res    Response
		before runtime.MemStats
		after  runtime.MemStats
	)
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	err = tr.Exchange(context.Background(), &w, "GET /", req, "GET", &res, &body)
	if elapsed := time.Since(start); elapsed > hostileTimeout/2 {
		t.Errorf("the call took %v: it waited for its timeout", elapsed)
	}
	runtime.ReadMemStats(&after)
	return body, after.TotalAlloc - before.TotalAlloc, err
}

// wantLimit checks that err is a malformed response over a limit, saying
// what it is and the limit.
func wantLimit(t *testing.T, err error, words ...string) {
	t.Helper()
	var le *transport.LimitError
	if !transport.IsMalformed(err) || !errors.As(err, &le) {
		t.Fatalf("error %v, want a malformed response over a limit", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
}

// wantClosed waits for the server to see the client close the connection.
func wantClosed(t *testing.T, closed chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Error("the client kept the connection open")
	}
}

// TestHostileBodies: bodies without end or over the limit cost at most
// the limit (a buffer never grows past it; the growth on the way, twice
// it in all), end the call as a malformed response, and close the
// connection. Before, a body read to the close grew a bytes.Buffer past
// the limit by doubling (512 MiB at the 256 MiB limit).
func TestHostileBodies(t *testing.T) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	chunked := append([]byte("10000\r\n"), append(bytes.Clone(chunk), "\r\n"...)...)
	for name, tc := range map[string]struct {
		answer func(io.Writer) error
		alloc  uint64 // at most
		words  []string
	}{
		"endless chunked":   {endless("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunked), 2*hostileLimit + 2<<20, []string{"response body exceeds the limit of 8 MiB"}},
		"endless to close":  {endless("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", chunk), 2*hostileLimit + 2<<20, []string{"response body exceeds the limit of 8 MiB"}},
		"endless HTTP/1.0":  {endless("HTTP/1.0 200 OK\r\n\r\n", chunk), 2*hostileLimit + 2<<20, []string{"limit of 8 MiB"}},
		"huge length":       {endless("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n", chunk), 1 << 20, []string{"response body of 999999999999999999 bytes", "8 MiB (8388608 bytes)"}},
		"length over limit": {endless("HTTP/1.1 200 OK\r\nContent-Length: 8388609\r\n\r\n", chunk), 1 << 20, []string{"response body of 8388609 bytes"}},
		"huge chunk":        {endless("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffff\r\n", chunk), 1 << 20, []string{"chunk of 4503599627370495 bytes"}},
	} {
		t.Run(name, func(t *testing.T) {
			addr, closed := hostileServer(t, tc.answer)
			body, alloc, err := exchangeOnce(t, addr)
			wantLimit(t, err, tc.words...)
			if cap(body) > hostileLimit {
				t.Errorf("a body buffer of %d bytes, over the limit of %d", cap(body), hostileLimit)
			}
			if alloc > tc.alloc {
				t.Errorf("%d bytes allocated, want at most %d", alloc, tc.alloc)
			}
			wantClosed(t, closed)
		})
	}
}

// TestBodyAtTheLimit: a body of exactly the limit is read, into a buffer
// of exactly the limit.
func TestBodyAtTheLimit(t *testing.T) {
	body := bytes.Repeat([]byte("y"), hostileLimit)
	for name, head := range map[string]string{
		"length":   "HTTP/1.1 200 OK\r\nContent-Length: 8388608\r\n\r\n",
		"to close": "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			addr, _ := hostileServer(t, func(w io.Writer) error {
				io.WriteString(w, head)
				w.Write(body)
				return nil
			})
			got, _, err := exchangeOnce(t, addr)
			if err != nil || len(got) != hostileLimit || cap(got) != hostileLimit {
				t.Fatalf("%v: a body of %d bytes in a buffer of %d, want %d in %d", err, len(got), cap(got), hostileLimit, hostileLimit)
			}
		})
	}
}

// TestHostileHeaders: a header section without end (header lines,
// interim responses, trailers) ends at 1 MiB, not at the call's timeout,
// and costs little.
func TestHostileHeaders(t *testing.T) {
	for name, tc := range map[string]struct{ head, line string }{
		"header lines":      {"HTTP/1.1 200 OK\r\n", "X-Flood: " + strings.Repeat("a", 100) + "\r\n"},
		"interim responses": {"", "HTTP/1.1 100 Continue\r\n\r\n"},
		"trailers":          {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n", "X-Trailer: b\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			addr, closed := hostileServer(t, endless(tc.head, bytes.Repeat([]byte(tc.line), 1000)))
			_, alloc, err := exchangeOnce(t, addr)
			wantLimit(t, err, "response header section exceeds the limit of 1 MiB")
			if alloc > 1<<20 {
				t.Errorf("%d bytes allocated for a header flood", alloc)
			}
			wantClosed(t, closed)
		})
	}
}

// TestTLSAnswer: a plain-text request to a TLS port, answered with a TLS
// record (an alert, as OpenSSL sends), says so instead of "EOF".
func TestTLSAnswer(t *testing.T) {
	addr, _ := hostileServer(t, func(w io.Writer) error {
		w.Write([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46}) // alert: protocol_version
		return nil
	})
	_, _, err := exchangeOnce(t, addr)
	if !transport.IsTLS(err) || !strings.Contains(err.Error(), "the server answered with TLS") || !strings.Contains(err.Error(), "https://") {
		t.Errorf("error %v, want one that says TLS and https://", err)
	}
}

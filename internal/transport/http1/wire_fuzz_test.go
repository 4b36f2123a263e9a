package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
)

// fuzzLimit is the body limit of the fuzzed reads: small, so that bodies
// over it are among the inputs.
const fuzzLimit = 1 << 16

// parse reads one response from in as the transport does (a GET or a
// HEAD) and returns how many bytes of in it took.
func parse(in []byte, head bool, res *Response, body *[]byte) (int, error) {
	method := "GET"
	if head {
		method = "HEAD"
	}
	r := bytes.NewReader(in)
	br := bufio.NewReaderSize(r, readBufferSize)
	err := readResponse(br, method, res, body, fuzzLimit, "X-Capture")
	return len(in) - r.Len() - br.Buffered(), err
}

// FuzzHTTP1Response feeds the response reader arbitrary bytes: status
// lines, headers, bodies by Content-Length, chunked or up to the close.
// It must not panic, must keep a body within the limit and allocate in
// proportion to the bytes that came, not to the length a header declares,
// and must parse what net/http parses the same (status, body, captured
// header). An accepted response framed by length must be refused when cut
// short by a byte; read again into the reused buffers it must give the
// same answer; and a keep-alive response must leave the next one on the
// connection untouched.
func FuzzHTTP1Response(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Capture: 12\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nread to the close",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it",
		"HTTP/1.1 400 Bad Request\r\nConnection: keep-alive, Upgrade\r\nContent-Length: 13\r\n\r\n{\"error\":\"x\"}",
		"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
		"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		// Malformed.
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nContent-Length: 65000\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
		"",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), true)

	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		var res Response
		var body []byte
		n, err := parse(in, head, &res, &body)
		if cap(body) > 2*len(in)+8<<10 {
			t.Fatalf("%d bytes of body buffer for %d bytes of input", cap(body), len(in))
		}
		if err != nil {
			return
		}
		if res.Status < 100 || res.Status > 999 {
			t.Fatalf("status %d", res.Status)
		}
		if len(res.Body) > fuzzLimit {
			t.Fatalf("a body of %d bytes, over the limit", len(res.Body))
		}
		if len(res.Body) > n {
			t.Fatalf("a body of %d bytes from a response of %d", len(res.Body), n)
		}
		got := bytes.Clone(res.Body)

		// Again, into the buffers of the first read.
		if n2, err := parse(in, head, &res, &body); err != nil || n2 != n || !bytes.Equal(res.Body, got) {
			t.Fatalf("read again: %v, %d bytes (was %d), body %q (was %q)", err, n2, n, res.Body, got)
		}
		// Cut short: a response framed by length or chunks is incomplete.
		if !res.close && n > 0 {
			var r2 Response
			var b2 []byte
			if _, err := parse(in[:n-1], head, &r2, &b2); err == nil {
				t.Fatalf("%d bytes of a %d-byte response accepted", n-1, n)
			}
		}
		// A keep-alive response ends where the next begins.
		if !res.close {
			next := []byte("HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nnext")
			two := append(append(in[:n:n], next...), in[n:]...)
			r := bytes.NewReader(two)
			br := bufio.NewReaderSize(r, readBufferSize)
			method := map[bool]string{false: "GET", true: "HEAD"}[head]
			var r2 Response
			var b2 []byte
			if err := readResponse(br, method, &r2, &b2, fuzzLimit, ""); err != nil || !bytes.Equal(r2.Body, got) {
				t.Fatalf("the first of two responses: %v, %q", err, r2.Body)
			}
			if err := readResponse(br, "GET", &r2, &b2, fuzzLimit, ""); err != nil || r2.Status != 201 || string(r2.Body) != "next" {
				t.Fatalf("the response after it: %v, %d %q", err, r2.Status, r2.Body)
			}
		}

		// What net/http reads, when it reads it.
		req := &http.Request{Method: map[bool]string{false: "GET", true: "HEAD"}[head]}
		br := bufio.NewReader(bytes.NewReader(in))
		hres, err := http.ReadResponse(br, req)
		for err == nil && hres.StatusCode >= 100 && hres.StatusCode < 200 && hres.StatusCode != 101 {
			hres, err = http.ReadResponse(br, req)
		}
		if err != nil || hres.ProtoMinor != 1 { // HTTP/1.0 has no chunks in net/http
			return
		}
		hbody, err := io.ReadAll(hres.Body)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return
		}
		if err == nil && (hres.StatusCode != res.Status || !bytes.Equal(hbody, got)) {
			t.Fatalf("net/http reads %d %q, we read %d %q", hres.StatusCode, hbody, res.Status, got)
		}
		if v := hres.Header.Values("X-Capture"); len(v) > 0 && res.HasCaptured && string(res.Captured) != v[len(v)-1] {
			t.Fatalf("X-Capture %q, net/http reads %q", res.Captured, v)
		}
	})
}

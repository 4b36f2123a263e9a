package http1

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// exchangeRes sends n GETs to addr on one transport (keep-alive) and
// returns the last response, the bytes allocated by the last exchange, and
// its error.
func exchangeRes(t *testing.T, addr string, n int) (*Response, uint64, error) {
	t.Helper()
	tr := New(Config{Dialer: transport.Dialer{Addr: addr, Timeout: 10 * time.Second}, Timeout: hostileTimeout, Limit: hostileLimit})
	t.Cleanup(tr.Close)
	req := AppendRequestHead(nil, "GET", "/", []transport.HeaderField{{Name: "Host", Value: "x"}}, -1)
	var (
		w             transport.AbortWatch
		res           Response
		body          []byte
		err           error
		before, after runtime.MemStats
	)
	for i := 0; i < n; i++ {
		if i == n-1 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		err = tr.Exchange(context.Background(), &w, "GET /", req, "GET", &res, &body)
	}
	runtime.ReadMemStats(&after)
	return &res, after.TotalAlloc - before.TotalAlloc, err
}

func mustCompress(t *testing.T, e compress.Encoding, b []byte) []byte {
	t.Helper()
	out, err := compress.Compress(e, b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecodedBodies: a body in Content-Encoding gzip or deflate (zlib, or
// raw DEFLATE as some servers send) is decoded, framed by length or
// chunks; Wire keeps the size received.
func TestDecodedBodies(t *testing.T) {
	plain := []byte(strings.Repeat(`{"model_name":"yolov8n","outputs":[]}`, 300))
	gz := mustCompress(t, compress.Gzip, plain)
	zl := mustCompress(t, compress.Deflate, plain)
	raw := zl[2 : len(zl)-4]
	for name, tc := range map[string]struct {
		coding string
		body   []byte
		chunk  bool
	}{
		"gzip":             {"gzip", gz, false},
		"gzip chunked":     {"gzip", gz, true},
		"x-gzip":           {"X-Gzip", gz, false},
		"deflate (zlib)":   {"deflate", zl, false},
		"deflate (raw)":    {"deflate", raw, false},
		"identity":         {"identity", plain, false},
		"deflate, chunked": {"Deflate", zl, true},
	} {
		t.Run(name, func(t *testing.T) {
			addr, _ := hostileServer(t, func(w io.Writer) error {
				if tc.chunk {
					fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", tc.coding, len(tc.body), tc.body)
				} else {
					fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s", tc.coding, len(tc.body), tc.body)
				}
				return nil
			})
			res, _, err := exchangeRes(t, addr, 1)
			if err != nil || !bytes.Equal(res.Body, plain) || res.Wire != len(tc.body) {
				t.Fatalf("%v: %d bytes decoded from %d, want %d from %d", err, len(res.Body), res.Wire, len(plain), len(tc.body))
			}
		})
	}
}

// TestHostileCodings: a zip bomb is refused at the limit of its decoded
// size, holding no more; an unknown coding and data that does not decode
// are malformed responses naming the coding; an error status whose body
// does not decode keeps its status.
func TestHostileCodings(t *testing.T) {
	bomb := mustCompress(t, compress.Gzip, make([]byte, 256<<20)) // 256 KiB on the wire
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	answer := func(head string, body []byte) func(io.Writer) error {
		return func(w io.Writer) error {
			fmt.Fprintf(w, "%sContent-Length: %d\r\n\r\n", head, len(body))
			w.Write(body)
			return nil
		}
	}
	t.Run("bomb", func(t *testing.T) {
		addr, _ := hostileServer(t, answer("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n", bomb))
		_, alloc, err := exchangeRes(t, addr, 1)
		wantLimit(t, err, "decoded response body exceeds the limit of 8 MiB")
		if alloc > 2*hostileLimit+4<<20 {
			t.Errorf("%d bytes allocated for a bomb, against a limit of %d", alloc, hostileLimit)
		}
	})
	for name, tc := range map[string]struct {
		head  string
		body  []byte
		words string
	}{
		"brotli":         {"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n", []byte("xyz"), `Content-Encoding "br"`},
		"html as gzip":   {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n", []byte("<html>oops</html>"), "response body in gzip that does not decode"},
		"truncated zlib": {"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n", mustCompress(t, compress.Deflate, bytes.Repeat([]byte("a"), 5000))[:8], "in deflate that does not decode"},
	} {
		t.Run(name, func(t *testing.T) {
			addr, _ := hostileServer(t, answer(tc.head, tc.body))
			_, _, err := exchangeRes(t, addr, 1)
			if !transport.IsMalformed(err) || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("error %v, want a malformed response saying %q", err, tc.words)
			}
		})
	}
	t.Run("error status", func(t *testing.T) {
		addr, _ := hostileServer(t, answer("HTTP/1.1 502 Bad Gateway\r\nContent-Encoding: gzip\r\n", []byte("bad gateway")))
		res, _, err := exchangeRes(t, addr, 1)
		if err != nil || res.Status != 502 || string(res.Body) != "bad gateway" {
			t.Errorf("%v: status %d, body %q", err, res.Status, res.Body)
		}
	})
}

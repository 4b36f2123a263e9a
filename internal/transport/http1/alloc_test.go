//go:build !race

package http1

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// keepAliveServer answers every request on a connection with answer,
// pre-rendered: the server side allocates nothing per request.
func keepAliveServer(t *testing.T, answer []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) == 2 { // the blank line: the request's head is over
						if _, err := c.Write(answer); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestDecodingAllocatesNothing: on a keep-alive connection, an answer in
// gzip or deflate costs the allocations of a plain one (the response's
// decoder and buffer are reused), and both are read right.
func TestDecodingAllocatesNothing(t *testing.T) {
	plain := []byte(strings.Repeat("output0 ", 2000))
	perCall := map[string]float64{}
	for _, coding := range []string{"identity", "gzip", "deflate"} {
		body := plain
		if coding != "identity" {
			body, _ = compress.Compress(compress.OfString(coding), plain)
		}
		answer := append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n", coding, len(body))), body...)
		tr := New(Config{Dialer: transport.Dialer{Addr: keepAliveServer(t, answer), Timeout: 10 * time.Second}, Timeout: time.Minute, Limit: 1 << 20})
		req := AppendRequestHead(nil, "GET", "/", []transport.HeaderField{{Name: "Host", Value: "x"}}, -1)
		var (
			w    transport.AbortWatch
			res  Response
			buf  []byte
			err  error
			ctx  = context.Background()
			call = func() { err = tr.Exchange(ctx, &w, "GET /", req, "GET", &res, &buf) }
		)
		call()
		perCall[coding] = testing.AllocsPerRun(200, call)
		if err != nil || !bytes.Equal(res.Body, plain) || res.Wire != len(body) {
			t.Fatalf("%s: %v: %d bytes from %d", coding, err, len(res.Body), res.Wire)
		}
		tr.Close()
	}
	for _, coding := range []string{"gzip", "deflate"} {
		if perCall[coding] > perCall["identity"] {
			t.Errorf("%s: %.1f allocations per call, %.1f without a coding", coding, perCall[coding], perCall["identity"])
		}
	}
	t.Logf("allocations per call: %v", perCall)
}

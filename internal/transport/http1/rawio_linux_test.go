package http1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
)

// The raw reads and writes of plain TCP connections (rawIO) against
// servers on raw loopback listeners: what net.Conn did, they must do, with
// the same errors: a large request written in pieces as the socket drains,
// a reset, EOF, the deadline, a cancelled context. Under the race detector
// connections go through net.Conn (raceEnabled): these tests exercise
// rawIO in the package's run without it (scripts/test.sh).

// rawServer runs serve on every connection of a loopback listener.
func rawServer(t *testing.T, serve func(c *net.TCPConn, br *bufio.Reader)) string {
	return rawServerBuf(t, false, serve)
}

// smallBuffers sets a socket's send and receive buffers to their least.
func smallBuffers(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
}

// rawServerBuf is rawServer, with the sockets' buffers at their least
// when small is set.
func rawServerBuf(t *testing.T, small bool, serve func(c *net.TCPConn, br *bufio.Reader)) string {
	t.Helper()
	var lc net.ListenConfig
	if small {
		lc.Control = smallBuffers
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
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
				serve(c.(*net.TCPConn), bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String()
}

// readHead reads a request's head and returns its Content-Length.
func readHead(br *bufio.Reader) (int, error) {
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if line == "\r\n" {
			return n, nil
		}
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
}

func rawExchange(t *testing.T, addr string, timeout time.Duration, ctx context.Context, body []byte) (*Response, error) {
	t.Helper()
	return rawExchangeDialer(t, transport.Dialer{Addr: addr, Timeout: 10 * time.Second}, timeout, ctx, body)
}

func rawExchangeDialer(t *testing.T, d transport.Dialer, timeout time.Duration, ctx context.Context, body []byte) (*Response, error) {
	t.Helper()
	tr := New(Config{Dialer: d, Timeout: timeout, Limit: 1 << 20})
	t.Cleanup(tr.Close)
	req := AppendRequestHead(nil, "POST", "/", []transport.HeaderField{{Name: "Host", Value: "x"}}, len(body))
	req = append(req, body...)
	var (
		w   transport.AbortWatch
		res Response
		buf []byte
	)
	w.Follow(ctx)
	defer w.Release()
	err := tr.Exchange(ctx, &w, "POST /", req, "POST", &res, &buf)
	return &res, err
}

func TestRawIOIsUsedInPlainText(t *testing.T) {
	addr := rawServer(t, func(c *net.TCPConn, br *bufio.Reader) {})
	c, err := dial(context.Background(), &transport.Dialer{Addr: addr, Timeout: 10 * time.Second}, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if _, ok := c.w.(*rawIO); ok == raceEnabled {
		t.Fatalf("plain TCP connection written through %T (race detector: %v)", c.w, raceEnabled)
	}
}

// TestRawIOLargeRequest: 60 KiB (under rawMax, written raw) to a server
// that reads only after a pause, with the client's send buffer made
// small, fills the socket; the write waits on the poller and goes on where
// it stopped: the server receives every byte, in order.
func TestRawIOLargeRequest(t *testing.T) {
	body := make([]byte, rawMax-4<<10)
	for i := range body {
		body[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	addr := rawServerBuf(t, true, func(c *net.TCPConn, br *bufio.Reader) {
		n, err := readHead(br)
		if err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // let the client's socket fill
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return
		}
		got <- b
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	d := transport.Dialer{Addr: addr, Timeout: 10 * time.Second, Net: net.Dialer{Control: smallBuffers}}
	res, err := rawExchangeDialer(t, d, time.Minute, context.Background(), body)
	if err != nil || string(res.Body) != "ok" {
		t.Fatalf("%v, body %q", err, res.Body)
	}
	if b := <-got; string(b) != string(body) {
		t.Fatalf("the server received %d bytes, not the %d sent", len(b), len(body))
	}
}

// TestRawIOErrors: a reset is ECONNRESET, a close before the answer EOF
// (unexpected), silence the call's timeout, a cancelled context canceled:
// each long before any bound a busy machine could break.
func TestRawIOErrors(t *testing.T) {
	reset := rawServer(t, func(c *net.TCPConn, br *bufio.Reader) {
		readHead(br)
		c.SetLinger(0) // close with a reset
	})
	closed := rawServer(t, func(c *net.TCPConn, br *bufio.Reader) { readHead(br) })
	silent := rawServer(t, func(c *net.TCPConn, br *bufio.Reader) {
		readHead(br)
		br.ReadByte() // until the client closes
	})
	start := time.Now()
	if _, err := rawExchange(t, reset, time.Minute, context.Background(), nil); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reset: %v, want ECONNRESET", err)
	}
	if _, err := rawExchange(t, closed, time.Minute, context.Background(), nil); !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Errorf("closed: %v, want EOF", err)
	}
	if _, err := rawExchange(t, silent, 200*time.Millisecond, context.Background(), nil); !transport.IsTimeout(err) {
		t.Errorf("silent: %v, want a timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if _, err := rawExchange(t, silent, time.Minute, ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the four calls took %v", d)
	}
}

package protocol

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"syscall"
	"time"
)

// readBufferSize is the per-connection read buffer: room for a response's
// status line and headers, and for small bodies in one read. Larger bodies
// are read straight into the caller's buffer.
const readBufferSize = 8 << 10

// probeIdleAfter is how long a connection may sit idle before it is probed
// for a close by the server before reuse. Servers close idle keep-alive
// connections after seconds (uvicorn 5 s, nginx 75 s); a connection idle
// for less is reused without a look, and the rare close that races a
// request is covered by the one retry of exchange.
const probeIdleAfter = time.Second

// httpConn is one HTTP/1.1 connection.
type httpConn struct {
	nc   net.Conn
	br   *bufio.Reader
	raw  syscall.RawConn // the TCP socket, for the liveness probe; nil if unavailable
	idle time.Time       // when it was last put back in the pool
}

func (c *httpConn) close() { c.nc.Close() }

// dialer opens connections to one server.
type dialer struct {
	addr    string      // host:port
	tls     *tls.Config // nil for plain HTTP
	net     net.Dialer
	timeout time.Duration // connect timeout
}

// dial opens a connection, bounded by the connect timeout and deadline.
func (d *dialer) dial(ctx context.Context, deadline time.Time) (*httpConn, error) {
	if cd := time.Now().Add(d.timeout); cd.Before(deadline) {
		deadline = cd
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nc, err := d.net.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	c := &httpConn{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	if d.tls != nil {
		tc := tls.Client(nc, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		c.nc = tc
	}
	c.br = bufio.NewReaderSize(c.nc, readBufferSize)
	return c, nil
}

// connPool keeps idle keep-alive connections, the most recently used
// first, at most max of them (0: no limit).
type connPool struct {
	mu     sync.Mutex
	idle   []*httpConn
	max    int
	closed bool
}

// get takes an idle connection, or returns nil.
func (p *connPool) get() *httpConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	c := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	return c
}

// put returns a connection for reuse, or closes it when the pool is full
// or closed.
func (p *connPool) put(c *httpConn) {
	c.idle = time.Now()
	p.mu.Lock()
	if p.closed || p.max > 0 && len(p.idle) >= p.max {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// close closes the idle connections; connections in use are closed when
// they come back.
func (p *connPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

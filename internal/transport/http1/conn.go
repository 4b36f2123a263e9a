package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
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

// conn is one HTTP/1.1 connection.
type conn struct {
	nc    net.Conn
	br    *bufio.Reader
	w     io.Writer       // nc, or its socket through rawIO in plain text
	raw   syscall.RawConn // the TCP socket, for the liveness probe; nil if unavailable
	tc    *tls.Conn       // nc over TLS; nil in plain text
	probe *probeConn      // the TCP socket under tc, for the probe; nil in plain text or when unavailable
	idle  time.Time       // when it was last put back in the pool
}

func (c *conn) close() { c.nc.Close() }

// dial opens a connection, bounded by the connect timeout and deadline.
func dial(ctx context.Context, d *transport.Dialer, deadline time.Time) (*conn, error) {
	ctx, cancel := d.Bound(ctx, deadline)
	defer cancel()
	var probe *probeConn
	if d.TLS != nil {
		dd := *d
		dd.Wrap = func(nc net.Conn) net.Conn {
			if probe = newProbeConn(nc); probe == nil {
				return nc
			}
			return probe
		}
		d = &dd
	}
	nc, raw, err := d.Dial(ctx)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, probe: probe}
	c.tc, _ = nc.(*tls.Conn)
	if sc, ok := raw.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	var r io.Reader = c.nc
	c.w = c.nc
	if c.tc == nil && c.raw != nil {
		if rw := newRawIO(c.nc, c.raw); rw != nil {
			r, c.w = rw, rw
		}
	}
	c.br = bufio.NewReaderSize(r, readBufferSize)
	return c, nil
}

// connPool keeps idle keep-alive connections, the most recently used
// first, at most max of them (0: no limit).
type connPool struct {
	mu     sync.Mutex
	idle   []*conn
	max    int
	closed bool
}

// get takes an idle connection, or returns nil.
func (p *connPool) get() *conn {
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
func (p *connPool) put(c *conn) {
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

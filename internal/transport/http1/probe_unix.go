//go:build unix

package http1

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// alive reports whether an idle connection is still open and quiet. A
// non-blocking peek at the TCP socket finds nothing to read (EAGAIN): the
// connection is alive. EOF or a socket error: the server closed it. Bytes
// waiting: in plain text, bytes no request asked for, so the connection is
// not reused. Over TLS they may be records that leave it usable (a
// session ticket or a key update, which TLS 1.3 sends after the
// handshake, and which arrive unread when the server sends them late) or
// the server's close_notify: the TLS layer reads them, without waiting
// for more (probeConn), and the connection is alive when that read would
// block with nothing for the application.
func (c *conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.raw == nil {
		return true
	}
	var (
		buf  [1]byte
		n    int
		perr error
	)
	err := c.raw.Read(func(fd uintptr) bool {
		n, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readiness
	})
	switch {
	case err != nil:
		return false
	case errors.Is(perr, syscall.EAGAIN) || errors.Is(perr, syscall.EWOULDBLOCK):
		return true // nothing waiting: the common case
	case perr != nil || n == 0:
		return false // a socket error, or EOF
	case c.tc == nil || c.probe == nil:
		return false // plain text: bytes no request asked for
	}
	c.probe.probing = true
	n, rerr := c.tc.Read(buf[:])
	c.probe.probing = false
	return n == 0 && errors.Is(rerr, os.ErrDeadlineExceeded)
}

// probeConn is the TCP socket under a connection's TLS layer. While
// probing, its reads never wait: they return what the socket holds, or
// os.ErrDeadlineExceeded when it holds nothing, which crypto/tls takes as
// a temporary error (the connection stays usable, a partial record is
// kept for the next read).
type probeConn struct {
	net.Conn
	raw     syscall.RawConn
	probing bool
}

// newProbeConn wraps a TCP connection, or returns nil when it does not
// expose its socket.
func newProbeConn(nc net.Conn) *probeConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &probeConn{Conn: nc, raw: raw}
}

func (p *probeConn) Read(b []byte) (int, error) {
	if !p.probing {
		return p.Conn.Read(b)
	}
	var (
		n    int
		rerr error
	)
	if err := p.raw.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), b)
		return true // never wait for readiness
	}); err != nil {
		return 0, err
	}
	switch {
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK):
		return 0, os.ErrDeadlineExceeded
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

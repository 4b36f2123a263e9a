//go:build unix

package http1

import (
	"errors"
	"syscall"
)

// alive reports whether an idle connection is still open and quiet: a
// non-blocking peek finds nothing to read (EAGAIN). Anything else is the
// server's close (EOF), bytes no request asked for, or a socket error.
func (c *conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.raw == nil {
		return true
	}
	var (
		buf  [1]byte
		perr error
	)
	err := c.raw.Read(func(fd uintptr) bool {
		_, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readiness
	})
	return err == nil && (errors.Is(perr, syscall.EAGAIN) || errors.Is(perr, syscall.EWOULDBLOCK))
}

//go:build !linux

package http1

import (
	"io"
	"net"
	"syscall"
)

// newRawIO: elsewhere than on Linux, connections are read and written
// through net.Conn.
func newRawIO(net.Conn, syscall.RawConn) io.ReadWriter { return nil }

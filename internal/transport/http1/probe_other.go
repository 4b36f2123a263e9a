//go:build !unix

package http1

import "net"

// alive reports whether an idle connection may be reused; without a
// non-blocking peek it trusts the connection, and the retry of exchange
// covers a close by the server.
func (c *conn) alive() bool { return c.br.Buffered() == 0 }

// probeConn is unused without a non-blocking read.
type probeConn struct{ net.Conn }

func newProbeConn(net.Conn) *probeConn { return nil }

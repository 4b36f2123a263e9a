//go:build !unix

package http1

// alive reports whether an idle connection may be reused; without a
// non-blocking peek it trusts the connection, and the retry of exchange
// covers a close by the server.
func (c *conn) alive() bool { return c.br.Buffered() == 0 }

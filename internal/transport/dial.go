package transport

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// Dialer opens connections to one server.
type Dialer struct {
	Addr    string      // host:port
	TLS     *tls.Config // nil for a plain connection
	Net     net.Dialer
	Timeout time.Duration // the connect timeout
	// Wrap, when set, wraps the TCP connection under the TLS layer (the
	// HTTP/1.1 transport's idle probe reads through it).
	Wrap func(net.Conn) net.Conn
}

// Bound returns ctx bounded by the connect timeout and by deadline, the
// call's, for dialing and whatever handshake follows.
func (d *Dialer) Bound(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if cd := time.Now().Add(d.Timeout); cd.Before(deadline) {
		deadline = cd
	}
	return context.WithDeadline(ctx, deadline)
}

// Dial opens a TCP connection, and runs the TLS handshake when the dialer
// has a TLS configuration, within ctx (see Bound). raw is the TCP socket,
// nil when it does not expose one. A handshake that fails is a TLSError
// naming the problem (an untrusted certificate, a plain-text port).
func (d *Dialer) Dial(ctx context.Context) (nc net.Conn, raw net.Conn, err error) {
	nc, err = d.Net.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, nil, err
	}
	if d.TLS == nil {
		return nc, nc, nil
	}
	under := nc
	if d.Wrap != nil {
		under = d.Wrap(nc)
	}
	tc := tls.Client(under, d.TLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, nil, TLSProblem(d.Addr, err, ctx.Err() == nil) // a timeout stays one
	}
	return tc, nc, nil
}

// Package http1 is inferbench's HTTP/1.1 client: a lean one on net.Conn.
// Requests are rendered once and written in one call, responses parsed in
// place into reused buffers, keep-alive connections pooled, every call
// under a deadline. It replaces net/http on the hot path, whose
// per-request allocations (request and response structs, header maps, a
// goroutine pair per connection) cost more CPU than the rest of a load
// generator; see bench/README.md for the numbers. It knows nothing of
// what the requests carry.
package http1

import (
	"context"
	"fmt"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
)

// Config configures a Transport.
type Config struct {
	Dialer transport.Dialer
	// MaxIdle bounds the idle keep-alive connections kept for reuse; zero
	// keeps every one.
	MaxIdle int
	// Timeout bounds every call; a context with an earlier deadline wins.
	Timeout time.Duration
	// Limit bounds a response's body, and its decoded size when it comes
	// in a Content-Encoding (gzip, deflate).
	Limit int
	// Capture names a header whose value responses keep (Response.Captured).
	Capture string
}

// Transport sends requests to one server. It is safe for concurrent use.
type Transport struct {
	dial    transport.Dialer
	pool    connPool
	timeout time.Duration // per call
	limit   int           // response body bound
	capture string
}

// New makes a transport.
func New(cfg Config) *Transport {
	return &Transport{dial: cfg.Dialer, pool: connPool{max: cfg.MaxIdle}, timeout: cfg.Timeout, limit: cfg.Limit, capture: cfg.Capture}
}

// Close closes the idle connections; those in use are closed when their
// call ends.
func (t *Transport) Close() { t.pool.close() }

// Exchange sends one rendered request (op names it in errors: "POST
// /v2/models/m/infer") and reads the answer into res, its body into *body;
// a body in Content-Encoding gzip or deflate is decoded (res.Body), into
// a buffer res keeps for the next call.
// The call's deadline is the transport's timeout or ctx's deadline,
// whichever comes first; w interrupts it when ctx ends.
//
// Reuse of keep-alive connections: one idle for more than probeIdleAfter is
// first probed for a close by the server. If a reused connection still
// fails before any byte of the answer arrives (the server closed it as the
// request went out), the request is sent once more on a new connection.
// That replays a POST, which HTTP does not call idempotent; net/http would
// not. inferbench does, deliberately and only in that case: an inference
// request has no side effect the benchmark relies on, and a server that
// closed the connection without a word has, in practice, not processed
// it, whereas counting the server's routine idle close as a failed request
// would report errors that are an artefact of the client. A fresh
// connection is never retried, so refused and reset connections are
// counted.
func (t *Transport) Exchange(ctx context.Context, w *transport.AbortWatch, op string, req []byte, method string, res *Response, body *[]byte) error {
	deadline, ctxFirst := transport.Deadline(ctx, t.timeout)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		c, reused, err := t.conn(ctx, deadline)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("%s: %w", op, cerr)
			}
			return &transport.Error{Op: op, Err: err} // refused, unreachable, a connect timeout
		}
		err = t.roundTrip(c, w, deadline, req, method, res, body)
		if err == nil {
			if res.close {
				c.close()
			} else {
				t.pool.put(c)
			}
			return res.decode(t.limit)
		}
		c.close()
		if reused && attempt == 0 && !res.started && ctx.Err() == nil && !transport.IsTimeout(err) && !transport.IsMalformed(err) {
			continue
		}
		return transport.Wrap(ctx, op, err, ctxFirst, t.timeout)
	}
}

// conn takes a live idle connection or dials a new one.
func (t *Transport) conn(ctx context.Context, deadline time.Time) (c *conn, reused bool, err error) {
	for {
		c := t.pool.get()
		if c == nil {
			break
		}
		if time.Since(c.idle) < probeIdleAfter || c.alive() {
			return c, true, nil
		}
		c.close()
	}
	c, err = dial(ctx, &t.dial, deadline)
	return c, false, err
}

// roundTrip writes a request on c and reads the answer.
func (t *Transport) roundTrip(c *conn, w *transport.AbortWatch, deadline time.Time, req []byte, method string, res *Response, body *[]byte) error {
	res.started = false
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if !w.Attach(c.nc) {
		return context.Canceled
	}
	defer w.Detach()
	if _, err := c.w.Write(req); err != nil {
		return err
	}
	err := readResponse(c.br, method, res, body, t.limit, t.capture)
	res.Wire = len(res.Body)
	return err
}

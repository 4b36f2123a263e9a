package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// httpTransport is a lean HTTP/1.1 client on net.Conn: requests rendered
// once and written in one call, responses parsed in place, a pool of
// keep-alive connections, a deadline per call. It replaces net/http on the
// hot path, whose per-request allocations (request and response structs,
// header maps, a goroutine pair per connection) cost more CPU than the rest
// of a load generator; see bench/README.md for the numbers.
type httpTransport struct {
	dial    dialer
	pool    connPool
	timeout time.Duration // per call
	limit   int           // response body bound
}

// exchange sends one rendered request (op names it in errors: "POST
// /v2/models/m/infer") and reads the answer into res, its body into *body.
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
func (t *httpTransport) exchange(ctx context.Context, w *abortWatch, op string, req []byte, method string, res *httpResponse, body *[]byte) error {
	deadline := time.Now().Add(t.timeout)
	ctxFirst := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxFirst = d, true
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		c, reused, err := t.conn(ctx, deadline)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("%s: %w", op, cerr)
			}
			return &transportError{op: op, err: err} // refused, unreachable, a connect timeout
		}
		err = roundTrip(c, w, deadline, req, method, res, body, t.limit)
		if err == nil {
			if res.close {
				c.close()
			} else {
				t.pool.put(c)
			}
			return nil
		}
		c.close()
		if reused && attempt == 0 && !res.started && ctx.Err() == nil && !isTimeout(err) && !isMalformed(err) {
			continue
		}
		return t.wrap(ctx, op, err, ctxFirst)
	}
}

// conn takes a live idle connection or dials a new one.
func (t *httpTransport) conn(ctx context.Context, deadline time.Time) (c *httpConn, reused bool, err error) {
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
	c, err = t.dial.dial(ctx, deadline)
	return c, false, err
}

// roundTrip writes a request on c and reads the answer.
func roundTrip(c *httpConn, w *abortWatch, deadline time.Time, req []byte, method string, res *httpResponse, body *[]byte, limit int) error {
	res.started = false
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	if !w.attach(c.nc) {
		return context.Canceled
	}
	defer w.detach()
	if _, err := c.nc.Write(req); err != nil {
		return err
	}
	return readResponse(c.br, method, res, body, limit)
}

// wrap words a failed exchange for the error tally: the context's error
// when it ended or its deadline was the call's (the deadline set on the
// connection fired because of it), a timeout as context.DeadlineExceeded,
// network errors without the local address (an ephemeral port in the
// message would split one kind of failure into one group per connection).
func (t *httpTransport) wrap(ctx context.Context, op string, err error, ctxDeadline bool) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	switch {
	case isMalformed(err):
		return err
	case isTimeout(err) && ctxDeadline:
		return fmt.Errorf("%s: %w", op, context.DeadlineExceeded)
	case isTimeout(err):
		return &timeoutError{op: op, after: t.timeout}
	}
	return &transportError{op: op, err: err}
}

// isTimeout reports whether err is a deadline that fired on the
// connection (or while dialing).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func isMalformed(err error) bool {
	var me *MalformedResponseError
	return errors.As(err, &me)
}

// timeoutError is a call that got no complete answer in time. It is a
// context.DeadlineExceeded, as net/http reports it.
type timeoutError struct {
	op    string
	after time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s: no complete answer within %v: %v", e.op, e.after, context.DeadlineExceeded)
}
func (e *timeoutError) Unwrap() error   { return context.DeadlineExceeded }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// transportError is a network failure of one call.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string {
	var oe *net.OpError
	msg := e.err.Error()
	switch {
	case errors.As(e.err, &oe) && oe.Err != nil:
		msg = oe.Op
		if oe.Net != "" {
			msg += " " + oe.Net
		}
		if oe.Addr != nil {
			msg += " " + oe.Addr.String()
		}
		msg += ": " + oe.Err.Error()
	case errors.Is(e.err, io.ErrUnexpectedEOF):
		msg = "the server closed the connection in the middle of the response: " + msg
	case errors.Is(e.err, io.EOF):
		msg = "the server closed the connection without a response: " + msg
	}
	return e.op + ": " + msg
}

func (e *transportError) Unwrap() error { return e.err }

var _ net.Error = (*timeoutError)(nil)

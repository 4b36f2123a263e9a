package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// MalformedResponseError is a response that arrived but cannot be used: an
// undecodable body, or data that does not fit its shape.
type MalformedResponseError struct{ Err error }

func (e *MalformedResponseError) Error() string { return "malformed response: " + e.Err.Error() }
func (e *MalformedResponseError) Unwrap() error { return e.Err }

// Malformed makes a MalformedResponseError.
func Malformed(format string, args ...any) error {
	return &MalformedResponseError{Err: fmt.Errorf(format, args...)}
}

// IsMalformed reports whether err is a MalformedResponseError.
func IsMalformed(err error) bool {
	var me *MalformedResponseError
	return errors.As(err, &me)
}

// IsTimeout reports whether err is a deadline that fired on the
// connection (or while dialing).
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// Clip shortens a quoted piece of a response for a message.
func Clip(b []byte) []byte { return b[:min(len(b), 64)] }

// Deadline is a call's deadline: timeout from now, or ctx's deadline when
// that comes first (ctxFirst).
func Deadline(ctx context.Context, timeout time.Duration) (deadline time.Time, ctxFirst bool) {
	deadline = time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		return d, true
	}
	return deadline, false
}

// Wrap words a failed call (op names it: "POST /v2/models/m/infer",
// "ModelInfer") for the error tally: the context's error when it ended or
// its deadline was the call's (ctxFirst: the deadline set on the connection
// fired because of it), a malformed response as it is, a timeout as a
// TimeoutError after timeout, anything else as a network Error.
func Wrap(ctx context.Context, op string, err error, ctxFirst bool, timeout time.Duration) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	err = TLSProblem("", err, false) // an alert from the server: a client certificate it wants
	switch {
	case IsMalformed(err):
		return err
	case IsTimeout(err) && ctxFirst:
		return fmt.Errorf("%s: %w", op, context.DeadlineExceeded)
	case IsTimeout(err):
		return &TimeoutError{Op: op, After: timeout}
	}
	return &Error{Op: op, Err: err}
}

// TimeoutError is a call that got no complete answer in time. It is a
// context.DeadlineExceeded, as net/http reports it.
type TimeoutError struct {
	Op    string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: no complete answer within %v: %v", e.Op, e.After, context.DeadlineExceeded)
}
func (e *TimeoutError) Unwrap() error   { return context.DeadlineExceeded }
func (e *TimeoutError) Timeout() bool   { return true }
func (e *TimeoutError) Temporary() bool { return true }

var _ net.Error = (*TimeoutError)(nil)

// Error is a network failure of one call. Its message leaves out the local
// address: an ephemeral port in it would split one kind of failure into
// one group per connection.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string {
	var (
		oe *net.OpError
		te *TLSError
	)
	msg := e.Err.Error()
	switch {
	case errors.As(e.Err, &te):
		msg = te.Error()
	case errors.As(e.Err, &oe) && oe.Err != nil:
		msg = oe.Op
		if oe.Net != "" {
			msg += " " + oe.Net
		}
		if oe.Addr != nil {
			msg += " " + oe.Addr.String()
		}
		msg += ": " + oe.Err.Error()
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		msg = "the server closed the connection in the middle of the response: " + msg
	case errors.Is(e.Err, io.EOF):
		msg = "the server closed the connection without a response: " + msg
	}
	return e.Op + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// HeaderField is one header to send (HTTP/1.1) or one metadata field (gRPC).
type HeaderField struct{ Name, Value string }

// ValidHeader reports whether a header can be sent as is: a token for a
// name, no control characters but tab in the value.
func ValidHeader(name, value string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

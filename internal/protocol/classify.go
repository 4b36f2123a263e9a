package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/transport"
)

// ValidationError is a response that decoded but does not answer the
// request: an output missing, or of another datatype or shape than the
// model's metadata says.
type ValidationError struct{ Err error }

func (e *ValidationError) Error() string { return "invalid response: " + e.Err.Error() }
func (e *ValidationError) Unwrap() error { return e.Err }

// ValidateResponse checks a response against the model's metadata: every
// output the metadata names is present (or, when requested is not empty,
// every requested output), with the metadata's datatype and a shape that
// fits the metadata's (-1 matches any size).
func ValidateResponse(md *kserve.ModelMetadata, requested []string, resp *kserve.InferResponse) error {
	want := md.Outputs
	if len(requested) > 0 {
		want = nil
		for _, name := range requested {
			for _, o := range md.Outputs {
				if o.Name == name {
					want = append(want, o)
				}
			}
		}
	}
	var missing []string
	for _, w := range want {
		got := resp.Output(w.Name)
		if got == nil {
			missing = append(missing, w.Name)
			continue
		}
		if got.Datatype != w.Datatype {
			return &ValidationError{fmt.Errorf("output '%s' has datatype %s, the model's metadata says %s", w.Name, got.Datatype, w.Datatype)}
		}
		fits := len(got.Shape) == len(w.Shape)
		for i := 0; fits && i < len(w.Shape); i++ {
			fits = w.Shape[i] < 0 || got.Shape[i] == w.Shape[i]
		}
		if !fits {
			return &ValidationError{fmt.Errorf("output '%s' has shape %v, the model's metadata says %v", w.Name, got.Shape, w.Shape)}
		}
	}
	if len(missing) > 0 {
		return &ValidationError{fmt.Errorf("the response lacks output(s) %s", strings.Join(missing, ", "))}
	}
	return nil
}

// Classify names the kind of failure an error from a client call is, for
// the error taxonomy (measure.Class*), and gives the message to group it by.
func Classify(err error) (class, message string) {
	message = err.Error()
	var (
		se *ServerError
		me *MalformedResponseError
		ve *ValidationError
		ne net.Error
	)
	switch {
	case errors.As(err, &ve):
		return measure.ClassValidation, message
	case transport.IsTLS(err):
		return measure.ClassTLS, message
	case errors.As(err, &me):
		return measure.ClassMalformed, message
	case errors.As(err, &se):
		if se.HTTPStatus != 0 {
			return measure.ClassHTTPStatus, message
		}
		class = classifyGRPC(se)
		if class == measure.ClassTimeout && se.GRPCCode == codes.DeadlineExceeded {
			// grpc-go words one expired deadline several ways (the context
			// error, or the RST_STREAM it sent); they are one group.
			message = "gRPC DeadlineExceeded: the request's deadline expired"
		}
		return class, message
	case grpcStatusError(err, &se):
		// A grpc-go status not worded as a ServerError: classified as one.
		return Classify(se)
	case errors.Is(err, context.DeadlineExceeded):
		return measure.ClassTimeout, message
	case errors.Is(err, context.Canceled):
		return measure.ClassCanceled, message
	case connectionRefused(err):
		return measure.ClassConnectionRefused, message
	case connectionReset(err), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return measure.ClassConnectionReset, message
	case errors.As(err, &ne) && ne.Timeout():
		return measure.ClassTimeout, message
	}
	var ke *kserve.Error
	if errors.As(err, &ke) {
		return measure.ClassMalformed, message
	}
	return measure.ClassOther, message
}

// classifyGRPC separates transport failures, which gRPC reports as
// UNAVAILABLE or DEADLINE_EXCEEDED, from statuses the server chose.
func classifyGRPC(se *ServerError) string {
	msg := strings.ToLower(se.Message)
	switch se.GRPCCode {
	case codes.DeadlineExceeded:
		return measure.ClassTimeout
	case codes.Canceled:
		return measure.ClassCanceled
	case codes.Unavailable, codes.Internal, codes.Unknown:
		// grpc-go words its transport's failures in the message:
		// "connection error: desc = \"transport: Error while dialing: ...\"",
		// "transport: authentication handshake failed: tls: ...".
		switch {
		case strings.Contains(msg, "connection refused"):
			return measure.ClassConnectionRefused
		case strings.Contains(msg, "authentication handshake failed"), strings.Contains(msg, "tls: "), strings.Contains(msg, "x509: "):
			return measure.ClassTLS
		case strings.Contains(msg, "i/o timeout"):
			return measure.ClassTimeout
		case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"),
			strings.Contains(msg, "error reading from server"), strings.Contains(msg, "connection closed"),
			strings.Contains(msg, "eof"):
			return measure.ClassConnectionReset
		}
	}
	return measure.ClassGRPCStatus
}

// grpcStatusError reports whether err carries a gRPC status (grpc-go's
// status errors, wrapped or not) other than OK, and words it as a
// ServerError.
func grpcStatusError(err error, se **ServerError) bool {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK {
		return false
	}
	*se = &ServerError{GRPCCode: st.Code(), Message: st.Message()}
	return true
}

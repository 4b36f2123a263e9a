package kserve

import (
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
)

// Code is a Triton core error code (TRITONSERVER_Error_Code). It decides the
// HTTP status and the gRPC status a server answers with.
type Code int

// Triton's error codes.
const (
	CodeUnknown Code = iota
	CodeInternal
	CodeNotFound
	CodeInvalidArg
	CodeUnavailable
	CodeUnsupported
	CodeAlreadyExists
	CodeCancelled
)

var codeNames = [...]string{"UNKNOWN", "INTERNAL", "NOT_FOUND", "INVALID_ARG", "UNAVAILABLE", "UNSUPPORTED", "ALREADY_EXISTS", "CANCELLED"}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// HTTPStatus maps a code as Triton's HttpCodeFromError does.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeInternal:
		return http.StatusInternalServerError
	case CodeNotFound:
		return http.StatusNotFound
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeUnsupported:
		return http.StatusNotImplemented
	default:
		return http.StatusBadRequest
	}
}

// GRPCCode maps a code as Triton's grpc_utils.cc does.
func (c Code) GRPCCode() codes.Code {
	switch c {
	case CodeInternal:
		return codes.Internal
	case CodeNotFound:
		return codes.NotFound
	case CodeInvalidArg:
		return codes.InvalidArgument
	case CodeUnavailable:
		return codes.Unavailable
	case CodeUnsupported:
		return codes.Unimplemented
	case CodeAlreadyExists:
		return codes.AlreadyExists
	case CodeCancelled:
		return codes.Canceled
	default:
		return codes.Unknown
	}
}

// Error is a protocol error with the Triton code that classifies it.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf makes an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of an *Error in err's chain, or CodeUnknown.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnknown
}

// invalid is shorthand for an INVALID_ARG error, the code of nearly every
// malformed request.
func invalid(format string, args ...any) *Error { return Errorf(CodeInvalidArg, format, args...) }

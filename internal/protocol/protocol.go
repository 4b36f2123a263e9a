// Package protocol holds the Client interface the load engine drives and
// one adapter per wire: KServe v2 over HTTP with Triton's binary tensors
// (kserve-http), over HTTP with pure JSON (kserve-http-json) and over gRPC
// (kserve-grpc); and two that send images rather than tensors: NIM's
// /v1/infer (nim-http) and any HTTP model service (http-json). Every call
// runs under a deadline. It knows nothing of plans or reports.
package protocol

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/sanitize"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Kind names a wire protocol.
type Kind string

// The protocol kinds.
const (
	KServeHTTP     Kind = "kserve-http"      // KServe v2 HTTP, inputs and outputs as Triton binary tensors
	KServeHTTPJSON Kind = "kserve-http-json" // KServe v2 HTTP, pure JSON
	KServeGRPC     Kind = "kserve-grpc"      // KServe v2 gRPC, raw_input_contents
	NIMHTTP        Kind = "nim-http"         // NIM's POST /v1/infer, images as base64 data URLs
	HTTPJSON       Kind = "http-json"        // any HTTP model service: the image in a body template, multipart or raw
)

// Kinds lists the protocol kinds.
var Kinds = []Kind{KServeHTTP, KServeHTTPJSON, KServeGRPC, NIMHTTP, HTTPJSON}

// KServeKinds lists the kinds that speak the Open Inference Protocol:
// tensors in, tensors out, the model's metadata from the server.
var KServeKinds = []Kind{KServeHTTP, KServeHTTPJSON, KServeGRPC}

// SendsImages reports whether a kind sends encoded images (PNG, JPEG)
// rather than tensors: its requests carry the image files themselves.
func (k Kind) SendsImages() bool { return k == NIMHTTP || k == HTTPJSON }

// Defaults for Options.
const (
	DefaultTimeout        = 60 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	// DefaultMaxResponseSize bounds a response: an HTTP body, a gRPC
	// message. Each worker may hold a buffer of that size, so it is what a
	// hostile or broken server can make a worker hold (c workers: c times
	// it). 64 MiB holds what inference servers answer with room to spare
	// (YOLOv8's output0 [1,84,8400] FP32 is 2.8 MB in binary, about 9 MB as
	// JSON; a batch of 8 in binary 23 MB; with segmentation masks 58 MB),
	// is far above grpc-go's 4 MiB default, which a batch exceeds, and a
	// quarter of the 256 MiB it was.
	DefaultMaxResponseSize = 64 << 20
)

// Options configure a client.
type Options struct {
	Kind Kind
	// URL of the server: http://host:port for the HTTP kinds (the scheme
	// may be left out), host:port or grpc://host:port for gRPC.
	URL string
	// Timeout bounds every call, DefaultTimeout if zero; a context with an
	// earlier deadline wins.
	Timeout time.Duration
	// ConnectTimeout bounds establishing a connection, DefaultConnectTimeout if zero.
	ConnectTimeout time.Duration
	// Headers are sent with every call (HTTP headers, gRPC metadata).
	Headers map[string]string
	// MaxResponseSize bounds a response's body or message,
	// DefaultMaxResponseSize if zero: no buffer grows past it, and a
	// length declared above it is refused before anything is read. (The
	// header section is bounded apart, by transport.MaxHeaderBytes.)
	MaxResponseSize int
	// MaxConns bounds the idle keep-alive connections an HTTP client keeps
	// for reuse; set it to the concurrency (or in-flight limit) of the
	// load. Connections beyond it are opened as needed and closed after
	// their request. Zero keeps every connection.
	MaxConns int
	// Connections is the number of gRPC connections (HTTP/2 channels)
	// calls are spread over, DefaultConnections if zero.
	Connections int
	// HTTP shapes the requests of the image kinds (nim-http, http-json).
	HTTP HTTPOptions

	// TLS, when set, makes every connection TLS with this configuration
	// (roots, client certificate, server name); nil is plain text (h2c for
	// gRPC). Built from the deployment's tls settings (issue 14).
	TLS *tls.Config
	// Authority overrides gRPC's :authority pseudo-header and the HTTP
	// Host header (as grpcurl's -authority and curl's -H Host: do); empty
	// uses the URL's host.
	Authority string
	// GRPCTransport chooses the gRPC implementation: GRPCTransportFast (our
	// own HTTP/2 client, the default) or GRPCTransportGo (grpc-go).
	GRPCTransport string
	// Compression compresses request bodies and messages: "" (or "none"),
	// "gzip" or "deflate" (zlib). Payloads are compressed once, by
	// Prepare; HTTP requests say so in Content-Encoding, gRPC messages in
	// grpc-encoding and their compressed flag. Answers in gzip or deflate
	// are decoded whatever this says.
	Compression string
	// SharedMemory is Triton's system shared-memory extension: "" or
	// "none" sends tensors in the messages; "system" writes each payload's
	// inputs once into a POSIX shared-memory region registered with the
	// server and has outputs written into regions of the client's
	// (the KServe kinds; the client must run on the server's host). See
	// shm.go.
	SharedMemory string
}

// gRPC transports (Options.GRPCTransport).
const (
	GRPCTransportFast = "fast"
	GRPCTransportGo   = "grpc-go"
)

// GRPCTransports lists the gRPC transports, the default first.
var GRPCTransports = []string{GRPCTransportFast, GRPCTransportGo}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxResponseSize <= 0 {
		o.MaxResponseSize = DefaultMaxResponseSize
	}
	if o.Connections <= 0 {
		o.Connections = DefaultConnections
	}
	return o
}

// Payload is an inference request prepared for one client's wire: encoded
// once, sent many times.
type Payload interface {
	// Size is the number of bytes the payload puts on the wire, headers aside.
	Size() int
}

// Client talks to one inference server. It is safe for concurrent use.
type Client interface {
	Kind() Kind
	// ServerLive and ServerReady report health; a server that answers "no"
	// gives false and a nil error, one that cannot be reached an error.
	ServerLive(ctx context.Context) (bool, error)
	ServerReady(ctx context.Context) (bool, error)
	ModelReady(ctx context.Context, model, version string) (bool, error)
	ServerMetadata(ctx context.Context) (*kserve.ServerMetadata, error)
	ModelMetadata(ctx context.Context, model, version string) (*kserve.ModelMetadata, error)
	// ModelConfig and ModelStatistics are Triton extensions.
	ModelConfig(ctx context.Context, model, version string) (*pb.ModelConfig, error)
	ModelStatistics(ctx context.Context, model, version string) (*pb.ModelStatisticsResponse, error)
	// Prepare encodes a request once, before any clock starts.
	Prepare(model, version string, req *kserve.InferRequest) (Payload, error)
	// Infer sends a prepared request and decodes the response in full,
	// for callers that need it (check, tests); the load engine uses a
	// Caller instead.
	Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error)
	// NewCaller makes the hot path of one load worker: a Caller that sends
	// prepared requests and checks each response with check (nil checks
	// well-formedness only) without decoding it.
	NewCaller(check *Checker) Caller
	Close() error
}

// Caller sends prepared requests for one worker and checks the answers in
// place, reusing its buffers from call to call: in steady state a call
// allocates nothing (an error may). A Caller is not safe for concurrent
// use; the Client it came from is, so each worker makes its own.
type Caller interface {
	// Call sends p and checks the answer. Its error is classified as
	// Classify describes: the server's status, a timeout (the options'
	// Timeout or ctx's deadline), a connection failure, a malformed or an
	// invalid response.
	Call(ctx context.Context, p Payload) Outcome
	// Close releases what the caller holds; it may not be used after.
	Close() error
}

// Outcome is what one call came to.
type Outcome struct {
	Err error
	// RequestBytes and ResponseBytes are the sizes of the request and
	// response messages as they went on the wire (compressed, when they
	// were): HTTP bodies or gRPC messages, without headers or framing.
	// ResponseBytes counts an error answer's body too, and is 0 when
	// nothing was received.
	RequestBytes, ResponseBytes int
}

// New makes a client of the kind the options name.
func New(opts Options) (Client, error) {
	opts = opts.withDefaults()
	enc, err := compress.Parse(opts.Compression)
	if err != nil {
		return nil, err
	}
	opts.Compression = "" // none, "none" or "identity"
	if enc != compress.None {
		opts.Compression = enc.String() // "gzip" or "deflate", whatever the case given
	}
	if err := CheckSharedMemory(opts.SharedMemory, opts.Kind); err != nil {
		return nil, err
	}
	switch opts.Kind {
	case KServeHTTP, KServeHTTPJSON:
		c, err := newHTTPClient(opts)
		if err != nil {
			return nil, err
		}
		return withSharedMemory(c, opts)
	case KServeGRPC:
		switch opts.GRPCTransport {
		case "", GRPCTransportFast:
			c, err := newGRPCClient(opts)
			if err != nil {
				return nil, err
			}
			return withSharedMemory(c, opts)
		case GRPCTransportGo:
			c, err := newGRPCGoClient(opts)
			if err != nil {
				return nil, err
			}
			return withSharedMemory(c, opts)
		}
		return nil, fmt.Errorf("unknown gRPC transport %q (want %s or %s)", opts.GRPCTransport, GRPCTransportFast, GRPCTransportGo)
	case NIMHTTP, HTTPJSON:
		return newImageClient(opts)
	}
	return nil, fmt.Errorf("unknown protocol %q (want one of %v)", opts.Kind, Kinds)
}

// ServerError is an error the server answered with: an HTTP status other
// than 200, or a gRPC status other than OK.
type ServerError struct {
	HTTPStatus int        // 0 for gRPC
	GRPCCode   codes.Code // codes.OK for HTTP
	Message    string     // the server's message ({"error": ...} for HTTP)
	// Proxy marks an HTTP status answered to a gRPC call: not the gRPC
	// server's answer, but a proxy's in front of it.
	Proxy bool
}

// Error words the server's answer on one line, its control characters
// quoted (sanitize.Line): the message is the server's, and goes on to
// logs, terminals and reports.
func (e *ServerError) Error() string {
	if e.HTTPStatus != 0 && e.Proxy {
		return fmt.Sprintf("HTTP %d from a proxy in front of the gRPC server: %s", e.HTTPStatus, sanitize.Line(e.Message))
	}
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("HTTP %d: %s", e.HTTPStatus, sanitize.Line(e.Message))
	}
	return fmt.Sprintf("gRPC %s: %s", e.GRPCCode, sanitize.Line(e.Message))
}

// MalformedResponseError is a response that arrived but cannot be used: an
// undecodable body, or data that does not fit its shape. The transports
// return it for a response they cannot parse.
type MalformedResponseError = transport.MalformedResponseError

// IsServerError reports whether err is a ServerError, and returns it.
func IsServerError(err error) (*ServerError, bool) {
	var se *ServerError
	ok := errors.As(err, &se)
	return se, ok
}

// responseLimitSetting is what raises the response limit, named in the
// error of a response over it.
const responseLimitSetting = "--max-response-size, or max_response_size in a plan, raises it"

// overLimit names the setting in the error of a response over the
// response limit, and reports whether err is one.
func overLimit(err error) bool {
	if err == nil {
		return false // before le, which escapes: a success allocates nothing
	}
	var le *transport.LimitError
	if !errors.As(err, &le) || !le.Response {
		return false
	}
	le.Setting = responseLimitSetting
	return true
}

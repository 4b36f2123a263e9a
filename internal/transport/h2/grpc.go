package h2

import (
	"encoding/binary"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
)

// HeaderBlock renders the HPACK block of a unary gRPC call to method
// ("/package.Service/Method") on authority, with metadata (lower-case
// keys, checked by the caller), but for its grpc-timeout: AppendTimeout
// adds that per call.
func HeaderBlock(method, authority string, metadata []transport.HeaderField) []byte {
	b := appendHpackIndexed(nil, hpackMethodPOST)
	b = appendHpackIndexed(b, hpackSchemeHTTP)
	b = appendHpackLiteral(b, hpackPath, "", method)
	b = appendHpackLiteral(b, hpackAuthority, "", authority)
	b = appendHpackLiteral(b, hpackContentType, "", "application/grpc")
	b = appendHpackLiteral(b, 0, "te", "trailers")
	b = appendHpackLiteral(b, hpackUserAgent, "", "inferbench")
	for _, f := range metadata {
		b = appendHpackLiteral(b, 0, f.Name, f.Value)
	}
	return b
}

// AppendTimeout appends the grpc-timeout field for d to a header block.
func AppendTimeout(b []byte, d time.Duration) []byte {
	var v [16]byte
	value := appendGRPCTimeout(v[:0], d)
	b = appendHpackInt(b, 4, 0, 0)
	b = appendHpackString(b, "grpc-timeout")
	b = appendHpackInt(b, 7, 0, uint64(len(value)))
	return append(b, value...)
}

// FrameMessage length-prefixes an encoded message.
func FrameMessage(msg []byte) []byte {
	b := make([]byte, PrefixLen, PrefixLen+len(msg))
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

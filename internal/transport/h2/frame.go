// Package h2 is inferbench's gRPC transport: HTTP/2 (RFC 9113) without
// TLS, prior knowledge, unary calls only, with HPACK (RFC 7541) through
// golang.org/x/net. It replaces grpc-go on the hot path, whose unary call
// allocates some 90 objects (5.7 KB) and hands every call between three
// goroutines: that cost more CPU per call than the rest of a load
// generator. Callers own their streams and reuse them; nothing is
// allocated per call in steady state. It knows the gRPC wire (length-
// prefixed messages, grpc-status trailers), not what the messages say.
package h2

import (
	"encoding/binary"
	"strconv"
	"time"
)

// HTTP/2 as the gRPC client needs it: frame types, flags,
// settings, and the HPACK (RFC 7541) encodings it writes.

const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Frame types.
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20
)

// Settings.
const (
	settingHeaderTableSize      = 0x1
	settingEnablePush           = 0x2
	settingMaxConcurrentStreams = 0x3
	settingInitialWindowSize    = 0x4
	settingMaxFrameSize         = 0x5
)

// Error codes of RST_STREAM and GOAWAY.
const (
	noError           = 0x0
	protocolErrorCode = 0x1
	internalError     = 0x2
	FlowControl       = 0x3
	RefusedStream     = 0x7
	Cancel            = 0x8
	EnhanceYourCalm   = 0xb
)

const (
	frameHeaderLen   = 9
	DefaultFrameSize = 16384 // SETTINGS_MAX_FRAME_SIZE's initial value
	defaultWindow    = 65535 // SETTINGS_INITIAL_WINDOW_SIZE's initial value
	maxWindow        = 1<<31 - 1
	maxReadFrameSize = 1 << 24 // the largest frame length the format allows
	// PrefixLen is the length-prefixed message header: a compressed
	// flag and a 4-byte big-endian length.
	PrefixLen = 5
)

// appendFrameHeader appends a frame header.
func appendFrameHeader(b []byte, length int, typ, flags byte, stream uint32) []byte {
	b = append(b, byte(length>>16), byte(length>>8), byte(length), typ, flags)
	return binary.BigEndian.AppendUint32(b, stream&0x7fffffff)
}

// appendSetting appends one setting of a SETTINGS frame's payload.
func appendSetting(b []byte, id uint16, v uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	return binary.BigEndian.AppendUint32(b, v)
}

// appendHpackInt appends an HPACK integer with an n-bit prefix, first
// carrying the bits above the prefix.
func appendHpackInt(b []byte, n uint, first byte, v uint64) []byte {
	max := uint64(1)<<n - 1
	if v < max {
		return append(b, first|byte(v))
	}
	b = append(b, first|byte(max))
	for v -= max; v >= 128; v >>= 7 {
		b = append(b, byte(v&0x7f)|0x80)
	}
	return append(b, byte(v))
}

// appendHpackString appends a string literal, not Huffman-coded.
func appendHpackString(b []byte, s string) []byte {
	b = appendHpackInt(b, 7, 0, uint64(len(s)))
	return append(b, s...)
}

// HPACK static table indexes of the names and fields the client sends.
const (
	hpackAuthority   = 1
	hpackMethodPOST  = 3
	hpackPath        = 4
	hpackSchemeHTTP  = 6
	hpackContentType = 31
	hpackUserAgent   = 58
)

// appendHpackIndexed appends a field of the static table.
func appendHpackIndexed(b []byte, index uint64) []byte { return appendHpackInt(b, 7, 0x80, index) }

// appendHpackLiteral appends a field as a literal without indexing: the
// client never touches the dynamic table, so a header block rendered once
// stays valid for the connection's life.
func appendHpackLiteral(b []byte, nameIndex uint64, name, value string) []byte {
	b = appendHpackInt(b, 4, 0, nameIndex)
	if nameIndex == 0 {
		b = appendHpackString(b, name)
	}
	return appendHpackString(b, value)
}

// appendGRPCTimeout appends a grpc-timeout value for d, as grpc-go
// renders it: at most 8 digits, in the finest unit that fits, rounded up.
func appendGRPCTimeout(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, "0n"...)
	}
	const maxValue = 1e8 - 1
	for _, u := range []struct {
		unit time.Duration
		code byte
	}{{time.Nanosecond, 'n'}, {time.Microsecond, 'u'}, {time.Millisecond, 'm'}, {time.Second, 'S'}, {time.Minute, 'M'}} {
		if v := (d + u.unit - 1) / u.unit; v <= maxValue {
			return append(strconv.AppendInt(b, int64(v), 10), u.code)
		}
	}
	return append(strconv.AppendInt(b, int64((d+time.Hour-1)/time.Hour), 10), 'H')
}

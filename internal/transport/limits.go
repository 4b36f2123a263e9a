package transport

import (
	"fmt"
	"strconv"
)

// What a server may make the client hold, whatever it sends: a response
// body or gRPC message up to the caller's limit (Config.Limit), a header
// section up to MaxHeaderBytes. Buffers grow as bytes arrive and never
// past those limits (Grow); a length declared above a limit is refused
// before anything is read.

// MaxHeaderBytes bounds a response's header section: the status line and
// header lines of HTTP/1.1 (interim 1xx responses and trailers included),
// an HTTP/2 header block with its CONTINUATION frames. 1 MiB, as net/http
// (DefaultMaxHeaderBytes) and far above what an inference server sends (a
// few hundred bytes).
const MaxHeaderBytes = 1 << 20

// LimitError is a response over one of the client's limits. It comes
// wrapped in a MalformedResponseError (the call is a malformed_response),
// and the connection it came on is closed.
type LimitError struct {
	What  string // "response body", "response headers", "HTTP/2 header block"...
	Size  int64  // what the server declared or sent so far; -1 when unknown
	Limit int64
	Unit  string // of Size and Limit: "bytes" unless set ("frames")
	// Response marks the caller's limit on a response body or message
	// (Config.Limit), as opposed to the transport's own limits.
	Response bool
	// Setting names what raises the limit, for the message; empty for none.
	Setting string
}

func (e *LimitError) Error() string {
	unit := e.Unit
	if unit == "" {
		unit = "bytes"
	}
	lim := strconv.FormatInt(e.Limit, 10) + " " + unit
	if unit == "bytes" {
		lim = FormatSize(e.Limit)
	}
	msg := fmt.Sprintf("%s of %d %s exceeds the limit of %s", e.What, e.Size, unit, lim)
	if e.Size < 0 {
		msg = fmt.Sprintf("%s exceeds the limit of %s", e.What, lim)
	}
	if e.Setting != "" {
		msg += " (" + e.Setting + ")"
	}
	return msg
}

// OverLimit makes the MalformedResponseError of a LimitError in bytes.
func OverLimit(what string, size, limit int64) error {
	return &MalformedResponseError{Err: &LimitError{What: what, Size: size, Limit: limit}}
}

// OverResponseLimit makes the error of a response body or message over
// the caller's limit: a LimitError whose Setting the caller may fill in.
func OverResponseLimit(what string, size, limit int64) error {
	return &MalformedResponseError{Err: &LimitError{What: what, Size: size, Limit: limit, Response: true}}
}

// FormatSize words a byte count for a message: "64 MiB (67108864 bytes)"
// for a whole number of KiB, MiB or GiB, else "1000 bytes".
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		v    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.v && n%u.v == 0 {
			return fmt.Sprintf("%d %s (%d bytes)", n/u.v, u.name, n)
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Grow returns buf with room for n more bytes, grown (if it must be) to
// twice its capacity, at least 4 KiB, but never past capMax: a buffer
// holds at most capMax bytes whatever arrives. capMax must be at least
// len(buf)+n. Growth allocates exactly the new capacity, so that a
// buffer's size is the limit's, not the allocator's rounding of a
// doubling past it.
func Grow(buf []byte, n, capMax int) []byte {
	need := len(buf) + n
	if need <= cap(buf) {
		return buf
	}
	c := min(max(2*cap(buf), need, 4<<10), max(capMax, need))
	nb := make([]byte, len(buf), c)
	copy(nb, buf)
	return nb
}

// TLSRecord reports whether b, the first bytes a server answered with,
// begin a TLS record (a handshake 0x16 or an alert 0x15, version 3.x):
// the port speaks TLS, and the client sent it plain text.
func TLSRecord(b []byte) bool {
	return len(b) >= 2 && (b[0] == 0x16 || b[0] == 0x15) && b[1] == 0x03
}

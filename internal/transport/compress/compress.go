// Package compress is the content codings the client and the reference
// server speak: gzip (RFC 1952) and deflate, which HTTP (RFC 9110) and
// gRPC define as zlib (RFC 1950), with raw DEFLATE (RFC 1951) accepted in
// its place as browsers accept it. Requests are compressed once, before a
// run (Compress); answers are decoded into a buffer reused from call to
// call and bounded (Decoder): a small body that inflates past the limit
// (a zip bomb) is refused once the limit is reached, never held.
package compress

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"strings"

	"github.com/inferbench/inferbench/internal/transport"
)

// Encoding is a content coding.
type Encoding uint8

// The codings. Unknown is a coding named but not spoken (br, zstd,
// snappy): its body cannot be read.
const (
	None Encoding = iota
	Gzip
	Deflate
	Unknown
)

// Names lists the codings a request may be compressed with.
var Names = []string{"gzip", "deflate"}

func (e Encoding) String() string {
	switch e {
	case None:
		return "identity"
	case Gzip:
		return "gzip"
	case Deflate:
		return "deflate"
	}
	return "unknown"
}

// Parse reads a coding's name as a request option: "" and "none" are
// None; gzip and deflate, whatever their case; anything else an error.
func Parse(name string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "none", "identity":
		return None, nil
	case "gzip":
		return Gzip, nil
	case "deflate":
		return Deflate, nil
	}
	return None, fmt.Errorf("compression %q: want gzip, deflate or none", name)
}

// Of reads a Content-Encoding or grpc-encoding header's value, without
// allocating: empty and identity are None, gzip (x-gzip) and deflate what
// they say, anything else (a list of codings included) Unknown.
func Of(value []byte) Encoding {
	v := bytes.TrimSpace(value)
	switch {
	case len(v) == 0 || bytes.EqualFold(v, []byte("identity")):
		return None
	case bytes.EqualFold(v, []byte("gzip")) || bytes.EqualFold(v, []byte("x-gzip")):
		return Gzip
	case bytes.EqualFold(v, []byte("deflate")):
		return Deflate
	}
	return Unknown
}

// OfString is Of for a string.
func OfString(value string) Encoding {
	v := strings.TrimSpace(value)
	switch {
	case v == "" || strings.EqualFold(v, "identity"):
		return None
	case strings.EqualFold(v, "gzip") || strings.EqualFold(v, "x-gzip"):
		return Gzip
	case strings.EqualFold(v, "deflate"):
		return Deflate
	}
	return Unknown
}

// Compress encodes src in e (gzip, or deflate as zlib) at the default
// level; None returns src itself.
func Compress(e Encoding, src []byte) ([]byte, error) {
	var b bytes.Buffer
	var w io.WriteCloser
	switch e {
	case None:
		return src, nil
	case Gzip:
		w = gzip.NewWriter(&b)
	case Deflate:
		w = zlib.NewWriter(&b)
	default:
		return nil, fmt.Errorf("cannot compress in the %s coding", e)
	}
	if _, err := w.Write(src); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// IsZlib reports whether b begins with a zlib header (RFC 1950): method 8
// (deflate), a window of at most 32 KiB, and a check that makes the first
// two bytes a multiple of 31. Raw DEFLATE data fails it (a first block
// that happened to pass would be a 1-in-31 coincidence of its bits, and
// zlib's checksum would then fail).
func IsZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// Decoder decodes bodies into a buffer of its own, reused from call to
// call; its readers are reused too, so that decoding allocates nothing in
// steady state. It is not safe for concurrent use: each caller has one.
type Decoder struct {
	src  bytes.Reader
	gz   *gzip.Reader
	fl   io.ReadCloser // raw DEFLATE, zlib's too
	buf  []byte
	peek [1]byte
}

// Decode decodes src, in coding e, into the decoder's buffer and returns
// it (valid until the next Decode). At most limit decoded bytes are held:
// more is a response over the limit (transport.OverResponseLimit, what
// naming the body: "response body", "response message"); data that does
// not decode is a malformed response.
func (d *Decoder) Decode(e Encoding, src []byte, limit int, what string) ([]byte, error) {
	d.src.Reset(src)
	var r io.Reader
	switch e {
	case None:
		return src, nil
	case Gzip:
		if d.gz == nil {
			gz, err := gzip.NewReader(&d.src)
			if err != nil {
				return nil, undecodable(e, what, err)
			}
			d.gz = gz
		} else if err := d.gz.Reset(&d.src); err != nil {
			return nil, undecodable(e, what, err)
		}
		r = d.gz
	case Deflate:
		zlibbed := IsZlib(src)
		if zlibbed {
			// zlib is a 2-byte header, raw DEFLATE and an Adler-32 of the
			// data: read here around the raw reader, as compress/zlib
			// would allocate a checksum per body.
			if src[1]&0x20 != 0 {
				return nil, transport.Malformed("a %s in deflate (zlib) with a preset dictionary, which HTTP does not use", what)
			}
			d.src.Reset(src[2:])
		}
		if d.fl == nil {
			d.fl = flate.NewReader(&d.src)
		} else if err := d.fl.(flate.Resetter).Reset(&d.src, nil); err != nil {
			return nil, undecodable(e, what, err)
		}
		buf, err := d.read(d.fl, e, limit, what)
		if err != nil || !zlibbed {
			return buf, err
		}
		rest := src[len(src)-d.src.Len():] // the flate reader reads no byte past its data
		if len(rest) < 4 {
			return nil, undecodable(e, what, io.ErrUnexpectedEOF)
		}
		if binary.BigEndian.Uint32(rest) != adler32.Checksum(buf) {
			return nil, undecodable(e, what, zlib.ErrChecksum)
		}
		return buf, nil
	default:
		return nil, transport.Malformed("a %s in a coding the client cannot decode (it decodes gzip and deflate)", what)
	}
	return d.read(r, e, limit, what)
}

// read reads a decoding reader into the decoder's buffer, bounded.
func (d *Decoder) read(r io.Reader, e Encoding, limit int, what string) ([]byte, error) {
	buf, err := readBounded(r, d.buf[:0], limit, d.peek[:])
	if buf != nil {
		d.buf = buf[:0] // kept, grown or not, for the next call
	}
	if err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			le.What = "decoded " + what
			return nil, err
		}
		return nil, undecodable(e, what, err)
	}
	return buf, nil
}

// undecodable is data that does not decode in its coding.
func undecodable(e Encoding, what string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return transport.Malformed("a %s in %s that does not decode: %v", what, e, err)
}

// readBounded reads r to its end into buf, growing it as bytes arrive
// (transport.Grow), never past limit: a reader with more is over the
// limit, found by reading one byte more (into peek) at the limit.
func readBounded(r io.Reader, buf []byte, limit int, peek []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= limit {
				n, err := io.ReadFull(r, peek)
				if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
					return buf, nil
				}
				if err != nil && n == 0 {
					return buf, err
				}
				return buf, transport.OverResponseLimit("body", -1, int64(limit))
			}
			buf = transport.Grow(buf, 1, limit)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

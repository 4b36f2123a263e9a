// Package jsonscan reads JSON text in place: a strict reader (exactly
// what json.Valid accepts) that validates values and hands out their raw
// bytes, sharing memory with the input, and lookups of a value at a path
// built on it. The KServe codec walks request and response bodies with
// it; the HTTP adapters check answers with it, without decoding or
// allocating.
package jsonscan

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Reader is a strict reader of JSON text (RFC 8259, exactly what
// json.Valid accepts) over a byte slice. Rather than decode values it
// validates them and hands out their raw bytes, which share memory with the
// input. The request and response decoders walk the few objects of a body
// with it and decode the small values themselves, so the bulk of a body,
// tensor data, is validated in one pass and never copied, and no structure
// is allocated for a JSON value before it has been checked.
type Reader struct {
	b     []byte
	i     int
	depth int
}

// NewReader makes a reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Reset makes r read b from its start.
func (r *Reader) Reset(b []byte) { *r = Reader{b: b} }

// Pos is the cursor: the offset in the input of the next byte to read.
func (r *Reader) Pos() int { return r.i }

// Since returns the input from offset start to the cursor.
func (r *Reader) Since(start int) []byte { return r.b[start:r.i] }

// MaxDepth bounds the nesting of arrays and objects, as in encoding/json.
const MaxDepth = 10000

// skipSpace moves past white space.
func (r *Reader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// Peek returns the next byte after white space, or 0 at the end.
func (r *Reader) Peek() byte {
	r.skipSpace()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// SyntaxError describes the byte at the cursor as unexpected.
func (r *Reader) SyntaxError() error {
	if r.i >= len(r.b) {
		return fmt.Errorf("unexpected end of JSON input at byte %d", r.i)
	}
	c := r.b[r.i]
	if c >= 0x20 && c < utf8.RuneSelf {
		return fmt.Errorf("invalid character '%c' at byte %d", c, r.i)
	}
	return fmt.Errorf("invalid byte 0x%02x at byte %d", c, r.i)
}

// Value validates the value after the cursor and returns its raw bytes.
func (r *Reader) Value() ([]byte, error) {
	r.skipSpace()
	start := r.i
	if err := r.SkipValue(); err != nil {
		return nil, err
	}
	return r.b[start:r.i], nil
}

// SkipValue validates the value at the cursor and moves past it.
func (r *Reader) SkipValue() error {
	if r.i >= len(r.b) {
		return r.SyntaxError()
	}
	switch c := r.b[r.i]; c {
	case '{':
		return r.Object(func([]byte) error { _, err := r.Value(); return err })
	case '[':
		return r.Array(func(int) error { _, err := r.Value(); return err })
	case '"':
		return r.skipString()
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return r.skipNumber()
		}
		return r.SyntaxError()
	}
}

// literal moves past true, false or null.
func (r *Reader) literal(lit string) error {
	if !bytes.HasPrefix(r.b[r.i:], []byte(lit)) {
		for k := 0; r.i < len(r.b) && k < len(lit) && r.b[r.i] == lit[k]; k++ {
			r.i++
		}
		return r.SyntaxError()
	}
	r.i += len(lit)
	return nil
}

// skipString validates the string at the cursor: no raw control
// characters, only the escapes JSON defines. Like encoding/json it lets
// invalid UTF-8 through (decoding replaces it with U+FFFD).
func (r *Reader) skipString() error {
	r.i++ // opening quote
	for r.i < len(r.b) {
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			return nil
		case c == '\\':
			r.i++
			if r.i >= len(r.b) {
				return r.SyntaxError()
			}
			switch r.b[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for range 4 {
					if r.i >= len(r.b) || !isHexDigit(r.b[r.i]) {
						return r.SyntaxError()
					}
					r.i++
				}
			default:
				return r.SyntaxError()
			}
		case c < 0x20:
			return r.SyntaxError()
		default:
			r.i++
		}
	}
	return r.SyntaxError()
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipNumber validates the number at the cursor:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *Reader) skipNumber() error {
	if r.b[r.i] == '-' {
		r.i++
	}
	switch {
	case r.i < len(r.b) && r.b[r.i] == '0':
		r.i++
	case r.i < len(r.b) && r.b[r.i] >= '1' && r.b[r.i] <= '9':
		r.skipDigits()
	default:
		return r.SyntaxError()
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if !r.skipDigits() {
			return r.SyntaxError()
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if !r.skipDigits() {
			return r.SyntaxError()
		}
	}
	return nil
}

// skipDigits moves past decimal digits and reports whether there was one.
func (r *Reader) skipDigits() bool {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i > start
}

// enter and leave count nesting.
func (r *Reader) enter() error {
	if r.depth++; r.depth > MaxDepth {
		return fmt.Errorf("JSON nested more than %d levels deep at byte %d", MaxDepth, r.i)
	}
	return nil
}

// Object walks the object at the cursor, calling member with the raw key
// (quotes included) of each member; member must consume exactly one value.
func (r *Reader) Object(member func(key []byte) error) error {
	if err := r.enter(); err != nil {
		return err
	}
	r.i++ // '{'
	if r.Peek() == '}' {
		r.i++
		r.depth--
		return nil
	}
	for {
		if r.Peek() != '"' {
			return r.SyntaxError()
		}
		start := r.i
		if err := r.skipString(); err != nil {
			return err
		}
		key := r.b[start:r.i]
		if r.Peek() != ':' {
			return r.SyntaxError()
		}
		r.i++
		if err := member(key); err != nil {
			return err
		}
		switch r.Peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			return nil
		default:
			return r.SyntaxError()
		}
	}
}

// Array walks the array at the cursor, calling elem for each element with
// its index; elem must consume exactly one value.
func (r *Reader) Array(elem func(i int) error) error {
	if err := r.enter(); err != nil {
		return err
	}
	r.i++ // '['
	if r.Peek() == ']' {
		r.i++
		r.depth--
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		switch r.Peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			r.depth--
			return nil
		default:
			return r.SyntaxError()
		}
	}
}

// End checks that nothing but white space follows the top-level value.
func (r *Reader) End() error {
	if r.Peek() != 0 || r.i < len(r.b) {
		return fmt.Errorf("invalid character after the top-level value at byte %d", r.i)
	}
	return nil
}

// Kind names the kind of a raw value for messages: "an object", "a
// number", ...
func Kind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

package kserve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/inferbench/inferbench/internal/jsonscan"
)

// This file holds the hand-written JSON pieces of the HTTP codec: tensor
// data, shapes and parameters, both ways. Tensor data is the bulk of a JSON
// body (a YOLO input is 1.2 million numbers), so it is written with strconv's
// append functions and read by a byte scanner over the raw value that
// jsonscan.Reader has validated, never element by element
// through encoding/json and without an allocation per element.

// appendTensorJSON appends one tensor object. Requests order the keys name,
// shape, datatype; responses, as Triton, name, datatype, shape. Then come
// parameters (when there are any, or when the tensor is binary) and, for a
// JSON tensor, data. binarySize >= 0 makes the tensor binary: it is written
// as parameter binary_data_size and the data key is left out. t must have
// passed Check.
func appendTensorJSON(buf []byte, t *Tensor, response bool, binarySize int, kind string) ([]byte, error) {
	buf = append(buf, `{"name":`...)
	buf = appendJSONQuoted(buf, t.Name)
	if response {
		buf = append(buf, `,"datatype":`...)
		buf = appendJSONQuoted(buf, string(t.Datatype))
		buf = appendShapeJSON(append(buf, `,"shape":`...), t.Shape)
	} else {
		buf = appendShapeJSON(append(buf, `,"shape":`...), t.Shape)
		buf = append(buf, `,"datatype":`...)
		buf = appendJSONQuoted(buf, string(t.Datatype))
	}
	var err error
	shm := t.InSharedMemory() // Triton's shared-memory extension: no data travels
	if shm {
		binarySize = -1
	}
	if binarySize >= 0 || hasParamsBesides(t.Parameters, binaryDataSizeKey) {
		buf = append(buf, `,"parameters":`...)
		if buf, err = appendParamsJSON(buf, t.Parameters, true, binarySize); err != nil {
			return nil, invalid("%s '%s': %v", kind, clipMsg(t.Name), err)
		}
	}
	if binarySize < 0 && !shm {
		if !t.Datatype.JSONAllowed() {
			return nil, invalid("sending %s data via JSON is not supported. Please use the binary data format for %s '%s'", t.Datatype, kind, clipMsg(t.Name))
		}
		buf = append(buf, `,"data":`...)
		if buf, err = appendTensorDataJSON(buf, t.Datatype, t.Data); err != nil {
			return nil, invalid("%s '%s': %v", kind, clipMsg(t.Name), err)
		}
	}
	return append(buf, '}'), nil
}

// appendShapeJSON appends a shape as a JSON array.
func appendShapeJSON(buf []byte, shape []int64) []byte {
	buf = append(buf, '[')
	for i, d := range shape {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, d, 10)
	}
	return append(buf, ']')
}

// hasParamsBesides reports whether p has a key other than skip.
func hasParamsBesides(p Parameters, skip string) bool {
	_, has := p[skip]
	if has {
		return len(p) > 1
	}
	return len(p) > 0
}

// appendParamsJSON appends parameters as a JSON object, keys sorted. For a
// tensor (tensor true) the key binary_data_size in p is skipped, and
// binarySize, if >= 0, is written as binary_data_size last. Values are
// bool, string, int64, uint64 or float64 (finite); anything else is written
// as the string fmt.Sprint makes of it. A float64 that looks integral gets a
// ".0", so that it reads back as a float64.
func appendParamsJSON(buf []byte, p Parameters, tensor bool, binarySize int) ([]byte, error) {
	keys := make([]string, 0, len(p))
	for k := range p {
		if tensor && k == binaryDataSizeKey {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONQuoted(buf, k)
		buf = append(buf, ':')
		switch v := normalizeParam(p[k]).(type) {
		case bool:
			buf = strconv.AppendBool(buf, v)
		case string:
			buf = appendJSONQuoted(buf, v)
		case int64:
			buf = strconv.AppendInt(buf, v, 10)
		case uint64:
			buf = strconv.AppendUint(buf, v, 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("parameter '%s': %v cannot be represented in JSON", clipMsg(k), v)
			}
			start := len(buf)
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			if !bytes.ContainsAny(buf[start:], ".e") {
				buf = append(buf, ".0"...)
			}
		default:
			buf = appendJSONQuoted(buf, fmt.Sprint(v))
		}
	}
	if tensor && binarySize >= 0 {
		if len(keys) > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `"binary_data_size":`...)
		buf = strconv.AppendInt(buf, int64(binarySize), 10)
	}
	return append(buf, '}'), nil
}

// jsonDataEstimate is a generous guess of the JSON size of a tensor's data,
// used to size the body buffer once.
func jsonDataEstimate(t *Tensor) int {
	per := 0 // JSON bytes per raw byte, comma included
	switch t.Datatype {
	case BOOL:
		per = 6 // "false,"
	case UINT8, INT8:
		per = 5
	case UINT16, INT16:
		per = 4
	case UINT32, INT32, FP32:
		per = 4
	case UINT64, INT64, FP64:
		per = 3
	case BYTES:
		return 2 * len(t.Data)
	}
	return per*len(t.Data) + 2
}

// appendTensorDataJSON appends raw data as a flat JSON array. The data must
// have passed Check. FP16 and BF16 are left to the caller; NaN and Inf and
// BYTES elements that are not UTF-8 have no JSON form and fail.
func appendTensorDataJSON(buf []byte, dt DataType, data []byte) ([]byte, error) {
	buf = append(buf, '[')
	le := binary.LittleEndian
	switch dt {
	case BOOL:
		for i, b := range data {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendBool(buf, b != 0)
		}
	case UINT8:
		for i, b := range data {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendUint(buf, uint64(b), 10)
		}
	case INT8:
		for i, b := range data {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, int64(int8(b)), 10)
		}
	case UINT16:
		for i := 0; i < len(data); i += 2 {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendUint(buf, uint64(le.Uint16(data[i:])), 10)
		}
	case INT16:
		for i := 0; i < len(data); i += 2 {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, int64(int16(le.Uint16(data[i:]))), 10)
		}
	case UINT32:
		for i := 0; i < len(data); i += 4 {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendUint(buf, uint64(le.Uint32(data[i:])), 10)
		}
	case INT32:
		for i := 0; i < len(data); i += 4 {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, int64(int32(le.Uint32(data[i:]))), 10)
		}
	case UINT64:
		for i := 0; i < len(data); i += 8 {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendUint(buf, le.Uint64(data[i:]), 10)
		}
	case INT64:
		for i := 0; i < len(data); i += 8 {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, int64(le.Uint64(data[i:])), 10)
		}
	case FP32:
		for i := 0; i < len(data); i += 4 {
			if i > 0 {
				buf = append(buf, ',')
			}
			v := float64(math.Float32frombits(le.Uint32(data[i:])))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("element %d is %v, which JSON cannot represent; use the binary data format", i/4, v)
			}
			buf = strconv.AppendFloat(buf, v, 'g', -1, 32)
		}
	case FP64:
		for i := 0; i < len(data); i += 8 {
			if i > 0 {
				buf = append(buf, ',')
			}
			v := math.Float64frombits(le.Uint64(data[i:]))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("element %d is %v, which JSON cannot represent; use the binary data format", i/8, v)
			}
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
		}
	case BYTES:
		for i, off := 0, 0; off < len(data); i++ {
			l := int(le.Uint32(data[off:]))
			elem := data[off+4 : off+4+l]
			off += 4 + l
			if !utf8.Valid(elem) {
				return nil, fmt.Errorf("BYTES element %d is not valid UTF-8, which JSON cannot carry; use the binary data format", i)
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONQuoted(buf, elem)
		}
	default:
		return nil, fmt.Errorf("datatype %s has no JSON form", dt)
	}
	return append(buf, ']'), nil
}

// appendJSONQuoted appends s as a JSON string. Quotes, backslashes and
// control characters are escaped; invalid UTF-8 bytes become U+FFFD, as
// encoding/json does, so the result is always valid JSON.
func appendJSONQuoted[S ~string | ~[]byte](buf []byte, s S) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		// At most utf8.UTFMax bytes are converted, which does not allocate.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// decodeParamsJSON reads a JSON parameters object (raw, already
// validated). Values must be booleans, strings or numbers: integral
// literals become int64 (uint64 above MaxInt64), other numbers float64. An
// absent, null or empty object gives nil.
func decodeParamsJSON(raw json.RawMessage) (Parameters, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	r := jsonscan.NewReader(raw)
	if r.Peek() != '{' {
		return nil, fmt.Errorf("'parameters' must be an object, not %s", jsonscan.Kind(raw))
	}
	// Count first, so that the map is allocated once.
	n := 0
	if err := r.Object(func([]byte) error { n++; _, err := r.Value(); return err }); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	p := make(Parameters, n)
	r.Reset(raw)
	err := r.Object(func(key []byte) error {
		v, err := r.Value()
		if err != nil {
			return err
		}
		k := string(jsonText(key))
		val, err := decodeParamValueJSON(v)
		if err != nil {
			return fmt.Errorf("parameter '%s': %v", clipMsg(k), err)
		}
		p[k] = val
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// decodeParamValueJSON reads one parameter value.
func decodeParamValueJSON(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch c := raw[0]; {
	case string(raw) == "true":
		return true, nil
	case string(raw) == "false":
		return false, nil
	case c == '"':
		return string(jsonText(raw)), nil
	case c == '-' || c >= '0' && c <= '9':
		tok := string(raw)
		if !bytes.ContainsAny(raw, ".eE") {
			if v, err := strconv.ParseInt(tok, 10, 64); err == nil {
				return v, nil
			}
			if v, err := strconv.ParseUint(tok, 10, 64); err == nil {
				return v, nil
			}
		}
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", clipMsg(tok))
		}
		return v, nil
	}
	return nil, fmt.Errorf("value %s is not a boolean, number or string", clipMsg(string(raw)))
}

// decodeShapeJSON reads a shape (raw, already validated): a flat JSON
// array of non-negative integers. An empty array is a scalar's shape.
func decodeShapeJSON(raw json.RawMessage) ([]int64, error) {
	r := jsonscan.NewReader(raw)
	if r.Peek() != '[' {
		return nil, fmt.Errorf("'shape' must be an array of non-negative integers, not %s", jsonscan.Kind(raw))
	}
	// Count first, so that a long shape is allocated once.
	n := 0
	if err := r.Array(func(int) error { n++; _, err := r.Value(); return err }); err != nil {
		return nil, err
	}
	shape := make([]int64, 0, n)
	r.Reset(raw)
	err := r.Array(func(i int) error {
		d, err := r.Value()
		if err != nil {
			return err
		}
		v, err := strconv.ParseInt(string(d), 10, 64)
		if err != nil || v < 0 {
			return fmt.Errorf("'shape' dimension %d is %s, want a non-negative integer", i, clipMsg(string(d)))
		}
		shape = append(shape, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return shape, nil
}

// dataScanner walks the elements of a tensor's JSON data, ignoring the
// nesting of arrays. It relies on the data having been validated by
// jsonscan.Reader, so it does not check the grammar again, but it never reads
// out of bounds whatever the input.
type dataScanner struct {
	b []byte
	i int
}

// next returns the next element: a number or literal token, or a string
// with its quotes; nil at the end.
func (s *dataScanner) next() ([]byte, error) {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r', ',', '[', ']':
			s.i++
		case '"':
			start := s.i
			for s.i++; s.i < len(s.b); s.i++ {
				switch s.b[s.i] {
				case '\\':
					s.i++
				case '"':
					s.i++
					return s.b[start:s.i], nil
				}
			}
			return nil, errors.New("unterminated string in 'data'")
		case '{', '}', ':':
			return nil, fmt.Errorf("unexpected '%c' in 'data': elements must be numbers, booleans or strings", c)
		default:
			// A number or a literal (true, false, null): it ends at the
			// first byte that cannot be part of one.
			start := s.i
			for s.i++; s.i < len(s.b); s.i++ {
				if c := s.b[s.i]; c-'0' > 9 && c != '.' && c != 'e' && c != '-' && c != 'E' && c != '+' && (c < 'a' || c > 'z') {
					break
				}
			}
			return s.b[start:s.i], nil
		}
	}
	return nil, nil
}

// countElements counts the elements of JSON data, for error messages.
func countElements(raw []byte) int {
	s := dataScanner{b: raw}
	n := 0
	for {
		tok, err := s.next()
		if err != nil || tok == nil {
			return n
		}
		n++
	}
}

// decodeTensorDataJSON converts JSON data (flat or nested) to raw data,
// checking the element count against the shape and every value against the
// datatype. FP16 and BF16 numbers are rounded to nearest; whether they are
// allowed at all is the caller's decision.
func decodeTensorDataJSON(raw json.RawMessage, dt DataType, shape []int64) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("'data' must be an array, got %s", clipMsg(string(raw)))
	}
	n, err := ElementCount(shape)
	if err != nil {
		return nil, err
	}
	// Every element takes at least one byte of JSON: checking this first
	// bounds the allocation below by a multiple of the body's size.
	if n > int64(len(raw)) {
		return nil, fmt.Errorf("unexpected number of elements: shape %s needs %d, 'data' has %d", shapeMsg(shape), n, countElements(raw))
	}
	if dt == BYTES {
		return decodeBytesDataJSON(raw, shape, int(n))
	}
	size := dt.Size()
	out := make([]byte, int(n)*size)
	s := dataScanner{b: raw}
	le := binary.LittleEndian
	i := 0
	for ; ; i++ {
		tok, err := s.next()
		if err != nil {
			return nil, err
		}
		if tok == nil {
			break
		}
		if i >= int(n) {
			return nil, fmt.Errorf("unexpected number of elements: shape %s needs %d, 'data' has %d", shapeMsg(shape), n, i+1+countElements(raw[s.i:]))
		}
		switch dt {
		case BOOL:
			switch string(tok) {
			case "true", "1":
				out[i] = 1
			case "false", "0":
				out[i] = 0
			default:
				return nil, badElement(i, tok, dt, nil)
			}
		case UINT8, UINT16, UINT32, UINT64:
			v, err := parseUintToken(tok, 8*size)
			if err != nil {
				return nil, badElement(i, tok, dt, err)
			}
			switch size {
			case 1:
				out[i] = uint8(v)
			case 2:
				le.PutUint16(out[2*i:], uint16(v))
			case 4:
				le.PutUint32(out[4*i:], uint32(v))
			default:
				le.PutUint64(out[8*i:], v)
			}
		case INT8, INT16, INT32, INT64:
			v, err := strconv.ParseInt(string(tok), 10, 8*size)
			if err != nil {
				return nil, badElement(i, tok, dt, err)
			}
			switch size {
			case 1:
				out[i] = uint8(v)
			case 2:
				le.PutUint16(out[2*i:], uint16(v))
			case 4:
				le.PutUint32(out[4*i:], uint32(v))
			default:
				le.PutUint64(out[8*i:], uint64(v))
			}
		case FP32:
			v, err := strconv.ParseFloat(string(tok), 32)
			if err != nil {
				return nil, badElement(i, tok, dt, err)
			}
			le.PutUint32(out[4*i:], math.Float32bits(float32(v)))
		case FP64:
			v, err := strconv.ParseFloat(string(tok), 64)
			if err != nil {
				return nil, badElement(i, tok, dt, err)
			}
			le.PutUint64(out[8*i:], math.Float64bits(v))
		case FP16, BF16:
			v, err := strconv.ParseFloat(string(tok), 32)
			if err != nil {
				return nil, badElement(i, tok, dt, err)
			}
			h := Float32ToFloat16(float32(v))
			if dt == BF16 {
				h = Float32ToBFloat16(float32(v))
			}
			if h&0x7fff == 0x7c00 && dt == FP16 || h&0x7fff == 0x7f80 && dt == BF16 {
				return nil, badElement(i, tok, dt, strconv.ErrRange)
			}
			le.PutUint16(out[2*i:], h)
		default:
			return nil, fmt.Errorf("datatype %s has no JSON form", dt)
		}
	}
	if i != int(n) {
		return nil, fmt.Errorf("unexpected number of elements: shape %s needs %d, 'data' has %d", shapeMsg(shape), n, i)
	}
	return out, nil
}

// parseUintToken parses an unsigned integer token; a negative one is out of
// range (and "-0" is 0).
func parseUintToken(tok []byte, bits int) (uint64, error) {
	if len(tok) > 0 && tok[0] == '-' {
		v, err := strconv.ParseInt(string(tok), 10, 64)
		switch {
		case err == nil && v == 0:
			return 0, nil
		case err == nil || errors.Is(err, strconv.ErrRange):
			return 0, strconv.ErrRange
		}
		return 0, err
	}
	return strconv.ParseUint(string(tok), 10, bits)
}

// badElement describes an element that does not fit the datatype.
func badElement(i int, tok []byte, dt DataType, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("element %d: value %s is out of range for %s", i, clipMsg(string(tok)), dt)
	}
	want := "an integer"
	switch dt {
	case BOOL:
		want = "true, false, 0 or 1"
	case FP16, BF16, FP32, FP64:
		want = "a number"
	}
	return fmt.Errorf("element %d: value %s is not a valid %s value (want %s)", i, clipMsg(string(tok)), dt, want)
}

// decodeBytesDataJSON converts JSON strings to raw BYTES data. n, the
// element count of the shape, is at most len(raw).
func decodeBytesDataJSON(raw []byte, shape []int64, n int) ([]byte, error) {
	// The raw form is at most the JSON size plus 2 bytes per element: the
	// 4-byte prefix replaces 2 quotes and unescaping only shrinks.
	out := make([]byte, 0, len(raw)+2*n)
	s := dataScanner{b: raw}
	i := 0
	for ; ; i++ {
		tok, err := s.next()
		if err != nil {
			return nil, err
		}
		if tok == nil {
			break
		}
		if i >= n {
			return nil, fmt.Errorf("unexpected number of elements: shape %s needs %d, 'data' has %d", shapeMsg(shape), n, i+1+countElements(raw[s.i:]))
		}
		if len(tok) < 2 || tok[0] != '"' {
			return nil, fmt.Errorf("element %d: value %s is not a string, as BYTES elements must be", i, clipMsg(string(tok)))
		}
		out = AppendBytesElement(out, jsonText(tok))
	}
	if i != n {
		return nil, fmt.Errorf("unexpected number of elements: shape %s needs %d, 'data' has %d", shapeMsg(shape), n, i)
	}
	return out, nil
}

// plainJSONString reports whether the content of a JSON string needs no
// unescaping: no backslash, no control character, valid UTF-8.
func plainJSONString(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 || c == '"' {
			return false
		}
		if c >= utf8.RuneSelf {
			return utf8.Valid(b)
		}
	}
	return true
}

// shapeMsg renders a shape for an error message, cut if it is long.
func shapeMsg(shape []int64) string { return clipMsg(fmt.Sprint(shape)) }

package kserve

import (
	"bytes"
	"errors"
	"math"
	"strconv"

	"github.com/inferbench/inferbench/internal/jsonscan"
)

// errNotFast stops a walk at the first thing the fast path does not take.
var errNotFast = errors.New("not for the fast path")

// HTTPBodyOK reports whether an HTTP inference response body, with the
// Inference-Header-Content-Length headerLen (-1 when absent, as
// ParseHeaderLength gives it), decodes with DecodeHTTPResponse and has
// every wanted output. It does not allocate. False means "decode it to
// know": see ResponseCheck.
func (c *ResponseCheck) HTTPBodyOK(body []byte, headerLen int) bool {
	if headerLen == 0 || headerLen < -1 || headerLen > len(body) {
		return false
	}
	jsonPart := body
	if headerLen > 0 {
		jsonPart = body[:headerLen]
	}
	w := httpWalk{r: *jsonscan.NewReader(jsonPart), blobs: body[len(jsonPart):], match: outputMatch{c: c}, shm: c.shm}
	return w.response()
}

// httpWalk is the state of one walk over a response body.
type httpWalk struct {
	r     jsonscan.Reader
	blobs []byte // binary output data not yet taken
	match outputMatch
	shm   bool // params saw a shared_memory_region string; at the top, the check's shm
}

// response walks the top-level object, as parseResponseJSON reads it.
func (w *httpWalk) response() bool {
	r := &w.r
	if r.Peek() != '{' {
		return false
	}
	const (
		hasID = 1 << iota
		hasName
		hasVersion
		hasParams
		hasOutputs
	)
	var seen int
	once := func(bit int) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	err := r.Object(func(key []byte) error {
		name, plain := plainKey(key)
		if !plain {
			return errNotFast
		}
		var ok bool
		switch string(name) {
		case "id":
			ok = once(hasID) && w.stringOrNull()
		case "model_name":
			ok = once(hasName) && w.stringOrNull()
		case "model_version":
			// A string, a number or null (decodeModelVersion).
			c := r.Peek()
			ok = once(hasVersion) && (c == '"' || c == 'n' || c == '-' || c >= '0' && c <= '9') && r.SkipValue() == nil
		case "parameters":
			ok = once(hasParams) && w.params(nil)
		case "outputs":
			ok = once(hasOutputs) && w.outputs()
		default:
			ok = r.SkipValue() == nil
		}
		if !ok {
			return errNotFast
		}
		return nil
	})
	return err == nil && r.End() == nil && len(w.blobs) == 0 && w.match.complete()
}

// plainKey returns the content of a raw JSON key and whether it needs no
// unescaping (an escaped key is left to the full decoder).
func plainKey(key []byte) ([]byte, bool) {
	content := key[1 : len(key)-1]
	return content, bytes.IndexByte(content, '\\') < 0
}

// stringOrNull moves past a string or null value.
func (w *httpWalk) stringOrNull() bool {
	c := w.r.Peek()
	return (c == '"' || c == 'n') && w.r.SkipValue() == nil
}

// params walks a parameters object (decodeParamsJSON): null, or an object
// of booleans, strings and numbers within float64's range. With size not
// nil it also reads binary_data_size, which must be a non-negative integer
// given once; *size stays -1 when it is absent.
func (w *httpWalk) params(size *int64) bool {
	r := &w.r
	switch r.Peek() {
	case 'n':
		return r.SkipValue() == nil
	case '{':
	default:
		return false
	}
	err := r.Object(func(key []byte) error {
		name, plain := plainKey(key)
		if !plain {
			return errNotFast
		}
		v, err := r.Value()
		if err != nil {
			return err
		}
		if size != nil && string(name) == binaryDataSizeKey {
			n, ok := parseDim(v)
			if !ok || *size >= 0 {
				return errNotFast
			}
			*size = n
			return nil
		}
		if !paramValueOK(v) {
			return errNotFast
		}
		if string(name) == ParamSharedMemoryRegion && v[0] == '"' {
			w.shm = true
		}
		return nil
	})
	return err == nil
}

// paramValueOK reports whether decodeParamValueJSON takes a (validated)
// value: a boolean, a string, or a number within float64's range.
func paramValueOK(v []byte) bool {
	switch c := v[0]; {
	case c == 't' || c == 'f' || c == '"':
		return true
	case c == '-' || c >= '0' && c <= '9':
		return floatOK(v, 64)
	}
	return false
}

// floatOK reports whether a validated JSON number parses as a float of
// this many bits without overflowing. (ParseFloat does not keep its
// argument, so the conversion of a token of up to 32 bytes stays on the
// stack.)
func floatOK(tok []byte, bits int) bool {
	_, err := strconv.ParseFloat(string(tok), bits)
	return err == nil
}

// outputs walks the outputs array (or null).
func (w *httpWalk) outputs() bool {
	r := &w.r
	switch r.Peek() {
	case 'n':
		return r.SkipValue() == nil
	case '[':
	default:
		return false
	}
	err := r.Array(func(int) error {
		if r.Peek() != '{' || !w.output() {
			return errNotFast
		}
		return nil
	})
	return err == nil
}

// output walks one output object: raw values as readTensorJSON collects
// them, then the checks of decodeTensorJSON and Tensor.Check.
func (w *httpWalk) output() bool {
	var jt httpTensorJSON
	if readTensorJSON(&w.r, &jt) != nil {
		return false
	}
	name, ok := plainString(jt.Name)
	if !ok || len(name) == 0 {
		return false
	}
	dtName, ok := plainString(jt.Datatype)
	if !ok {
		return false
	}
	dt, ok := dataTypeOf(dtName)
	if !ok || isJSONNull(jt.Shape) {
		return false
	}
	shape, n, ok := jsonShape(jt.Shape)
	if !ok {
		return false
	}
	size, inSHM := int64(-1), false
	if !isJSONNull(jt.Parameters) {
		sub := httpWalk{r: *jsonscan.NewReader(jt.Parameters)}
		if !sub.params(&size) {
			return false
		}
		inSHM = sub.shm
	}
	hasData := !isJSONNull(jt.Data)
	switch {
	case hasData && size >= 0:
		return false
	case size >= 0:
		if size > int64(len(w.blobs)) || !rawDataFits(dt, n, w.blobs[:size]) {
			return false
		}
		w.blobs = w.blobs[size:]
	case hasData:
		if !jsonDataFits(jt.Data, dt, n) {
			return false
		}
	case !inSHM && !w.shm:
		return false
	} // else: in a shared-memory region, written by the server
	return w.match.output(name, dt, shape)
}

// plainString returns the content of a raw JSON string value that needs no
// unescaping; ok is false for anything else (null, another kind, escapes).
func plainString(raw []byte) ([]byte, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	content := raw[1 : len(raw)-1]
	return content, plainJSONString(content)
}

// jsonShape checks a raw shape (decodeShapeJSON, ElementCount): a flat
// array of non-negative integers whose product fits an int64. It returns
// a reader of the dimensions and the element count.
func jsonShape(raw []byte) (shapeReader, int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' || bytes.IndexByte(raw[1:], '[') >= 0 {
		return shapeReader{}, 0, false
	}
	t := dataScanner{b: raw}
	count, n := 0, int64(1)
	for {
		tok, err := t.next()
		if err != nil {
			return shapeReader{}, 0, false
		}
		if tok == nil {
			break
		}
		d, ok := parseDim(tok)
		if !ok {
			return shapeReader{}, 0, false
		}
		if n, ok = mulDim(n, d); !ok {
			return shapeReader{}, 0, false
		}
		count++
	}
	return shapeReader{json: raw, n: count}, n, true
}

// jsonDataFits checks JSON data (decodeTensorDataJSON for a response): an
// array, flat or nested, of exactly n elements that fit the datatype.
// FP16 and BF16 (rounded by the decoder) are left to the decoder.
func jsonDataFits(raw []byte, dt DataType, n int64) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' || dt == FP16 || dt == BF16 {
		return false
	}
	s := dataScanner{b: raw}
	var i int64
	for ; ; i++ {
		tok, err := s.next()
		if err != nil {
			return false
		}
		if tok == nil {
			break
		}
		if i >= n || !jsonElementOK(tok, dt) {
			return false
		}
	}
	return i == n
}

// jsonElementOK reports whether one JSON data element fits the datatype as
// decodeTensorDataJSON reads it.
func jsonElementOK(tok []byte, dt DataType) bool {
	switch dt {
	case BOOL:
		switch string(tok) {
		case "true", "false", "0", "1":
			return true
		}
		return false
	case BYTES:
		return len(tok) >= 2 && tok[0] == '"'
	case FP32:
		return floatOK(tok, 32)
	case FP64:
		return floatOK(tok, 64)
	case INT8, INT16, INT32, INT64:
		bits := 8 * elementSize(dt)
		v, neg, ok := parseJSONInt(tok)
		if !ok {
			return false
		}
		if neg {
			return v <= uint64(1)<<(bits-1)
		}
		return v <= uint64(1)<<(bits-1)-1
	case UINT8, UINT16, UINT32, UINT64:
		bits := 8 * elementSize(dt)
		v, neg, ok := parseJSONInt(tok)
		if !ok || neg && v != 0 {
			return false
		}
		return bits == 64 || v <= uint64(1)<<bits-1
	}
	return false
}

// parseJSONInt parses an integer token (an optional minus, digits, no
// fraction or exponent) to its magnitude; ok is false for anything else
// and for magnitudes beyond uint64.
func parseJSONInt(tok []byte) (v uint64, neg, ok bool) {
	if len(tok) > 0 && tok[0] == '-' {
		neg, tok = true, tok[1:]
	}
	if len(tok) == 0 {
		return 0, false, false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false, false
		}
		v = v*10 + d
	}
	return v, neg, true
}

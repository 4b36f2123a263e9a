package kserve

import (
	"encoding/binary"
	"math"
)

// ResponseCheck checks an encoded inference response without decoding it:
// it walks the wire form (an HTTP body, JSON or with binary outputs, or a
// gRPC ModelInferResponse message) in place and allocates nothing, so that
// a load generator can check every response of a run at no cost to the
// measurement.
//
// It is a fast path, not a second decoder: it answers true only for a
// response that DecodeHTTPResponse (or proto.Unmarshal and
// ResponseFromProto) would decode without error and whose outputs include
// every wanted one, with the wanted datatype and a fitting shape. For
// anything else, including responses that are valid but unusual (escaped
// names, FP16 or BF16 as JSON, typed gRPC contents, shapes sent unpacked,
// more than 64 wanted outputs), it answers false, and the caller decodes
// the response in full to learn what, if anything, is wrong with it.
//
// A ResponseCheck is immutable and safe for concurrent use.
type ResponseCheck struct {
	// shm takes an output without data as written into a shared-memory
	// region (SharedMemory).
	shm  bool
	want []TensorMetadata
	all  uint64 // one bit per wanted output
	// usable is false when the check cannot answer true at all (too many
	// wanted outputs for the bit set).
	usable bool
}

// maxCheckedOutputs is the number of wanted outputs a check tracks.
const maxCheckedOutputs = 64

// NewResponseCheck makes a check that wants each of want: an output of that
// name, datatype and shape (a negative dimension matches any size). An
// empty want checks only that the response is well formed. The first of
// several wanted outputs with one name is the one checked, as
// InferResponse.Output finds it.
func NewResponseCheck(want []TensorMetadata) *ResponseCheck {
	c := &ResponseCheck{want: append([]TensorMetadata(nil), want...), usable: len(want) <= maxCheckedOutputs}
	if c.usable && len(want) > 0 {
		c.all = math.MaxUint64 >> (maxCheckedOutputs - len(want))
	}
	return c
}

// outputMatch tracks which wanted outputs a response has shown so far.
type outputMatch struct {
	c    *ResponseCheck
	seen uint64 // names met (the first output of a name decides)
}

// lookup returns the index of the wanted output named name, or -1.
func (c *ResponseCheck) lookup(name []byte) int {
	for i := range c.want {
		if c.want[i].Name == string(name) {
			return i
		}
	}
	return -1
}

// output records one output of the response; it reports false when the
// output is wanted, the first of its name, and does not fit.
func (m *outputMatch) output(name []byte, dt DataType, shape shapeReader) bool {
	i := m.c.lookup(name)
	if i < 0 {
		return true
	}
	bit := uint64(1) << i
	if m.seen&bit != 0 {
		return true // a later output of the same name is not the one checked
	}
	m.seen |= bit
	w := &m.c.want[i]
	if dt != w.Datatype || shape.len() != len(w.Shape) {
		return false
	}
	for k, d := range w.Shape {
		if d >= 0 && shape.at(k) != d {
			return false
		}
	}
	return true
}

// complete reports whether every wanted output was met.
func (m *outputMatch) complete() bool { return m.c.usable && m.seen&m.c.all == m.c.all }

// shapeReader reads the dimensions of a shape in its wire form, which the
// walk has already checked: a JSON array of non-negative integers or a
// packed protobuf varint list.
type shapeReader struct {
	json   []byte // a JSON array, or nil
	packed []byte // packed varints
	n      int
}

func (s shapeReader) len() int { return s.n }

// at returns dimension k; the shape was validated, so it cannot fail.
func (s shapeReader) at(k int) int64 {
	if s.json != nil {
		t := dataScanner{b: s.json}
		for i := 0; ; i++ {
			tok, _ := t.next()
			if i == k {
				v, _ := parseDim(tok)
				return v
			}
		}
	}
	b := s.packed
	for i := 0; ; i++ {
		v, n := consumeVarint(b)
		if i == k {
			return int64(v)
		}
		b = b[n:]
	}
}

// parseDim parses a shape dimension token: a non-negative JSON integer
// without sign, fraction or exponent, that fits an int64.
func parseDim(tok []byte) (int64, bool) {
	if len(tok) == 0 || len(tok) > 19 {
		return 0, false
	}
	var v int64
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, v >= 0
}

// dataTypeOf maps a datatype's spelling to the DataType without
// allocating; ok is false for an unknown one.
func dataTypeOf(b []byte) (DataType, bool) {
	switch string(b) {
	case "BOOL":
		return BOOL, true
	case "UINT8":
		return UINT8, true
	case "UINT16":
		return UINT16, true
	case "UINT32":
		return UINT32, true
	case "UINT64":
		return UINT64, true
	case "INT8":
		return INT8, true
	case "INT16":
		return INT16, true
	case "INT32":
		return INT32, true
	case "INT64":
		return INT64, true
	case "FP16":
		return FP16, true
	case "BF16":
		return BF16, true
	case "FP32":
		return FP32, true
	case "FP64":
		return FP64, true
	case "BYTES":
		return BYTES, true
	}
	return "", false
}

// elementSize is the byte size of one element, 0 for BYTES.
func elementSize(dt DataType) int {
	switch dt {
	case BOOL, UINT8, INT8:
		return 1
	case UINT16, INT16, FP16, BF16:
		return 2
	case UINT32, INT32, FP32:
		return 4
	case UINT64, INT64, FP64:
		return 8
	}
	return 0
}

// rawDataFits reports whether raw data is what Tensor.Check accepts for n
// elements of dt: n well-formed BYTES elements, or exactly n elements of
// the datatype's size, BOOL bytes being 0 or 1.
func rawDataFits(dt DataType, n int64, data []byte) bool {
	if dt == BYTES {
		count := int64(0)
		for off := 0; off < len(data); count++ {
			if len(data)-off < 4 {
				return false
			}
			l := int64(binary.LittleEndian.Uint32(data[off:]))
			off += 4
			if l > int64(len(data)-off) {
				return false
			}
			off += int(l)
		}
		return count == n
	}
	size := int64(elementSize(dt))
	if n > math.MaxInt64/size || int64(len(data)) != n*size {
		return false
	}
	if dt == BOOL {
		for _, b := range data {
			if b > 1 {
				return false
			}
		}
	}
	return true
}

// mulDim multiplies an element count by a dimension; ok is false on
// overflow.
func mulDim(n, d int64) (int64, bool) {
	if d != 0 && n > math.MaxInt64/d {
		return 0, false
	}
	return n * d, true
}

// SharedMemory returns the check of answers to requests whose outputs
// were asked into shared-memory regions: an output without data passes,
// as DecodeHTTPResponseSHM and ResponseFromProtoSHM take it.
func (c *ResponseCheck) SharedMemory() *ResponseCheck {
	d := *c
	d.shm = true
	return &d
}

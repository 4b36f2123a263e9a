package kserve

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor is one named input or output. Data holds the raw form: elements
// little-endian and row-major; BYTES elements each prefixed by their length
// as a 4-byte little-endian unsigned integer.
type Tensor struct {
	Name       string
	Datatype   DataType
	Shape      []int64
	Data       []byte
	Parameters Parameters // per-tensor parameters other than the codec's own (binary_data_size)
}

// Parameters are request, tensor or response parameters. Values are bool,
// int64, uint64, float64 or string, as InferParameter allows.
type Parameters map[string]any

// Bool returns a boolean parameter and whether it was present as a bool.
func (p Parameters) Bool(key string) (value, ok bool) {
	v, ok := p[key].(bool)
	return v, ok
}

// ElementCount is the number of elements of a shape. Every dimension must be
// non-negative and the product must fit in an int64; an empty shape is a
// scalar with one element.
func ElementCount(shape []int64) (int64, error) {
	n := int64(1)
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d of shape %v is negative", i, shape)
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// ByteSize is the raw size of a tensor of a fixed-size datatype with this
// shape. It fails for BYTES, whose size depends on the data, and on overflow.
func ByteSize(dt DataType, shape []int64) (int64, error) {
	if dt == BYTES {
		return 0, fmt.Errorf("BYTES tensors have no fixed size")
	}
	n, err := ElementCount(shape)
	if err != nil {
		return 0, err
	}
	size := int64(dt.Size())
	if n > math.MaxInt64/size {
		return 0, fmt.Errorf("shape %v has too many bytes", shape)
	}
	return n * size, nil
}

// Check verifies that the tensor's datatype is known and that its raw data
// has exactly the length its shape calls for (for BYTES: as many well-formed
// length-prefixed elements as the shape has). Errors are INVALID_ARG and name
// the tensor.
func (t *Tensor) Check() error {
	if !t.Datatype.Valid() {
		return invalid("tensor '%s': unknown datatype '%s'", t.Name, t.Datatype)
	}
	n, err := ElementCount(t.Shape)
	if err != nil {
		return invalid("tensor '%s': %v", t.Name, err)
	}
	if t.Datatype == BYTES {
		got, err := CountBytesElements(t.Data)
		if err != nil {
			return invalid("tensor '%s': %v", t.Name, err)
		}
		if int64(got) != n {
			return invalid("tensor '%s': expected %d BYTES elements for shape %v, got %d", t.Name, n, t.Shape, got)
		}
		return nil
	}
	want, err := ByteSize(t.Datatype, t.Shape)
	if err != nil {
		return invalid("tensor '%s': %v", t.Name, err)
	}
	if int64(len(t.Data)) != want {
		return invalid("tensor '%s': unexpected byte size %d for %s shape %v, expecting %d", t.Name, len(t.Data), t.Datatype, t.Shape, want)
	}
	if t.Datatype == BOOL {
		for i, b := range t.Data {
			if b > 1 {
				return invalid("tensor '%s': BOOL element %d is byte %d; BOOL elements are 0 or 1", t.Name, i, b)
			}
		}
	}
	return nil
}

// AppendBytesElement appends one BYTES element in raw form (length prefix, then the bytes).
func AppendBytesElement(dst, elem []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(elem)))
	return append(dst, elem...)
}

// CountBytesElements counts the elements of raw BYTES data, checking that
// every length prefix stays inside the data.
func CountBytesElements(data []byte) (int, error) {
	n := 0
	for off := 0; off < len(data); n++ {
		if len(data)-off < 4 {
			return 0, fmt.Errorf("BYTES element %d: truncated length prefix at byte %d", n, off)
		}
		l := int64(binary.LittleEndian.Uint32(data[off:]))
		off += 4
		if l > int64(len(data)-off) {
			return 0, fmt.Errorf("BYTES element %d: length %d runs past the end of the data (%d bytes left)", n, l, len(data)-off)
		}
		off += int(l)
	}
	return n, nil
}

// SplitBytes returns the elements of raw BYTES data. The elements share
// memory with data.
func SplitBytes(data []byte) ([][]byte, error) {
	n, err := CountBytesElements(data)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	for off := 0; off < len(data); {
		l := int(binary.LittleEndian.Uint32(data[off:]))
		off += 4
		out = append(out, data[off:off+l:off+l])
		off += l
	}
	return out, nil
}

// JoinBytes encodes BYTES elements in raw form.
func JoinBytes(elems [][]byte) []byte {
	size := 0
	for _, e := range elems {
		size += 4 + len(e)
	}
	out := make([]byte, 0, size)
	for _, e := range elems {
		out = AppendBytesElement(out, e)
	}
	return out
}

// Float64At reads element i of raw numeric data as a float64 (BOOL as 0 or
// 1). INT64 and UINT64 values beyond 2^53 lose precision. It panics if i is
// out of range and returns NaN for BYTES.
func Float64At(dt DataType, data []byte, i int) float64 {
	switch dt {
	case BOOL:
		if data[i] != 0 {
			return 1
		}
		return 0
	case UINT8:
		return float64(data[i])
	case INT8:
		return float64(int8(data[i]))
	case UINT16:
		return float64(binary.LittleEndian.Uint16(data[2*i:]))
	case INT16:
		return float64(int16(binary.LittleEndian.Uint16(data[2*i:])))
	case UINT32:
		return float64(binary.LittleEndian.Uint32(data[4*i:]))
	case INT32:
		return float64(int32(binary.LittleEndian.Uint32(data[4*i:])))
	case UINT64:
		return float64(binary.LittleEndian.Uint64(data[8*i:]))
	case INT64:
		return float64(int64(binary.LittleEndian.Uint64(data[8*i:])))
	case FP16:
		return float64(Float16ToFloat32(binary.LittleEndian.Uint16(data[2*i:])))
	case BF16:
		return float64(BFloat16ToFloat32(binary.LittleEndian.Uint16(data[2*i:])))
	case FP32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
	case FP64:
		return math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
	}
	return math.NaN()
}

// PutFloat64At writes v as element i of raw numeric data, converting to the
// datatype (integers truncate toward zero; BOOL is v != 0). It does nothing
// for BYTES.
func PutFloat64At(dt DataType, data []byte, i int, v float64) {
	switch dt {
	case BOOL:
		data[i] = 0
		if v != 0 {
			data[i] = 1
		}
	case UINT8:
		data[i] = uint8(v)
	case INT8:
		data[i] = uint8(int8(v))
	case UINT16:
		binary.LittleEndian.PutUint16(data[2*i:], uint16(v))
	case INT16:
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(v)))
	case UINT32:
		binary.LittleEndian.PutUint32(data[4*i:], uint32(v))
	case INT32:
		binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(v)))
	case UINT64:
		binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
	case INT64:
		binary.LittleEndian.PutUint64(data[8*i:], uint64(int64(v)))
	case FP16:
		binary.LittleEndian.PutUint16(data[2*i:], Float32ToFloat16(float32(v)))
	case BF16:
		binary.LittleEndian.PutUint16(data[2*i:], Float32ToBFloat16(float32(v)))
	case FP32:
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(v)))
	case FP64:
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(v))
	}
}

// NewTensor makes a tensor of a fixed-size datatype from float64 values,
// converted with PutFloat64At. It fails if the count does not match the shape.
func NewTensor(name string, dt DataType, shape []int64, values []float64) (Tensor, error) {
	size, err := ByteSize(dt, shape)
	if err != nil {
		return Tensor{}, err
	}
	if int64(len(values))*int64(dt.Size()) != size {
		return Tensor{}, fmt.Errorf("tensor '%s': %d values for shape %v", name, len(values), shape)
	}
	data := make([]byte, size)
	for i, v := range values {
		PutFloat64At(dt, data, i, v)
	}
	return Tensor{Name: name, Datatype: dt, Shape: append([]int64(nil), shape...), Data: data}, nil
}

// Float16ToFloat32 converts IEEE 754 half precision bits to a float32.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // zero
		return math.Float32frombits(sign)
	}
	// subnormal: normalise
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// Float32ToFloat16 converts a float32 to IEEE 754 half precision bits,
// rounding to nearest even; out-of-range values become infinities.
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := mant >> shift
		rem := mant & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, which is the right result
	}
	return sign | uint16(r)
}

// BFloat16ToFloat32 converts bfloat16 bits to a float32.
func BFloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Float32ToBFloat16 converts a float32 to bfloat16 bits, rounding to nearest even.
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it a NaN
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// The parameters of Triton's shared-memory extension: an input's data, or
// an output's, is in a registered region at an offset, and does not
// travel with the request or the response.
const (
	ParamSharedMemoryRegion   = "shared_memory_region"
	ParamSharedMemoryOffset   = "shared_memory_offset"
	ParamSharedMemoryByteSize = "shared_memory_byte_size"
)

// InSharedMemory reports whether the tensor's data is in a shared-memory
// region (its parameters name one) rather than in the message.
func (t *Tensor) InSharedMemory() bool {
	_, ok := t.Parameters[ParamSharedMemoryRegion]
	return ok
}

// SharedMemoryRef is where a tensor's data lies in a shared-memory region.
type SharedMemoryRef struct {
	Region   string
	Offset   int64
	ByteSize int64
}

// SharedMemory reads the tensor's shared-memory parameters: ok is false
// when it names no region; an error when they are of the wrong type.
func (t *Tensor) SharedMemory() (ref SharedMemoryRef, ok bool, err error) {
	v, ok := t.Parameters[ParamSharedMemoryRegion]
	if !ok {
		return ref, false, nil
	}
	if ref.Region, ok = v.(string); !ok {
		return ref, true, invalid("tensor '%s': parameter '%s' must be a string", clipMsg(t.Name), ParamSharedMemoryRegion)
	}
	num := func(key string, required bool) (int64, error) {
		v, ok := t.Parameters[key]
		if !ok {
			if required {
				return 0, invalid("tensor '%s': parameter '%s' is required with '%s'", clipMsg(t.Name), key, ParamSharedMemoryRegion)
			}
			return 0, nil
		}
		switch n := v.(type) {
		case int64:
			if n >= 0 {
				return n, nil
			}
		case uint64:
			if n <= math.MaxInt64 {
				return int64(n), nil
			}
		}
		return 0, invalid("tensor '%s': parameter '%s' must be a non-negative integer", clipMsg(t.Name), key)
	}
	if ref.Offset, err = num(ParamSharedMemoryOffset, false); err != nil {
		return ref, true, err
	}
	if ref.ByteSize, err = num(ParamSharedMemoryByteSize, true); err != nil {
		return ref, true, err
	}
	return ref, true, nil
}

// SetSharedMemory names a region for the tensor's data in its parameters.
func (t *Tensor) SetSharedMemory(ref SharedMemoryRef) {
	if t.Parameters == nil {
		t.Parameters = Parameters{}
	}
	t.Parameters[ParamSharedMemoryRegion] = ref.Region
	t.Parameters[ParamSharedMemoryOffset] = ref.Offset
	t.Parameters[ParamSharedMemoryByteSize] = ref.ByteSize
}

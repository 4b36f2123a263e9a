package kserve

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
)

// The reference server's outputs are a deterministic function of the
// inputs, so that a client can tell a right answer from a wrong one without
// running a model: every output carries the fingerprint of the inputs in its
// first elements and zeros elsewhere.
//
// The fingerprint is CRC-32C over each input's name and raw data, inputs
// taken in name order. It is stamped as follows:
//   - numeric outputs: elements 0..7 hold its eight 4-bit nibbles, least
//     significant first (values 0..15 are exact in every numeric datatype,
//     FP16 and BF16 included); an output with fewer than 8 elements is not
//     stamped;
//   - BOOL outputs: elements 0..31 hold its bits, least significant first;
//   - BYTES outputs: element 0 is "fp:" and the fingerprint in 8 hex digits.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Fingerprint computes the fingerprint of a request's inputs.
func Fingerprint(inputs []Tensor) uint32 {
	order := make([]int, len(inputs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return inputs[order[a]].Name < inputs[order[b]].Name })
	var crc uint32
	var lenBuf [4]byte
	for _, i := range order {
		t := &inputs[i]
		binary.LittleEndian.PutUint32(lenBuf[:], uint32(len(t.Name)))
		crc = crc32.Update(crc, castagnoli, lenBuf[:])
		crc = crc32.Update(crc, castagnoli, []byte(t.Name))
		crc = crc32.Update(crc, castagnoli, t.Data)
	}
	return crc
}

// fingerprintElements is how many elements a stamp takes in a datatype.
func fingerprintElements(dt DataType) int {
	switch dt {
	case BOOL:
		return 32
	case BYTES:
		return 1
	default:
		return 8
	}
}

// StampFingerprint writes fp into the first elements of t's raw data, which
// must already have the size t's shape calls for (zeros elsewhere). For
// BYTES the data is rebuilt: element 0 carries the stamp, the others are
// empty. It reports whether the tensor was large enough to be stamped.
func StampFingerprint(t *Tensor, fp uint32) bool {
	n, err := ElementCount(t.Shape)
	if err != nil || n < int64(fingerprintElements(t.Datatype)) {
		return false
	}
	switch t.Datatype {
	case BYTES:
		data := AppendBytesElement(nil, []byte(fmt.Sprintf("fp:%08x", fp)))
		for i := int64(1); i < n; i++ {
			data = AppendBytesElement(data, nil)
		}
		t.Data = data
	case BOOL:
		for i := 0; i < 32; i++ {
			t.Data[i] = byte(fp >> i & 1)
		}
	default:
		for i := 0; i < 8; i++ {
			PutFloat64At(t.Datatype, t.Data, i, float64(fp>>(4*i)&0xf))
		}
	}
	return true
}

// ReadFingerprint reads the stamp StampFingerprint wrote. It reports false
// when the tensor is too small or its first elements are not a stamp.
func ReadFingerprint(t *Tensor) (uint32, bool) {
	n, err := ElementCount(t.Shape)
	if err != nil || n < int64(fingerprintElements(t.Datatype)) {
		return 0, false
	}
	var fp uint32
	switch t.Datatype {
	case BYTES:
		elems, err := SplitBytes(t.Data)
		if err != nil || len(elems) == 0 || !strings.HasPrefix(string(elems[0]), "fp:") {
			return 0, false
		}
		v, err := strconv.ParseUint(string(elems[0][3:]), 16, 32)
		if err != nil {
			return 0, false
		}
		return uint32(v), true
	case BOOL:
		if len(t.Data) < 32 {
			return 0, false
		}
		for i := 0; i < 32; i++ {
			if t.Data[i] > 1 {
				return 0, false
			}
			fp |= uint32(t.Data[i]) << i
		}
	default:
		if len(t.Data) < 8*t.Datatype.Size() {
			return 0, false
		}
		for i := 0; i < 8; i++ {
			v := Float64At(t.Datatype, t.Data, i)
			if v < 0 || v > 15 || v != float64(int(v)) {
				return 0, false
			}
			fp |= uint32(v) << (4 * i)
		}
	}
	return fp, true
}

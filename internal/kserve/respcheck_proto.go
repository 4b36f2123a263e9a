package kserve

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of ModelInferResponse, its InferOutputTensor, the
// parameters map entry and InferParameter (proto/grpc_service.proto).
const (
	respModelName    protowire.Number = 1
	respModelVersion protowire.Number = 2
	respID           protowire.Number = 3
	respParameters   protowire.Number = 4
	respOutputs      protowire.Number = 5
	respRawContents  protowire.Number = 6

	outName       protowire.Number = 1
	outDatatype   protowire.Number = 2
	outShape      protowire.Number = 3
	outParameters protowire.Number = 4
	outContents   protowire.Number = 5

	entryKey   protowire.Number = 1
	entryValue protowire.Number = 2

	paramBool   protowire.Number = 1
	paramInt64  protowire.Number = 2
	paramString protowire.Number = 3
	paramDouble protowire.Number = 4
	paramUint64 protowire.Number = 5
)

// ProtoOK reports whether msg, an encoded gRPC ModelInferResponse, decodes
// with proto.Unmarshal and ResponseFromProto and has every wanted output.
// It does not allocate. Outputs must come with raw_output_contents, as
// Triton sends them; typed contents, and shapes not in packed form, are
// left to the full decoder (false): see ResponseCheck.
func (c *ResponseCheck) ProtoOK(msg []byte) bool {
	// Pass 1: the top level is well formed; count outputs and raw contents.
	outputs, raws := 0, 0
	for b := msg; len(b) > 0; {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch num {
		case respModelName, respModelVersion, respID, respParameters, respOutputs, respRawContents:
			if typ != protowire.BytesType {
				return false
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			switch num {
			case respParameters:
				if !paramEntryOK(v) {
					return false
				}
			case respOutputs:
				outputs++
			case respRawContents:
				raws++
			default:
				if !utf8.Valid(v) {
					return false
				}
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false
			}
			b = b[n:]
		}
	}
	if raws > 0 && raws != outputs {
		return false
	}
	// Pass 2: each output with its raw contents, in order.
	match := outputMatch{c: c}
	outAt, rawAt := 0, 0
	for range outputs {
		var out, data []byte
		out, outAt = nextBytesField(msg, outAt, respOutputs)
		if raws > 0 {
			data, rawAt = nextBytesField(msg, rawAt, respRawContents)
		}
		if !outputOK(out, data, &match, c.shm) {
			return false
		}
	}
	return match.complete()
}

// nextBytesField finds the next length-delimited field num of a message
// already checked to be well formed, from offset at; it returns its value
// and the offset after it.
func nextBytesField(msg []byte, at int, num protowire.Number) ([]byte, int) {
	for at < len(msg) {
		n, typ, tl := consumeTag(msg[at:])
		at += tl
		vl := protowire.ConsumeFieldValue(n, typ, msg[at:])
		if n == num {
			v, _ := protowire.ConsumeBytes(msg[at:])
			return v, at + vl
		}
		at += vl
	}
	return nil, at
}

// outputOK checks one InferOutputTensor with its raw data, as
// tensorFromProto does, and records it in match.
func outputOK(out, data []byte, match *outputMatch, shm bool) bool {
	var name, dtName, packed []byte
	shapes, inSHM := 0, shm
	for b := out; len(b) > 0; {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch num {
		case outName, outDatatype, outShape, outParameters:
			if typ != protowire.BytesType {
				return false // unpacked shape, or an odd wire type
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			switch num {
			case outName:
				name = v // the last one wins, as in proto.Unmarshal
			case outDatatype:
				dtName = v
			case outShape:
				packed = v
				shapes++
			case outParameters:
				if !paramEntryOK(v) {
					return false
				}
				inSHM = inSHM || entryKeyIs(v, ParamSharedMemoryRegion)
			}
		case outContents:
			return false // typed contents: the full decoder converts them
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false
			}
			b = b[n:]
		}
	}
	if len(name) == 0 || !utf8.Valid(name) || shapes > 1 {
		return false
	}
	dt, ok := dataTypeOf(dtName)
	if !ok {
		return false
	}
	count, elems := 0, int64(1)
	for b := packed; len(b) > 0; count++ {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 || int64(v) < 0 {
			return false
		}
		if elems, ok = mulDim(elems, int64(v)); !ok {
			return false
		}
		b = b[n:]
	}
	if !rawDataFits(dt, elems, data) && (!inSHM || len(data) > 0) { // in a shared-memory region: no data
		return false
	}
	return match.output(name, dt, shapeReader{packed: packed, n: count})
}

// entryKeyIs reports whether a well-formed map entry has this key.
func entryKeyIs(entry []byte, key string) bool {
	for b := entry; len(b) > 0; {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if num == entryKey && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			return string(v) == key
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return false
		}
		b = b[n:]
	}
	return false
}

// paramEntryOK checks one entry of a map<string, InferParameter>: a UTF-8
// key and a well-formed InferParameter.
func paramEntryOK(entry []byte) bool {
	for b := entry; len(b) > 0; {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch num {
		case entryKey, entryValue:
			if typ != protowire.BytesType {
				return false
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			if num == entryKey && !utf8.Valid(v) || num == entryValue && !paramValueProtoOK(v) {
				return false
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false
			}
			b = b[n:]
		}
	}
	return true
}

// paramValueProtoOK checks an InferParameter message.
func paramValueProtoOK(msg []byte) bool {
	for b := msg; len(b) > 0; {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		want := protowire.Type(-1)
		switch num {
		case paramBool, paramInt64, paramUint64:
			want = protowire.VarintType
		case paramDouble:
			want = protowire.Fixed64Type
		case paramString:
			want = protowire.BytesType
		}
		if want >= 0 && typ != want {
			return false
		}
		if num == paramString {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return false
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// consumeTag reads a field's tag, refusing field numbers beyond
// protowire.MaxValidNumber, as proto.Unmarshal does (protowire.ConsumeTag
// takes up to MaxInt32).
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && num > protowire.MaxValidNumber {
		return 0, 0, -1
	}
	return num, typ, n
}

// consumeVarint reads a varint of a packed list already checked.
func consumeVarint(b []byte) (uint64, int) { return protowire.ConsumeVarint(b) }

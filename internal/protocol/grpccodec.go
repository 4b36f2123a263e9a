package protocol

import (
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// rawCodec is the gRPC client's codec. A prepared ModelInferRequest goes
// out as the bytes Prepare encoded once (no marshalling per call, no copy
// of the tensors: the transport reads them from the prepared buffer into
// its frames); a ModelInfer answer addressed to a checkedReply is checked
// in place, without unmarshalling. Every other message goes through the
// proto codec.
type rawCodec struct{ proto encoding.CodecV2 }

func newRawCodec() rawCodec { return rawCodec{proto: encoding.GetCodecV2(protoenc.Name)} }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*encodedRequest); ok {
		return m.bufs, nil
	}
	return c.proto.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*checkedReply); ok {
		r.take(data)
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

// Name is the proto codec's: the server sees an ordinary
// application/grpc+proto call.
func (rawCodec) Name() string { return protoenc.Name }

// encodedRequest is a ModelInferRequest encoded once. Its buffer is never
// freed or written to, so concurrent calls share it.
type encodedRequest struct {
	bufs mem.BufferSlice
	size int
}

func newEncodedRequest(b []byte) *encodedRequest {
	return &encodedRequest{bufs: mem.BufferSlice{mem.SliceBuffer(b)}, size: len(b)}
}

// checkedReply receives a ModelInferResponse for a caller: it checks the
// message in the transport's buffers (copying it into a reused buffer
// only when it arrived in pieces) and keeps the verdict, not the message.
type checkedReply struct {
	check *Checker
	buf   []byte
	size  int
	err   error
}

// reset prepares the reply for the next call.
func (r *checkedReply) reset() { r.size, r.err = 0, nil }

// take checks one received message; the transport frees data after.
func (r *checkedReply) take(data mem.BufferSlice) {
	r.size = data.Len()
	var msg []byte
	if len(data) == 1 {
		msg = data[0].ReadOnlyData()
	} else {
		msg = grow(&r.buf, r.size)
		data.CopyTo(msg)
	}
	r.err = r.check.protoMsg(msg)
}

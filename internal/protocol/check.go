package protocol

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// Checker decides whether an inference response is usable: well formed
// (else a MalformedResponseError) and, when made from a model's metadata,
// carrying the outputs the metadata promises (else a ValidationError, as
// ValidateResponse words it). It is built once, before a run, and is safe
// for concurrent use.
//
// On the hot path it checks the encoded response in place, without
// decoding or allocating (kserve.ResponseCheck); only a response that the
// fast check does not pass is decoded in full, to find and word the error.
// A nil *Checker checks well-formedness only.
type Checker struct {
	md        *kserve.ModelMetadata
	requested []string
	fast      *kserve.ResponseCheck
	shm       bool // outputs were asked into shared-memory regions: they come without data
}

// sharedMemory returns the checker of answers whose outputs were asked
// into shared-memory regions (a nil c: well-formedness only).
func (c *Checker) sharedMemory() *Checker {
	d := *c.or()
	d.fast = d.fast.SharedMemory()
	d.shm = true
	return &d
}

// NewChecker makes the checker of a model's responses: every output the
// metadata names (or, when requested is not empty, every requested one)
// with the metadata's datatype and a fitting shape. A nil md checks
// well-formedness only.
func NewChecker(md *kserve.ModelMetadata, requested []string) *Checker {
	c := &Checker{md: md, requested: requested}
	c.fast = kserve.NewResponseCheck(c.wanted())
	return c
}

// wellFormed is the checker of a nil *Checker.
var wellFormed = NewChecker(nil, nil)

// or returns c, or the well-formedness checker for a nil c.
func (c *Checker) or() *Checker {
	if c == nil {
		return wellFormed
	}
	return c
}

// wanted lists the outputs ValidateResponse looks for.
func (c *Checker) wanted() []kserve.TensorMetadata {
	if c.md == nil {
		return nil
	}
	if len(c.requested) == 0 {
		return c.md.Outputs
	}
	var want []kserve.TensorMetadata
	for _, name := range c.requested {
		for _, o := range c.md.Outputs {
			if o.Name == name {
				want = append(want, o)
			}
		}
	}
	return want
}

// Validate checks a decoded response, as ValidateResponse does.
func (c *Checker) Validate(resp *kserve.InferResponse) error {
	if c == nil || c.md == nil {
		return nil
	}
	return ValidateResponse(c.md, c.requested, resp)
}

// httpBody checks an HTTP response body with its
// Inference-Header-Content-Length (-1 when absent). It does not keep body.
func (c *Checker) httpBody(body []byte, headerLen int) error {
	c = c.or()
	if c.fast.HTTPBodyOK(body, headerLen) {
		return nil
	}
	decode := kserve.DecodeHTTPResponse
	if c.shm {
		decode = kserve.DecodeHTTPResponseSHM
	}
	resp, err := decode(body, headerLen)
	if err != nil {
		return &MalformedResponseError{Err: err}
	}
	return c.Validate(resp)
}

// protoMsg checks an encoded ModelInferResponse. It does not keep msg.
func (c *Checker) protoMsg(msg []byte) error {
	c = c.or()
	if c.fast.ProtoOK(msg) {
		return nil
	}
	var p pb.ModelInferResponse
	if err := proto.Unmarshal(msg, &p); err != nil {
		return &MalformedResponseError{Err: fmt.Errorf("ModelInferResponse: %w", err)}
	}
	fromProto := kserve.ResponseFromProto
	if c.shm {
		fromProto = kserve.ResponseFromProtoSHM
	}
	resp, err := fromProto(&p)
	if err != nil {
		return &MalformedResponseError{Err: err}
	}
	return c.Validate(resp)
}

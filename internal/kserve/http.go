package kserve

// HeaderContentLength is the header of Triton's binary tensor extension that
// gives the byte length of the JSON part of a body.
const HeaderContentLength = "Inference-Header-Content-Length"

// ParseHeaderLength parses an Inference-Header-Content-Length value for a
// body of bodyLen bytes. An empty value means the header was absent and
// returns -1. Like Triton it parses an int32 and requires
// 0 <= N <= bodyLen; anything else is INVALID_ARG with a message that quotes
// the value.
func ParseHeaderLength(value string, bodyLen int) (int, error) {
	panic("not implemented")
}

// EncodeHTTPRequest encodes an inference request body, as a client sends it.
// With binaryInputs every input travels in binary (parameters.binary_data_size
// in the JSON, the raw bytes after it, in input order) and jsonLen is the
// length of the JSON part, to be sent as Inference-Header-Content-Length.
// Without it every input travels as flat JSON data and jsonLen is -1 (send no
// header); FP16 and BF16 inputs then fail, as Triton cannot read them.
// Requested outputs and their parameters (binary_data) are encoded as given.
func EncodeHTTPRequest(req *InferRequest, binaryInputs bool) (body []byte, jsonLen int, err error) {
	panic("not implemented")
}

// DecodeHTTPRequest decodes an inference request body, as a server receives
// it; headerLen is ParseHeaderLength's result (-1 when absent: the whole body
// is JSON). It accepts JSON data flat or nested, binary inputs
// (binary_data_size) in order after the JSON part, and rejects with
// INVALID_ARG: malformed JSON, a missing name/datatype/shape, an unknown
// datatype, FP16/BF16 in JSON, data whose element count or values do not fit
// the shape and datatype, binary sizes that overrun or do not use up the
// body, and both data and binary_data_size on one input. It never allocates
// more than a small multiple of len(body), whatever the shapes and sizes
// declared.
//
// headerLen == 0 is Triton's raw binary request: the whole body is the data
// of the model's only input. The request then has one input with only Data
// set; the server fills in name, datatype and shape from the model.
func DecodeHTTPRequest(body []byte, headerLen int) (*InferRequest, error) {
	panic("not implemented")
}

// EncodeHTTPResponse encodes an inference response body, as a server sends
// it. Outputs for which binary(name) is true travel in binary
// (parameters.binary_data_size, no data key); the rest as flat JSON data.
// jsonLen is the length of the JSON part when any output is binary (send
// Content-Type application/octet-stream and Inference-Header-Content-Length),
// else -1 (Content-Type application/json). Keys follow Triton's order: id
// (only when non-empty), model_name, model_version, parameters (only when
// non-empty), outputs. An FP16 or BF16 output asked for as JSON is an
// INVALID_ARG error, as in Triton.
func EncodeHTTPResponse(resp *InferResponse, binary func(name string) bool) (body []byte, jsonLen int, err error) {
	panic("not implemented")
}

// DecodeHTTPResponse decodes an inference response body, as a client
// receives it; headerLen as for DecodeHTTPRequest. Outputs may be JSON (flat
// or nested data) or binary. Every output's data is checked against its
// shape and datatype.
func DecodeHTTPResponse(body []byte, headerLen int) (*InferResponse, error) {
	panic("not implemented")
}

// DecodeHTTPError extracts the message of a Triton error body
// {"error": "..."}; for any other body it returns the body itself, trimmed
// and cut to 512 bytes.
func DecodeHTTPError(body []byte) string {
	panic("not implemented")
}

// EncodeHTTPError renders Triton's error body {"error": msg}.
func EncodeHTTPError(msg string) []byte {
	panic("not implemented")
}

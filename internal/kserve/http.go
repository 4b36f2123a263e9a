package kserve

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/inferbench/inferbench/internal/jsonscan"
)

// HeaderContentLength is the header of Triton's binary tensor extension that
// gives the byte length of the JSON part of a body.
const HeaderContentLength = "Inference-Header-Content-Length"

// binaryDataSizeKey is the tensor parameter of the binary extension that
// gives the byte length of a tensor's binary data; binaryDataKey is the
// requested-output parameter that asks for an output in binary, and
// binaryDataOutputKey the request parameter that asks for all of them.
const (
	binaryDataSizeKey   = "binary_data_size"
	binaryDataKey       = "binary_data"
	binaryDataOutputKey = "binary_data_output"
)

// ParseHeaderLength parses an Inference-Header-Content-Length value for a
// body of bodyLen bytes. An empty value means the header was absent and
// returns -1. Like Triton it parses an int32 and requires
// 0 <= N <= bodyLen; anything else is INVALID_ARG with a message that quotes
// the value.
func ParseHeaderLength(value string, bodyLen int) (int, error) {
	if value == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 32)
	if err != nil {
		return 0, invalid("unable to parse %s '%s': want a 32-bit integer", HeaderContentLength, clipMsg(value))
	}
	if n < 0 || n > int64(bodyLen) {
		return 0, invalid("inference header size should be in range (0, %d), got: '%s'", bodyLen, clipMsg(value))
	}
	return int(n), nil
}

// EncodeHTTPRequest encodes an inference request body, as a client sends it.
// With binaryInputs every input travels in binary (parameters.binary_data_size
// in the JSON, the raw bytes after it, in input order) and jsonLen is the
// length of the JSON part, to be sent as Inference-Header-Content-Length.
// Without it every input travels as flat JSON data and jsonLen is -1 (send no
// header); FP16 and BF16 inputs then fail, as Triton cannot read them.
// Requested outputs and their parameters (binary_data) are encoded as given.
//
// Every input must pass Check. Keys are written in the order id (only when
// non-empty), parameters (only when non-empty), inputs, outputs (only when
// non-empty); parameters in key order. A "binary_data_size" key in an
// input's Parameters is the codec's own and is ignored. Parameter values
// other than bool, string, int64, uint64 and float64 are sent as the string
// fmt.Sprint makes, as ParametersToProto does; a float64 with an integral
// value is written with ".0" so that it reads back as a float64. Errors are
// INVALID_ARG: an inconsistent input, FP16/BF16 or NaN/Inf data or a
// non-UTF-8 BYTES element as JSON, a NaN/Inf float parameter.
func EncodeHTTPRequest(req *InferRequest, binaryInputs bool) (body []byte, jsonLen int, err error) {
	if req == nil {
		return nil, -1, invalid("nil inference request")
	}
	blobs := 0
	estimate := 128 + len(req.ID)
	for i := range req.Inputs {
		t := &req.Inputs[i]
		if t.InSharedMemory() {
			estimate += 96 + len(t.Name) + 24*len(t.Shape) + 32*len(t.Parameters)
			continue
		}
		if err := t.Check(); err != nil {
			return nil, -1, err
		}
		estimate += 96 + len(t.Name) + 24*len(t.Shape) + 32*len(t.Parameters)
		if binaryInputs {
			blobs += len(t.Data)
		} else {
			estimate += jsonDataEstimate(t)
		}
	}
	for _, o := range req.Outputs {
		estimate += 48 + len(o.Name) + 32*len(o.Parameters)
	}

	buf := make([]byte, 0, estimate)
	buf = append(buf, '{')
	if req.ID != "" {
		buf = append(buf, `"id":`...)
		buf = appendJSONQuoted(buf, req.ID)
		buf = append(buf, ',')
	}
	if len(req.Parameters) > 0 {
		buf = append(buf, `"parameters":`...)
		if buf, err = appendParamsJSON(buf, req.Parameters, false, -1); err != nil {
			return nil, -1, invalid("request: %v", err)
		}
		buf = append(buf, ',')
	}
	buf = append(buf, `"inputs":[`...)
	for i := range req.Inputs {
		if i > 0 {
			buf = append(buf, ',')
		}
		t := &req.Inputs[i]
		size := -1
		if binaryInputs && !t.InSharedMemory() {
			size = len(t.Data)
		}
		if buf, err = appendTensorJSON(buf, t, false, size, "input"); err != nil {
			return nil, -1, err
		}
	}
	buf = append(buf, ']')
	if len(req.Outputs) > 0 {
		buf = append(buf, `,"outputs":[`...)
		for i, o := range req.Outputs {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"name":`...)
			buf = appendJSONQuoted(buf, o.Name)
			if len(o.Parameters) > 0 {
				buf = append(buf, `,"parameters":`...)
				if buf, err = appendParamsJSON(buf, o.Parameters, false, -1); err != nil {
					return nil, -1, invalid("requested output '%s': %v", clipMsg(o.Name), err)
				}
			}
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	buf = append(buf, '}')
	if !binaryInputs {
		return buf, -1, nil
	}
	body = make([]byte, len(buf), len(buf)+blobs)
	copy(body, buf)
	for i := range req.Inputs {
		body = append(body, req.Inputs[i].Data...)
	}
	return body, len(buf), nil
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
//
// The Data of binary inputs (and of the raw binary input) shares memory with
// body. Decoded Parameters maps are nil when empty, and binary_data_size is
// removed from them; the requested outputs keep their parameters, with
// "binary_data" (which must be a bool) among them. The request parameter
// "binary_data_output", if present, must be a bool. Keys match exactly, as
// in Triton (encoding/json would also take "Name"), a known key given twice
// is an error, and unknown keys are ignored. Numbers in data must be
// literals of the datatype: integers for integer types (1.0 and 1e3 are
// refused), true/false or 0/1 for BOOL, strings for BYTES.
func DecodeHTTPRequest(body []byte, headerLen int) (*InferRequest, error) {
	if headerLen == 0 {
		return &InferRequest{Inputs: []Tensor{{Data: body}}}, nil
	}
	jsonPart, err := splitHTTPBody(body, headerLen)
	if err != nil {
		return nil, err
	}
	blobs := binaryCursor{rest: body[len(jsonPart):]}
	req, err := parseRequestJSON(jsonPart, &blobs)
	if err != nil {
		return nil, err
	}
	if n := len(blobs.rest); n > 0 {
		return nil, invalid("unexpected additional input data: %d bytes after the last binary input", n)
	}
	return req, nil
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
//
// A nil binary sends every output as JSON. An output that fails Check is an
// INTERNAL error (the server built it wrong); NaN/Inf values and non-UTF-8
// BYTES elements asked for as JSON are INVALID_ARG, like FP16.
func EncodeHTTPResponse(resp *InferResponse, binary func(name string) bool) (body []byte, jsonLen int, err error) {
	if resp == nil {
		return nil, -1, Errorf(CodeInternal, "nil inference response")
	}
	blobs, anyBinary := 0, false
	estimate := 128 + len(resp.ID) + len(resp.ModelName) + len(resp.ModelVersion) + 32*len(resp.Parameters)
	isBinary := make([]bool, len(resp.Outputs))
	for i := range resp.Outputs {
		t := &resp.Outputs[i]
		if t.InSharedMemory() { // written into its region: no data travels
			estimate += 96 + len(t.Name) + 24*len(t.Shape) + 32*len(t.Parameters)
			continue
		}
		if err := t.Check(); err != nil {
			return nil, -1, Errorf(CodeInternal, "%v", err)
		}
		estimate += 96 + len(t.Name) + 24*len(t.Shape) + 32*len(t.Parameters)
		if binary != nil && binary(t.Name) {
			isBinary[i], anyBinary = true, true
			blobs += len(t.Data)
		} else {
			estimate += jsonDataEstimate(t)
		}
	}

	buf := make([]byte, 0, estimate)
	buf = append(buf, '{')
	if resp.ID != "" {
		buf = append(buf, `"id":`...)
		buf = appendJSONQuoted(buf, resp.ID)
		buf = append(buf, ',')
	}
	buf = append(buf, `"model_name":`...)
	buf = appendJSONQuoted(buf, resp.ModelName)
	buf = append(buf, `,"model_version":`...)
	buf = appendJSONQuoted(buf, resp.ModelVersion)
	if len(resp.Parameters) > 0 {
		buf = append(buf, `,"parameters":`...)
		if buf, err = appendParamsJSON(buf, resp.Parameters, false, -1); err != nil {
			return nil, -1, invalid("response parameters: %v", err)
		}
	}
	buf = append(buf, `,"outputs":[`...)
	for i := range resp.Outputs {
		if i > 0 {
			buf = append(buf, ',')
		}
		t := &resp.Outputs[i]
		size := -1
		if isBinary[i] {
			size = len(t.Data)
		}
		if buf, err = appendTensorJSON(buf, t, true, size, "output"); err != nil {
			return nil, -1, err
		}
	}
	buf = append(buf, "]}"...)
	if !anyBinary {
		return buf, -1, nil
	}
	body = make([]byte, len(buf), len(buf)+blobs)
	copy(body, buf)
	for i := range resp.Outputs {
		if isBinary[i] {
			body = append(body, resp.Outputs[i].Data...)
		}
	}
	return body, len(buf), nil
}

// DecodeHTTPResponse decodes an inference response body, as a client
// receives it; headerLen as for DecodeHTTPRequest. Outputs may be JSON (flat
// or nested data) or binary. Every output's data is checked against its
// shape and datatype.
//
// Unlike a request, a response may carry FP16 and BF16 as JSON numbers (some
// non-Triton servers send them); they are rounded to the nearest value.
// headerLen == 0 is an error, as a response has no raw binary form.
// model_version may be a string, a number or null. Binary output data shares
// memory with body; binary_data_size is removed from output parameters.
func DecodeHTTPResponse(body []byte, headerLen int) (*InferResponse, error) {
	return decodeHTTPResponse(body, headerLen, false)
}

// DecodeHTTPResponseSHM decodes the answer to a request whose outputs
// were asked into shared-memory regions: an output with neither data nor
// binary_data_size was written into its region (Triton leaves both out,
// and need not name the region), and has no Data.
func DecodeHTTPResponseSHM(body []byte, headerLen int) (*InferResponse, error) {
	return decodeHTTPResponse(body, headerLen, true)
}

func decodeHTTPResponse(body []byte, headerLen int, shm bool) (*InferResponse, error) {
	if headerLen == 0 {
		return nil, invalid("inference header size 0: a response must start with its JSON part")
	}
	jsonPart, err := splitHTTPBody(body, headerLen)
	if err != nil {
		return nil, err
	}
	blobs := binaryCursor{rest: body[len(jsonPart):], shm: shm}
	resp, err := parseResponseJSON(jsonPart, &blobs)
	if err != nil {
		return nil, err
	}
	if n := len(blobs.rest); n > 0 {
		return nil, invalid("unexpected additional output data: %d bytes after the last binary output", n)
	}
	return resp, nil
}

// DecodeHTTPError extracts the message of a Triton error body
// {"error": "..."}; for any other body it returns the body itself, trimmed
// and cut to 512 bytes.
func DecodeHTTPError(body []byte) string {
	var e struct {
		Error *string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != nil {
		return *e.Error
	}
	s := bytes.TrimSpace(body)
	if len(s) > 512 {
		cut := 512
		for cut > 512-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return string(s)
}

// EncodeHTTPError renders Triton's error body {"error": msg}. Invalid UTF-8
// in msg becomes U+FFFD, so the body is valid JSON whatever msg holds.
func EncodeHTTPError(msg string) []byte {
	buf := make([]byte, 0, len(msg)+16)
	buf = append(buf, `{"error":`...)
	buf = appendJSONQuoted(buf, msg)
	return append(buf, '}')
}

// splitHTTPBody returns the JSON part of a body given the header length
// (-1: all of it).
func splitHTTPBody(body []byte, headerLen int) ([]byte, error) {
	if headerLen == -1 {
		return body, nil
	}
	if headerLen < 0 || headerLen > len(body) {
		return nil, invalid("inference header size should be in range (0, %d), got: %d", len(body), headerLen)
	}
	return body[:headerLen], nil
}

// binaryCursor hands out the binary blobs that follow the JSON part.
type binaryCursor struct {
	rest []byte
	// shm takes a response output with neither data nor binary_data_size
	// as written into a shared-memory region (DecodeHTTPResponseSHM).
	shm bool
}

// take returns the next size bytes, which share memory with the body.
func (c *binaryCursor) take(kind, name string, size int64) ([]byte, error) {
	if size > int64(len(c.rest)) {
		return nil, invalid("unexpected size for %s '%s', expecting %d additional bytes but only %d remain in the body", kind, clipMsg(name), size, len(c.rest))
	}
	data := c.rest[:size:size]
	c.rest = c.rest[size:]
	return data, nil
}

// decodeTensorJSON reads one input (request) or output (response).
func decodeTensorJSON(jt *httpTensorJSON, kind string, idx int, blobs *binaryCursor, request bool) (Tensor, error) {
	var t Tensor
	tname, ok, err := jsonStringValue(jt.Name, "'name'")
	if err != nil {
		return Tensor{}, invalid("%s %d: %v", kind, idx, err)
	}
	if !ok || tname == "" {
		return Tensor{}, invalid("%s %d has no 'name'", kind, idx)
	}
	t.Name = tname
	name := clipMsg(t.Name)
	dt, ok, err := jsonStringValue(jt.Datatype, "'datatype'")
	if err != nil {
		return Tensor{}, invalid("%s '%s': %v", kind, name, err)
	}
	if !ok {
		return Tensor{}, invalid("%s '%s' has no 'datatype'", kind, name)
	}
	if !DataType(dt).Valid() {
		return Tensor{}, invalid("%s '%s': unknown datatype '%s'", kind, name, clipMsg(dt))
	}
	t.Datatype = DataType(dt)
	if isJSONNull(jt.Shape) {
		return Tensor{}, invalid("%s '%s' has no 'shape'", kind, name)
	}
	if t.Shape, err = decodeShapeJSON(jt.Shape); err != nil {
		return Tensor{}, invalid("%s '%s': %v", kind, name, err)
	}
	if t.Parameters, err = decodeParamsJSON(jt.Parameters); err != nil {
		return Tensor{}, invalid("%s '%s': %v", kind, name, err)
	}
	size, hasSize := int64(-1), false
	if v, ok := t.Parameters[binaryDataSizeKey]; ok {
		hasSize = true
		switch v := v.(type) {
		case int64:
			size = v
		case uint64: // beyond any body: take fails
			size = int64(^uint64(0) >> 1)
		}
		if size < 0 {
			return Tensor{}, invalid("%s '%s': parameter '%s' must be a non-negative integer", kind, name, binaryDataSizeKey)
		}
		delete(t.Parameters, binaryDataSizeKey)
		if len(t.Parameters) == 0 {
			t.Parameters = nil
		}
	}
	hasData := !isJSONNull(jt.Data)
	if !hasData && !hasSize && (t.InSharedMemory() || blobs.shm && !request) {
		return t, nil // its data is in a shared-memory region, read by the server (or the client)
	}
	switch {
	case hasData && hasSize:
		return Tensor{}, invalid("%s '%s' has both 'data' and parameter '%s'", kind, name, binaryDataSizeKey)
	case hasSize:
		if t.Data, err = blobs.take(kind, t.Name, size); err != nil {
			return Tensor{}, err
		}
	case hasData:
		if request && !t.Datatype.JSONAllowed() {
			return Tensor{}, invalid("receiving %s data via JSON is not supported. Please use the binary data format for %s '%s'", t.Datatype, kind, name)
		}
		if t.Data, err = decodeTensorDataJSON(jt.Data, t.Datatype, t.Shape); err != nil {
			return Tensor{}, invalid("%s '%s': %v", kind, name, err)
		}
	default:
		return Tensor{}, invalid("%s '%s' has neither 'data' nor parameter '%s'", kind, name, binaryDataSizeKey)
	}
	if err := t.Check(); err != nil {
		return Tensor{}, err
	}
	return t, nil
}

// decodeModelVersion reads a response's model_version (raw, validated): a
// string, as Triton sends it, or a number or null, as other servers may.
func decodeModelVersion(raw json.RawMessage) (string, error) {
	switch {
	case isJSONNull(raw):
		return "", nil
	case raw[0] == '"':
		return string(jsonText(raw)), nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		return string(raw), nil
	}
	return "", invalid("response 'model_version' must be a string, not %s", jsonscan.Kind(raw))
}

// isJSONNull reports whether a raw value is absent or null.
func isJSONNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// clipMsg cuts a value quoted in an error message to about 64 bytes.
func clipMsg(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > max-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

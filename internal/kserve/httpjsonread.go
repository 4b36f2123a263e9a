package kserve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// jsonReader is a strict reader of JSON text (RFC 8259, exactly what
// json.Valid accepts) over a byte slice. Rather than decode values it
// validates them and hands out their raw bytes, which share memory with the
// input. The request and response decoders walk the few objects of a body
// with it and decode the small values themselves, so the bulk of a body,
// tensor data, is validated in one pass and never copied, and no structure
// is allocated for a JSON value before it has been checked.
type jsonReader struct {
	b     []byte
	i     int
	depth int
}

// maxJSONDepth bounds the nesting of arrays and objects, as in encoding/json.
const maxJSONDepth = 10000

// skipSpace moves past white space.
func (r *jsonReader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (r *jsonReader) peek() byte {
	r.skipSpace()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// syntaxError describes the byte at the cursor as unexpected.
func (r *jsonReader) syntaxError() error {
	if r.i >= len(r.b) {
		return fmt.Errorf("unexpected end of JSON input at byte %d", r.i)
	}
	c := r.b[r.i]
	if c >= 0x20 && c < utf8.RuneSelf {
		return fmt.Errorf("invalid character '%c' at byte %d", c, r.i)
	}
	return fmt.Errorf("invalid byte 0x%02x at byte %d", c, r.i)
}

// value validates the value after the cursor and returns its raw bytes.
func (r *jsonReader) value() ([]byte, error) {
	r.skipSpace()
	start := r.i
	if err := r.skipValue(); err != nil {
		return nil, err
	}
	return r.b[start:r.i], nil
}

// skipValue validates the value at the cursor and moves past it.
func (r *jsonReader) skipValue() error {
	if r.i >= len(r.b) {
		return r.syntaxError()
	}
	switch c := r.b[r.i]; c {
	case '{':
		return r.object(func([]byte) error { _, err := r.value(); return err })
	case '[':
		return r.array(func(int) error { _, err := r.value(); return err })
	case '"':
		return r.skipString()
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return r.skipNumber()
		}
		return r.syntaxError()
	}
}

// literal moves past true, false or null.
func (r *jsonReader) literal(lit string) error {
	if !bytes.HasPrefix(r.b[r.i:], []byte(lit)) {
		for k := 0; r.i < len(r.b) && k < len(lit) && r.b[r.i] == lit[k]; k++ {
			r.i++
		}
		return r.syntaxError()
	}
	r.i += len(lit)
	return nil
}

// skipString validates the string at the cursor: no raw control
// characters, only the escapes JSON defines. Like encoding/json it lets
// invalid UTF-8 through (decoding replaces it with U+FFFD).
func (r *jsonReader) skipString() error {
	r.i++ // opening quote
	for r.i < len(r.b) {
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			return nil
		case c == '\\':
			r.i++
			if r.i >= len(r.b) {
				return r.syntaxError()
			}
			switch r.b[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for range 4 {
					if r.i >= len(r.b) || !isHexDigit(r.b[r.i]) {
						return r.syntaxError()
					}
					r.i++
				}
			default:
				return r.syntaxError()
			}
		case c < 0x20:
			return r.syntaxError()
		default:
			r.i++
		}
	}
	return r.syntaxError()
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipNumber validates the number at the cursor:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) skipNumber() error {
	if r.b[r.i] == '-' {
		r.i++
	}
	switch {
	case r.i < len(r.b) && r.b[r.i] == '0':
		r.i++
	case r.i < len(r.b) && r.b[r.i] >= '1' && r.b[r.i] <= '9':
		r.skipDigits()
	default:
		return r.syntaxError()
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if !r.skipDigits() {
			return r.syntaxError()
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if !r.skipDigits() {
			return r.syntaxError()
		}
	}
	return nil
}

// skipDigits moves past decimal digits and reports whether there was one.
func (r *jsonReader) skipDigits() bool {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i > start
}

// enter and leave count nesting.
func (r *jsonReader) enter() error {
	if r.depth++; r.depth > maxJSONDepth {
		return fmt.Errorf("JSON nested more than %d levels deep at byte %d", maxJSONDepth, r.i)
	}
	return nil
}

// object walks the object at the cursor, calling member with the raw key
// (quotes included) of each member; member must consume exactly one value.
func (r *jsonReader) object(member func(key []byte) error) error {
	if err := r.enter(); err != nil {
		return err
	}
	r.i++ // '{'
	if r.peek() == '}' {
		r.i++
		r.depth--
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.syntaxError()
		}
		start := r.i
		if err := r.skipString(); err != nil {
			return err
		}
		key := r.b[start:r.i]
		if r.peek() != ':' {
			return r.syntaxError()
		}
		r.i++
		if err := member(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			return nil
		default:
			return r.syntaxError()
		}
	}
}

// array walks the array at the cursor, calling elem for each element with
// its index; elem must consume exactly one value.
func (r *jsonReader) array(elem func(i int) error) error {
	if err := r.enter(); err != nil {
		return err
	}
	r.i++ // '['
	if r.peek() == ']' {
		r.i++
		r.depth--
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			r.depth--
			return nil
		default:
			return r.syntaxError()
		}
	}
}

// end checks that nothing but white space follows the top-level value.
func (r *jsonReader) end() error {
	if r.peek() != 0 || r.i < len(r.b) {
		return fmt.Errorf("invalid character after the top-level value at byte %d", r.i)
	}
	return nil
}

// jsonKind names the kind of a raw value for messages: "an object", "a
// number", ...
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonText returns the content of a raw JSON string, unescaped; invalid
// UTF-8 becomes U+FFFD, as in encoding/json. raw must be a valid string.
func jsonText(raw []byte) []byte {
	content := raw[1 : len(raw)-1]
	if plainJSONString(content) {
		return content
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return content // unreachable for validated input
	}
	return []byte(s)
}

// jsonStringValue decodes a raw value that must be a string (what names it
// in messages); absent or null gives ok false.
func jsonStringValue(raw []byte, what string) (s string, ok bool, err error) {
	if isJSONNull(raw) {
		return "", false, nil
	}
	if raw[0] != '"' {
		return "", false, fmt.Errorf("%s must be a string, not %s", what, jsonKind(raw))
	}
	return string(jsonText(raw)), true, nil
}

// duplicateKey reports a member given twice.
func duplicateKey(key []byte) error {
	return fmt.Errorf("duplicate key %s", clipMsg(string(key)))
}

// setOnce stores a member's raw value, refusing a second one: the codec
// does not guess which of two "data" keys the client meant.
func setOnce(dst *json.RawMessage, r *jsonReader, key []byte) error {
	if *dst != nil {
		return duplicateKey(key)
	}
	v, err := r.value()
	*dst = v
	return err
}

// httpTensorJSON is one request input or response output as found in the
// JSON: raw values that share memory with the body.
type httpTensorJSON struct {
	Name, Datatype, Shape, Parameters, Data json.RawMessage
}

// readTensorJSON reads one input or output object.
func (r *jsonReader) readTensorJSON(jt *httpTensorJSON) error {
	return r.object(func(key []byte) error {
		switch string(jsonText(key)) {
		case "name":
			return setOnce(&jt.Name, r, key)
		case "datatype":
			return setOnce(&jt.Datatype, r, key)
		case "shape":
			return setOnce(&jt.Shape, r, key)
		case "parameters":
			return setOnce(&jt.Parameters, r, key)
		case "data":
			return setOnce(&jt.Data, r, key)
		}
		_, err := r.value()
		return err
	})
}

// parseRequestJSON reads the JSON part of a request body, taking binary
// input data from blobs as the inputs come.
func parseRequestJSON(b []byte, blobs *binaryCursor) (*InferRequest, error) {
	r := &jsonReader{b: b}
	if c := r.peek(); c != '{' {
		if c == 0 {
			return nil, invalid("failed to parse the request JSON: %v", r.syntaxError())
		}
		v, err := r.value()
		if err != nil {
			return nil, invalid("failed to parse the request JSON: %v", err)
		}
		return nil, invalid("failed to parse the request JSON: it must be an object, not %s", jsonKind(v))
	}
	req := &InferRequest{}
	var id, params, inputs, outputs json.RawMessage
	err := r.object(func(key []byte) error {
		switch string(jsonText(key)) {
		case "id":
			return setOnce(&id, r, key)
		case "parameters":
			return setOnce(&params, r, key)
		case "outputs":
			return setOnce(&outputs, r, key)
		case "inputs":
			if inputs != nil {
				return duplicateKey(key)
			}
			if c := r.peek(); c != '[' {
				v, err := r.value()
				if err != nil || c == 'n' {
					inputs = v
					return err
				}
				return invalid("'inputs' must be an array, not %s", jsonKind(v))
			}
			start := r.i
			err := r.array(func(i int) error {
				if r.peek() != '{' {
					v, err := r.value()
					if err != nil {
						return err
					}
					return invalid("input %d must be an object, not %s", i, jsonKind(v))
				}
				var jt httpTensorJSON
				if err := r.readTensorJSON(&jt); err != nil {
					return err
				}
				t, err := decodeTensorJSON(&jt, "input", i, blobs, true)
				if err != nil {
					return err
				}
				req.Inputs = append(req.Inputs, t)
				return nil
			})
			inputs = r.b[start:r.i]
			return err
		}
		_, err := r.value()
		return err
	})
	if err == nil {
		err = r.end()
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, invalid("failed to parse the request JSON: %v", err)
	}

	if isJSONNull(inputs) {
		return nil, invalid("request JSON has no 'inputs'")
	}
	if req.Inputs == nil {
		req.Inputs = []Tensor{}
	}
	if req.ID, _, err = jsonStringValue(id, "'id'"); err != nil {
		return nil, invalid("%v", err)
	}
	if req.Parameters, err = decodeParamsJSON(params); err != nil {
		return nil, invalid("request parameters: %v", err)
	}
	if v, ok := req.Parameters[binaryDataOutputKey]; ok {
		if _, isBool := v.(bool); !isBool {
			return nil, invalid("request parameter '%s' must be a boolean", binaryDataOutputKey)
		}
	}
	if req.Outputs, err = parseRequestedOutputsJSON(outputs); err != nil {
		return nil, err
	}
	return req, nil
}

// parseRequestedOutputsJSON reads a request's "outputs" (raw, validated).
func parseRequestedOutputsJSON(raw json.RawMessage) ([]RequestedOutput, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	r := &jsonReader{b: raw}
	if r.peek() != '[' {
		return nil, invalid("'outputs' must be an array, not %s", jsonKind(raw))
	}
	var outs []RequestedOutput
	err := r.array(func(i int) error {
		if r.peek() != '{' {
			v, err := r.value()
			if err != nil {
				return err
			}
			return invalid("requested output %d must be an object, not %s", i, jsonKind(v))
		}
		var name, params json.RawMessage
		err := r.object(func(key []byte) error {
			switch string(jsonText(key)) {
			case "name":
				return setOnce(&name, r, key)
			case "parameters":
				return setOnce(&params, r, key)
			}
			_, err := r.value()
			return err
		})
		if err != nil {
			return err
		}
		o := RequestedOutput{}
		var ok bool
		if o.Name, ok, err = jsonStringValue(name, "'name'"); err != nil {
			return invalid("requested output %d: %v", i, err)
		}
		if !ok || o.Name == "" {
			return invalid("requested output %d has no 'name'", i)
		}
		if o.Parameters, err = decodeParamsJSON(params); err != nil {
			return invalid("requested output '%s': %v", clipMsg(o.Name), err)
		}
		if v, ok := o.Parameters[binaryDataKey]; ok {
			if _, isBool := v.(bool); !isBool {
				return invalid("requested output '%s': parameter '%s' must be a boolean", clipMsg(o.Name), binaryDataKey)
			}
		}
		outs = append(outs, o)
		return nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, invalid("failed to parse the request JSON: %v", err)
	}
	return outs, nil
}

// parseResponseJSON reads the JSON part of a response body, taking binary
// output data from blobs as the outputs come.
func parseResponseJSON(b []byte, blobs *binaryCursor) (*InferResponse, error) {
	r := &jsonReader{b: b}
	if c := r.peek(); c != '{' {
		if c == 0 {
			return nil, invalid("failed to parse the response JSON: %v", r.syntaxError())
		}
		v, err := r.value()
		if err != nil {
			return nil, invalid("failed to parse the response JSON: %v", err)
		}
		return nil, invalid("failed to parse the response JSON: it must be an object, not %s", jsonKind(v))
	}
	resp := &InferResponse{}
	var id, name, version, params, outputs json.RawMessage
	err := r.object(func(key []byte) error {
		switch string(jsonText(key)) {
		case "id":
			return setOnce(&id, r, key)
		case "model_name":
			return setOnce(&name, r, key)
		case "model_version":
			return setOnce(&version, r, key)
		case "parameters":
			return setOnce(&params, r, key)
		case "outputs":
			if outputs != nil {
				return duplicateKey(key)
			}
			if c := r.peek(); c != '[' {
				v, err := r.value()
				if err != nil || c == 'n' {
					outputs = v
					return err
				}
				return invalid("'outputs' must be an array, not %s", jsonKind(v))
			}
			start := r.i
			err := r.array(func(i int) error {
				if r.peek() != '{' {
					v, err := r.value()
					if err != nil {
						return err
					}
					return invalid("output %d must be an object, not %s", i, jsonKind(v))
				}
				var jt httpTensorJSON
				if err := r.readTensorJSON(&jt); err != nil {
					return err
				}
				t, err := decodeTensorJSON(&jt, "output", i, blobs, false)
				if err != nil {
					return err
				}
				resp.Outputs = append(resp.Outputs, t)
				return nil
			})
			outputs = r.b[start:r.i]
			return err
		}
		_, err := r.value()
		return err
	})
	if err == nil {
		err = r.end()
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, invalid("failed to parse the response JSON: %v", err)
	}
	if resp.ID, _, err = jsonStringValue(id, "'id'"); err != nil {
		return nil, invalid("response %v", err)
	}
	if resp.ModelName, _, err = jsonStringValue(name, "'model_name'"); err != nil {
		return nil, invalid("response %v", err)
	}
	if resp.ModelVersion, err = decodeModelVersion(version); err != nil {
		return nil, err
	}
	if resp.Parameters, err = decodeParamsJSON(params); err != nil {
		return nil, invalid("response parameters: %v", err)
	}
	return resp, nil
}

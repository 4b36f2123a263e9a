package kserve

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/inferbench/inferbench/internal/jsonscan"
)

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
		return "", false, fmt.Errorf("%s must be a string, not %s", what, jsonscan.Kind(raw))
	}
	return string(jsonText(raw)), true, nil
}

// duplicateKey reports a member given twice.
func duplicateKey(key []byte) error {
	return fmt.Errorf("duplicate key %s", clipMsg(string(key)))
}

// setOnce stores a member's raw value, refusing a second one: the codec
// does not guess which of two "data" keys the client meant.
func setOnce(dst *json.RawMessage, r *jsonscan.Reader, key []byte) error {
	if *dst != nil {
		return duplicateKey(key)
	}
	v, err := r.Value()
	*dst = v
	return err
}

// httpTensorJSON is one request input or response output as found in the
// JSON: raw values that share memory with the body.
type httpTensorJSON struct {
	Name, Datatype, Shape, Parameters, Data json.RawMessage
}

// readTensorJSON reads one input or output object.
func readTensorJSON(r *jsonscan.Reader, jt *httpTensorJSON) error {
	return r.Object(func(key []byte) error {
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
		_, err := r.Value()
		return err
	})
}

// parseRequestJSON reads the JSON part of a request body, taking binary
// input data from blobs as the inputs come.
func parseRequestJSON(b []byte, blobs *binaryCursor) (*InferRequest, error) {
	r := jsonscan.NewReader(b)
	if c := r.Peek(); c != '{' {
		if c == 0 {
			return nil, invalid("failed to parse the request JSON: %v", r.SyntaxError())
		}
		v, err := r.Value()
		if err != nil {
			return nil, invalid("failed to parse the request JSON: %v", err)
		}
		return nil, invalid("failed to parse the request JSON: it must be an object, not %s", jsonscan.Kind(v))
	}
	req := &InferRequest{}
	var id, params, inputs, outputs json.RawMessage
	err := r.Object(func(key []byte) error {
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
			if c := r.Peek(); c != '[' {
				v, err := r.Value()
				if err != nil || c == 'n' {
					inputs = v
					return err
				}
				return invalid("'inputs' must be an array, not %s", jsonscan.Kind(v))
			}
			start := r.Pos()
			err := r.Array(func(i int) error {
				if r.Peek() != '{' {
					v, err := r.Value()
					if err != nil {
						return err
					}
					return invalid("input %d must be an object, not %s", i, jsonscan.Kind(v))
				}
				var jt httpTensorJSON
				if err := readTensorJSON(r, &jt); err != nil {
					return err
				}
				t, err := decodeTensorJSON(&jt, "input", i, blobs, true)
				if err != nil {
					return err
				}
				req.Inputs = append(req.Inputs, t)
				return nil
			})
			inputs = r.Since(start)
			return err
		}
		_, err := r.Value()
		return err
	})
	if err == nil {
		err = r.End()
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
	r := jsonscan.NewReader(raw)
	if r.Peek() != '[' {
		return nil, invalid("'outputs' must be an array, not %s", jsonscan.Kind(raw))
	}
	var outs []RequestedOutput
	err := r.Array(func(i int) error {
		if r.Peek() != '{' {
			v, err := r.Value()
			if err != nil {
				return err
			}
			return invalid("requested output %d must be an object, not %s", i, jsonscan.Kind(v))
		}
		var name, params json.RawMessage
		err := r.Object(func(key []byte) error {
			switch string(jsonText(key)) {
			case "name":
				return setOnce(&name, r, key)
			case "parameters":
				return setOnce(&params, r, key)
			}
			_, err := r.Value()
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
	r := jsonscan.NewReader(b)
	if c := r.Peek(); c != '{' {
		if c == 0 {
			return nil, invalid("failed to parse the response JSON: %v", r.SyntaxError())
		}
		v, err := r.Value()
		if err != nil {
			return nil, invalid("failed to parse the response JSON: %v", err)
		}
		return nil, invalid("failed to parse the response JSON: it must be an object, not %s", jsonscan.Kind(v))
	}
	resp := &InferResponse{}
	var id, name, version, params, outputs json.RawMessage
	err := r.Object(func(key []byte) error {
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
			if c := r.Peek(); c != '[' {
				v, err := r.Value()
				if err != nil || c == 'n' {
					outputs = v
					return err
				}
				return invalid("'outputs' must be an array, not %s", jsonscan.Kind(v))
			}
			start := r.Pos()
			err := r.Array(func(i int) error {
				if r.Peek() != '{' {
					v, err := r.Value()
					if err != nil {
						return err
					}
					return invalid("output %d must be an object, not %s", i, jsonscan.Kind(v))
				}
				var jt httpTensorJSON
				if err := readTensorJSON(r, &jt); err != nil {
					return err
				}
				t, err := decodeTensorJSON(&jt, "output", i, blobs, false)
				if err != nil {
					return err
				}
				resp.Outputs = append(resp.Outputs, t)
				return nil
			})
			outputs = r.Since(start)
			return err
		}
		_, err := r.Value()
		return err
	})
	if err == nil {
		err = r.End()
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

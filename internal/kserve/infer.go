package kserve

// InferRequest is one inference request, independent of the wire. The model
// name and version travel beside it (in the URL for HTTP, in the message for
// gRPC).
type InferRequest struct {
	ID         string
	Parameters Parameters // request-level; "binary_data_output" is the binary extension's
	Inputs     []Tensor
	Outputs    []RequestedOutput // empty: every output, in the model's order
}

// RequestedOutput names an output the client wants. Its parameter
// "binary_data" (bool) asks for it in binary form.
type RequestedOutput struct {
	Name       string
	Parameters Parameters
}

// OutputBinary reports whether the named output is to be sent in binary
// form: its own "binary_data" parameter if it has one, else the request's
// "binary_data_output", else false (Triton's default is JSON).
func (r *InferRequest) OutputBinary(name string) bool {
	for _, o := range r.Outputs {
		if o.Name == name {
			if v, ok := o.Parameters.Bool("binary_data"); ok {
				return v
			}
			break
		}
	}
	v, _ := r.Parameters.Bool("binary_data_output")
	return v
}

// InferResponse is one inference response, independent of the wire.
type InferResponse struct {
	ModelName    string
	ModelVersion string
	ID           string
	Parameters   Parameters
	Outputs      []Tensor
}

// Output returns the output with this name, or nil.
func (r *InferResponse) Output(name string) *Tensor {
	for i := range r.Outputs {
		if r.Outputs[i].Name == name {
			return &r.Outputs[i]
		}
	}
	return nil
}

// ServerMetadata is the answer of GET /v2 and ServerMetadata.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// TensorMetadata describes one input or output of a model; -1 marks a
// variable dimension.
type TensorMetadata struct {
	Name     string   `json:"name"`
	Datatype DataType `json:"datatype"`
	Shape    []int64  `json:"shape"`
}

// ModelMetadata is the answer of GET /v2/models/{m} and ModelMetadata.
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions,omitempty"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
}

// normalizeParam widens Go's other numeric types to the parameter value
// types (int to int64, uint32 to uint64, float32 to float64 and so on), so
// that Parameters{"priority": 1} travels as a number, not as a string.
func normalizeParam(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return uint64(x)
	case uint8:
		return uint64(x)
	case uint16:
		return uint64(x)
	case uint32:
		return uint64(x)
	case float32:
		return float64(x)
	}
	return v
}

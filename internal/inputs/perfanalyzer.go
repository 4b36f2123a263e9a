package inputs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/inferbench/inferbench/internal/kserve"
)

// FromPerfAnalyzerFile reads input samples in perf_analyzer's JSON format:
//
//	{"data": [ {"INPUT0": [1, 2, 3, 4], "INPUT1": {"content": [...], "shape": [2, 2]}}, ... ]}
//
// Each entry of data is one sample with a value for every input: a flat or
// nested array, {"content": array, "shape": dims}, or {"b64": "..."} with
// the raw little-endian bytes. Errors name the file, the entry and the input.
func FromPerfAnalyzerFile(path string, meta []kserve.TensorMetadata) ([][]kserve.Tensor, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("input data: %w", err)
	}
	var doc struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: not perf_analyzer input data: %w", path, err)
	}
	if len(doc.Data) == 0 {
		return nil, fmt.Errorf("%s: \"data\" holds no sample", path)
	}
	samples := make([][]kserve.Tensor, 0, len(doc.Data))
	for i, entry := range doc.Data {
		sample := make([]kserve.Tensor, 0, len(meta))
		for _, m := range meta {
			value, ok := entry[m.Name]
			if !ok {
				return nil, fmt.Errorf("%s: data[%d] has no value for input '%s'", path, i, m.Name)
			}
			t, err := perfAnalyzerTensor(m, value)
			if err != nil {
				return nil, fmt.Errorf("%s: data[%d] input '%s': %w", path, i, m.Name, err)
			}
			sample = append(sample, t)
		}
		for name := range entry {
			if !hasInput(meta, name) {
				return nil, fmt.Errorf("%s: data[%d] names input '%s', which the model does not have", path, i, name)
			}
		}
		samples = append(samples, sample)
	}
	return samples, nil
}

func hasInput(meta []kserve.TensorMetadata, name string) bool {
	for _, m := range meta {
		if m.Name == name {
			return true
		}
	}
	return false
}

func perfAnalyzerTensor(m kserve.TensorMetadata, value json.RawMessage) (kserve.Tensor, error) {
	shape := m.Shape
	content := value
	var obj struct {
		Content json.RawMessage `json:"content"`
		Shape   []int64         `json:"shape"`
		B64     *string         `json:"b64"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(value), []byte("{")) {
		if err := json.Unmarshal(value, &obj); err != nil {
			return kserve.Tensor{}, err
		}
		if obj.Shape != nil {
			shape = obj.Shape
		}
		if obj.B64 != nil {
			data, err := base64.StdEncoding.DecodeString(*obj.B64)
			if err != nil {
				return kserve.Tensor{}, fmt.Errorf("b64: %w", err)
			}
			t := kserve.Tensor{Name: m.Name, Datatype: m.Datatype, Shape: shape, Data: data}
			return t, t.Check()
		}
		if obj.Content == nil {
			return kserve.Tensor{}, fmt.Errorf("want an array, {\"content\": ..., \"shape\": ...} or {\"b64\": ...}")
		}
		content = obj.Content
	}
	// Let the protocol's own JSON decoder read the values: one request with
	// this input alone.
	req, err := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": m.Name, "datatype": m.Datatype, "shape": shape, "data": content,
	}}})
	if err != nil {
		return kserve.Tensor{}, err
	}
	decoded, err := kserve.DecodeHTTPRequest(req, -1)
	if err != nil {
		return kserve.Tensor{}, err
	}
	return decoded.Inputs[0], nil
}

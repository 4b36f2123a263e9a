package kserve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Triton renders its model configuration and statistics as the protobuf's
// JSON form with proto field names and defaults printed, but with some
// 64-bit integers as JSON numbers instead of the strings protojson uses.
// These are the keys it rewrites (core ModelConfigToJson and the statistics
// writer), and only these: "version" stays a string.
var tritonNumericKeys = map[string]bool{
	// model configuration
	"dims": true, "shape": true, "max_queue_delay_microseconds": true,
	"priority_levels": true, "default_priority_level": true,
	"default_timeout_microseconds": true,
	// statistics
	"last_inference": true, "inference_count": true, "execution_count": true,
	"count": true, "ns": true, "batch_size": true, "byte_size": true, "id": true,
}

// MarshalTritonJSON renders a ModelConfig or ModelStatisticsResponse (or any
// message) the way Triton's HTTP endpoints do.
func MarshalTritonJSON(m proto.Message) ([]byte, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(numberify(v, false))
}

// numberify turns the string values of tritonNumericKeys into numbers.
func numberify(v any, numeric bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numberify(e, tritonNumericKeys[k])
		}
	case []any:
		for i, e := range x {
			x[i] = numberify(e, numeric)
		}
	case string:
		if _, err := strconv.ParseInt(x, 10, 64); numeric && err == nil {
			return json.Number(x)
		}
		if _, err := strconv.ParseUint(x, 10, 64); numeric && err == nil {
			return json.Number(x)
		}
	}
	return v
}

// UnmarshalTritonJSON reads Triton's JSON rendering of a message; unknown
// fields (from newer servers) are skipped.
func UnmarshalTritonJSON(data []byte, m proto.Message) error {
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("decoding %s JSON: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}

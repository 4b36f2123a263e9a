package kserve

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseTensorSpec reads "name:DATATYPE:dims", dims separated by commas or
// x (1,3,640,640 or 1x3x640x640), -1 for a variable dimension.
func ParseTensorSpec(flag, spec string) (TensorMetadata, error) {
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return TensorMetadata{}, fmt.Errorf("--%s %q: want name:DATATYPE:dims, for example images:FP32:1,3,640,640", flag, spec)
	}
	name := strings.TrimSpace(parts[0])
	if name == "" {
		return TensorMetadata{}, fmt.Errorf("--%s %q: the tensor name is empty", flag, spec)
	}
	dt, err := ParseDataType(strings.ToUpper(strings.TrimSpace(parts[1])))
	if err != nil {
		return TensorMetadata{}, fmt.Errorf("--%s %q: %w", flag, spec, err)
	}
	var shape []int64
	if dims := strings.TrimSpace(parts[2]); dims != "" {
		for _, d := range strings.FieldsFunc(dims, func(r rune) bool { return r == ',' || r == 'x' }) {
			v, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
			if err != nil || v < -1 {
				return TensorMetadata{}, fmt.Errorf("--%s %q: dimension %q is not a whole number >= -1", flag, spec, d)
			}
			shape = append(shape, v)
		}
	}
	return TensorMetadata{Name: name, Datatype: dt, Shape: shape}, nil
}

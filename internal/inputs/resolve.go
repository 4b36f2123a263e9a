package inputs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/inferbench/inferbench/internal/kserve"
)

// Resolve makes every input shape concrete: a shape given in shapes (by
// input name) replaces the metadata's when it fits it (same rank, fixed
// dimensions equal); a leading variable dimension becomes batchSize (1 if
// zero); any other variable dimension must be given in shapes. Names in
// shapes that the model does not have are an error.
func Resolve(meta []kserve.TensorMetadata, shapes map[string][]int64, batchSize int) ([]kserve.TensorMetadata, error) {
	if batchSize <= 0 {
		batchSize = 1
	}
	known := map[string]bool{}
	out := make([]kserve.TensorMetadata, len(meta))
	for i, m := range meta {
		known[m.Name] = true
		shape := append([]int64(nil), m.Shape...)
		if given, ok := shapes[m.Name]; ok {
			if len(given) != len(shape) {
				return nil, fmt.Errorf("--shape %s:%s: the model's input has %d dimensions %v", m.Name, dims(given), len(shape), m.Shape)
			}
			for j, d := range given {
				if d < 1 {
					return nil, fmt.Errorf("--shape %s:%s: dimension %d must be at least 1", m.Name, dims(given), d)
				}
				if shape[j] >= 0 && shape[j] != d {
					return nil, fmt.Errorf("--shape %s:%s: dimension %d is fixed at %d by the model (%v)", m.Name, dims(given), j, shape[j], m.Shape)
				}
			}
			shape = append([]int64(nil), given...)
		}
		for j, d := range shape {
			if d >= 0 {
				continue
			}
			if j == 0 {
				shape[0] = int64(batchSize)
				continue
			}
			return nil, fmt.Errorf("input '%s' has a variable dimension %d in %v: give its size with --shape %s:%s", m.Name, j, m.Shape, m.Name, dims(ConcreteShape(m.Shape, 1)))
		}
		out[i] = kserve.TensorMetadata{Name: m.Name, Datatype: m.Datatype, Shape: shape}
	}
	var unknown []string
	for name := range shapes {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("--shape names input(s) the model does not have: %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

func dims(shape []int64) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ",")
}

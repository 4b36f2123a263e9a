// Package inputs makes the input tensors a benchmark sends: for now,
// seeded pseudo-random data shaped by the model's metadata.
package inputs

import (
	"fmt"
	"math/rand/v2"

	"github.com/inferbench/inferbench/internal/kserve"
)

// ConcreteShape replaces every variable dimension (-1) by fill.
func ConcreteShape(shape []int64, fill int64) []int64 {
	out := make([]int64, len(shape))
	for i, d := range shape {
		if d < 0 {
			d = fill
		}
		out[i] = d
	}
	return out
}

// Random makes one tensor per metadata entry with pseudo-random data from
// seed: variable dimensions become 1; floats lie in [0, 1), integers in
// [0, 100), booleans are random, BYTES elements are short strings. The same
// metadata and seed give the same tensors.
func Random(meta []kserve.TensorMetadata, seed uint64) ([]kserve.Tensor, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]kserve.Tensor, 0, len(meta))
	for _, m := range meta {
		if !m.Datatype.Valid() {
			return nil, fmt.Errorf("input '%s': unknown datatype '%s'", m.Name, m.Datatype)
		}
		shape := ConcreteShape(m.Shape, 1)
		n, err := kserve.ElementCount(shape)
		if err != nil {
			return nil, fmt.Errorf("input '%s': %w", m.Name, err)
		}
		t := kserve.Tensor{Name: m.Name, Datatype: m.Datatype, Shape: shape}
		if m.Datatype == kserve.BYTES {
			var data []byte
			for i := int64(0); i < n; i++ {
				data = kserve.AppendBytesElement(data, []byte(fmt.Sprintf("sample-%d", rng.IntN(1000))))
			}
			t.Data = data
		} else {
			size, err := kserve.ByteSize(m.Datatype, shape)
			if err != nil {
				return nil, fmt.Errorf("input '%s': %w", m.Name, err)
			}
			t.Data = make([]byte, size)
			for i := 0; i < int(n); i++ {
				var v float64
				switch m.Datatype {
				case kserve.FP16, kserve.BF16, kserve.FP32, kserve.FP64:
					v = rng.Float64()
				case kserve.BOOL:
					v = float64(rng.IntN(2))
				default:
					v = float64(rng.IntN(100))
				}
				kserve.PutFloat64At(m.Datatype, t.Data, i, v)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

package imaging

import (
	"encoding/binary"
	"fmt"
	"image"
	"math"

	"github.com/inferbench/inferbench/internal/kserve"
)

// IsImageInput reports whether an input can take a letterboxed image: NCHW
// with 3 channels ([1,3,H,W] or [3,H,W], batch -1 allowed) of FP32, FP16
// or UINT8.
func IsImageInput(m kserve.TensorMetadata) bool {
	s := m.Shape
	if len(s) < 3 || len(s) > 4 || s[len(s)-3] != 3 {
		return false
	}
	return m.Datatype == kserve.FP32 || m.Datatype == kserve.FP16 || m.Datatype == kserve.UINT8
}

// Size returns the width and height of an image input whose shape is
// resolved: NCHW [1,3,H,W] or [3,H,W].
func Size(meta kserve.TensorMetadata) (w, h int, err error) {
	shape := meta.Shape
	if len(shape) < 3 || len(shape) > 4 || shape[len(shape)-3] != 3 {
		return 0, 0, fmt.Errorf("input '%s' has shape %v: an image input must be NCHW, [1,3,H,W] or [3,H,W]", meta.Name, shape)
	}
	h, w = int(shape[len(shape)-2]), int(shape[len(shape)-1])
	if h < 1 || w < 1 || (len(shape) == 4 && shape[0] != 1) {
		return 0, 0, fmt.Errorf("input '%s' has shape %v: height and width must be known and the batch 1 (use --shape)", meta.Name, shape)
	}
	switch meta.Datatype {
	case kserve.FP32, kserve.FP16, kserve.UINT8:
	default:
		return 0, 0, fmt.Errorf("input '%s' is %s: images go to FP32, FP16 or UINT8 inputs", meta.Name, meta.Datatype)
	}
	return w, h, nil
}

// Tensor turns an image into a model input: letterboxed to the input's
// height and width (an NCHW shape [1, 3, H, W] or [3, H, W]), RGB, planar;
// FP32 and FP16 are divided by 255, UINT8 stays 0..255. It also returns
// where the image sits in the input, to map boxes back.
func Tensor(img image.Image, meta kserve.TensorMetadata) (kserve.Tensor, Letterbox, error) {
	w, h, err := Size(meta)
	if err != nil {
		return kserve.Tensor{}, Letterbox{}, err
	}
	rgb, lb := LetterboxRGB(img, w, h)
	size, _ := kserve.ByteSize(meta.Datatype, meta.Shape)
	t := kserve.Tensor{Name: meta.Name, Datatype: meta.Datatype, Shape: append([]int64(nil), meta.Shape...), Data: make([]byte, size)}
	plane := w * h
	switch meta.Datatype {
	case kserve.UINT8:
		for i := 0; i < plane; i++ {
			t.Data[i], t.Data[plane+i], t.Data[2*plane+i] = rgb[i*3], rgb[i*3+1], rgb[i*3+2]
		}
	case kserve.FP32:
		var lut [256]uint32
		for v := range lut {
			lut[v] = math.Float32bits(float32(float64(v) / 255))
		}
		for i := 0; i < plane; i++ {
			for c := 0; c < 3; c++ {
				binary.LittleEndian.PutUint32(t.Data[(c*plane+i)*4:], lut[rgb[i*3+c]])
			}
		}
	default:
		for i := 0; i < plane; i++ {
			for c := 0; c < 3; c++ {
				kserve.PutFloat64At(meta.Datatype, t.Data, c*plane+i, float64(rgb[i*3+c])/255)
			}
		}
	}
	return t, lb, nil
}

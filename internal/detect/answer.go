package detect

import (
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
)

// Space says in which coordinates an Answer's boxes are.
type Space int

// The coordinates of an Answer's boxes.
const (
	// SpaceInput is the model input's pixels: a letterboxed image (a
	// KServe YOLO output).
	SpaceInput Space = iota
	// SpaceImage is the original image's pixels (Ultralytics' answers).
	SpaceImage
	// SpaceUnit is 0..1 of the original image (NIM's answers).
	SpaceUnit
)

// Answer is what one inference answer says about its images, read in full
// to compare deployments, never on the hot path.
type Answer struct {
	// Boxes are each image's detections in Space's coordinates; nil when
	// the answer's format is unknown (a KServe model whose outputs are
	// not YOLO-shaped, an HTTP service whose detections are not read).
	Boxes [][]Box
	Space Space
	// Fingerprints are the reference server's fingerprint of each
	// image's input tensor (kserve.Fingerprint), nil from other servers.
	Fingerprints []uint32
}

// ReadOutputs reads the answer of a KServe response's outputs: the
// detections of the first YOLO-shaped output, every batch item's, with
// Ultralytics' predict defaults, and the reference server's fingerprint.
func ReadOutputs(outputs []kserve.Tensor) (*Answer, error) {
	a := &Answer{Space: SpaceInput}
	for i := range outputs {
		out := &outputs[i]
		if fp, ok := kserve.ReadFingerprint(out); ok && a.Fingerprints == nil {
			a.Fingerprints = []uint32{fp}
		}
		if a.Boxes == nil && IsYOLO(out) {
			items := 1
			if len(out.Shape) == 3 {
				items = int(out.Shape[0])
			}
			for item := 0; item < items; item++ {
				boxes, err := DecodeYOLO(out, item, DefaultConfidence, DefaultIoU)
				if err != nil {
					return nil, err
				}
				a.Boxes = append(a.Boxes, boxes)
			}
		}
	}
	return a, nil
}

// ReadNIM reads the detections of a NIM /v1/infer answer (ParseNIM).
func ReadNIM(body []byte) (*Answer, error) {
	boxes, err := ParseNIM(body)
	if err != nil {
		return nil, err
	}
	return &Answer{Boxes: boxes, Space: SpaceUnit}, nil
}

// ReadUltralytics reads the detections of a plain HTTP service's answer
// (ParseHTTP): one image's.
func ReadUltralytics(body []byte) (*Answer, error) {
	boxes, err := ParseHTTP(body)
	if err != nil {
		return nil, err
	}
	return &Answer{Boxes: [][]Box{boxes}, Space: SpaceImage}, nil
}

// Unit returns the detections of the answer's i-th image in 0..1 of a
// w x h image; lb is where that image sat in the model's input (used
// for SpaceInput only). Nil when the answer has no boxes for it.
func (a *Answer) Unit(i, w, h int, lb imaging.Letterbox) []Box {
	if i < 0 || i >= len(a.Boxes) {
		return nil
	}
	boxes := a.Boxes[i]
	switch a.Space {
	case SpaceInput:
		return Normalize(FromLetterbox(boxes, lb, w, h), w, h)
	case SpaceImage:
		return Normalize(boxes, w, h)
	}
	return boxes
}

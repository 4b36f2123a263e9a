package detect

import (
	"fmt"
	"sort"

	"github.com/inferbench/inferbench/internal/kserve"
)

// YOLO output tensors as Ultralytics exports them for YOLOv8/11 detect
// (PROTOCOL.md 5): [B, 4+C, N] (or [4+C, N]), for each of N anchors the
// box centre, width and height in model-input pixels, then C class
// scores, no objectness. A tensor with more rows than columns is taken as
// the transposed [B, N, 4+C].

// Ultralytics' predict defaults.
const (
	DefaultConfidence = 0.25
	DefaultIoU        = 0.7
	maxDetections     = 300
)

// yoloLayout reads a YOLO output's shape: batch, channels (4+C), anchors,
// and whether it is transposed.
func yoloLayout(t *kserve.Tensor) (batch, channels, anchors int, transposed bool, err error) {
	s := t.Shape
	switch len(s) {
	case 2:
		s = append([]int64{1}, s...)
	case 3:
	default:
		return 0, 0, 0, false, fmt.Errorf("output '%s' has shape %v: a YOLO output is [B, 4+classes, anchors]", t.Name, t.Shape)
	}
	switch t.Datatype {
	case kserve.FP32, kserve.FP16, kserve.BF16, kserve.FP64:
	default:
		return 0, 0, 0, false, fmt.Errorf("output '%s' is %s: a YOLO output is floating point", t.Name, t.Datatype)
	}
	batch, channels, anchors = int(s[0]), int(s[1]), int(s[2])
	if channels > anchors {
		channels, anchors, transposed = anchors, channels, true
	}
	if channels < 5 || anchors < 1 || batch < 1 {
		return 0, 0, 0, false, fmt.Errorf("output '%s' has shape %v: a YOLO output has at least 5 rows (box and a class) per anchor", t.Name, t.Shape)
	}
	return batch, channels, anchors, transposed, nil
}

// IsYOLO reports whether a tensor is shaped like a YOLO detect output.
func IsYOLO(t *kserve.Tensor) bool {
	_, _, _, _, err := yoloLayout(t)
	return err == nil
}

// yoloIndex is the element of (item, channel, anchor).
func yoloIndex(channels, anchors int, transposed bool, item, c, a int) int {
	if transposed {
		return (item*anchors+a)*channels + c
	}
	return (item*channels+c)*anchors + a
}

// EncodeYOLO writes boxes (in model-input pixels) into every batch item of
// a zeroed YOLO output tensor, as a model would answer them: box k on the
// k-th anchor from the end, its confidence as the score of its class
// (class index modulo the tensor's classes). The first anchors stay free
// for the reference server's fingerprint stamp (kserve.StampFingerprint),
// which has no class score and so is no detection. It reports false, and
// writes nothing, when the tensor is not a YOLO output or has no room for
// the boxes beyond its first 8 anchors.
func EncodeYOLO(t *kserve.Tensor, boxes []Box) bool {
	batch, channels, anchors, transposed, err := yoloLayout(t)
	if err != nil || anchors < 8+len(boxes) {
		return false
	}
	classes := channels - 4
	for item := 0; item < batch; item++ {
		for k, b := range boxes {
			a := anchors - 1 - k
			put := func(c int, v float64) {
				kserve.PutFloat64At(t.Datatype, t.Data, yoloIndex(channels, anchors, transposed, item, c, a), v)
			}
			put(0, (b.X1+b.X2)/2)
			put(1, (b.Y1+b.Y2)/2)
			put(2, b.X2-b.X1)
			put(3, b.Y2-b.Y1)
			put(4+((b.Class%classes)+classes)%classes, b.Confidence)
		}
	}
	return true
}

// DecodeYOLO reads the detections of one batch item of a YOLO output, as
// Ultralytics' postprocessing does: each anchor's best class score,
// anchors at or above conf (scores above 1 are no probability and are
// ignored), class-wise non-maximum suppression at iou, at
// most 300 boxes, in model-input pixels, best first. Class names are
// COCO's when the output has 80 classes.
func DecodeYOLO(t *kserve.Tensor, item int, conf, iou float64) ([]Box, error) {
	batch, channels, anchors, transposed, err := yoloLayout(t)
	if err != nil {
		return nil, err
	}
	if item < 0 || item >= batch {
		return nil, fmt.Errorf("output '%s' has %d batch items, not %d", t.Name, batch, item+1)
	}
	if want, _ := kserve.ByteSize(t.Datatype, t.Shape); int64(len(t.Data)) < want {
		return nil, fmt.Errorf("output '%s' holds %d bytes, its shape needs %d", t.Name, len(t.Data), want)
	}
	at := func(c, a int) float64 {
		return kserve.Float64At(t.Datatype, t.Data, yoloIndex(channels, anchors, transposed, item, c, a))
	}
	var cand []Box
	for a := 0; a < anchors; a++ {
		best, score := -1, conf
		for c := 4; c < channels; c++ {
			if s := at(c, a); s >= score && s <= 1 {
				best, score = c-4, s
			}
		}
		if best < 0 {
			continue
		}
		cx, cy, w, h := at(0, a), at(1, a), at(2, a), at(3, a)
		b := Box{Class: best, Confidence: score, X1: cx - w/2, Y1: cy - h/2, X2: cx + w/2, Y2: cy + h/2}
		if channels-4 == len(COCO) {
			b.Name = COCO[best]
		}
		cand = append(cand, b)
	}
	return NMS(cand, iou, maxDetections), nil
}

// NMS keeps the best boxes: sorted by confidence, a box is dropped when
// one of the same class already kept overlaps it by more than iou; at most
// limit are kept.
func NMS(boxes []Box, iou float64, limit int) []Box {
	sort.SliceStable(boxes, func(i, j int) bool { return boxes[i].Confidence > boxes[j].Confidence })
	var kept []Box
	for _, b := range boxes {
		if len(kept) >= limit {
			break
		}
		ok := true
		for _, k := range kept {
			if k.Class == b.Class && IoU(k, b) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, b)
		}
	}
	return kept
}

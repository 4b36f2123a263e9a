// Package detect is object detections as inferbench meets them: the
// deterministic detections the reference server derives from an image's
// fingerprint, YOLO output tensors (encoded by the reference server,
// decoded by the client with class-wise NMS), the JSON answers of
// Ultralytics-style services and of NVIDIA NIM's /v1/infer, and the
// comparison of two deployments' detections for the same image. It is
// pure: no network, shared by the client and the reference server.
package detect

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/inferbench/inferbench/internal/imaging"
)

// Box is one detection. Its corners are in the coordinates of whatever
// it came from (model-input pixels, image pixels, or 0..1 of the image);
// Normalize brings it to the image's 0..1.
type Box struct {
	Class      int     // class index, -1 when only the name is known
	Name       string  // class name, empty when only the index is known
	Confidence float64 // 0..1
	X1, Y1     float64 // top-left
	X2, Y2     float64 // bottom-right
}

// COCO is the 80 classes YOLO models detect, by class index.
var COCO = [...]string{
	"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
	"fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
	"elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
	"skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
	"wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
	"broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
	"dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
	"toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
}

// ClassOf returns the COCO index of a class name, -1 if it is not one.
func ClassOf(name string) int {
	for i, n := range COCO {
		if n == name {
			return i
		}
	}
	return -1
}

// NameOf returns the COCO name of a class index, "" if out of range.
func NameOf(class int) string {
	if class >= 0 && class < len(COCO) {
		return COCO[class]
	}
	return ""
}

// label is what two boxes must share to be the same detection: the name
// when both have one, else the class index.
func (b Box) label() string {
	if b.Name != "" {
		return b.Name
	}
	if n := NameOf(b.Class); n != "" {
		return n
	}
	return fmt.Sprintf("class %d", b.Class)
}

// Scale multiplies the corners by sx and sy.
func (b Box) Scale(sx, sy float64) Box {
	b.X1, b.X2 = b.X1*sx, b.X2*sx
	b.Y1, b.Y2 = b.Y1*sy, b.Y2*sy
	return b
}

// Clip keeps the corners inside 0..w x 0..h.
func (b Box) Clip(w, h float64) Box {
	clamp := func(v, hi float64) float64 { return math.Max(0, math.Min(v, hi)) }
	b.X1, b.X2 = clamp(b.X1, w), clamp(b.X2, w)
	b.Y1, b.Y2 = clamp(b.Y1, h), clamp(b.Y2, h)
	return b
}

// Normalize turns pixel corners of a w x h image into 0..1.
func Normalize(boxes []Box, w, h int) []Box {
	out := make([]Box, len(boxes))
	for i, b := range boxes {
		out[i] = b.Scale(1/float64(w), 1/float64(h))
	}
	return out
}

// IoU is the intersection over union of two boxes.
func IoU(a, b Box) float64 {
	iw := math.Min(a.X2, b.X2) - math.Max(a.X1, b.X1)
	ih := math.Min(a.Y2, b.Y2) - math.Max(a.Y1, b.Y1)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := (a.X2-a.X1)*(a.Y2-a.Y1) + (b.X2-b.X1)*(b.Y2-b.Y1) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// Tolerance bounds how far two deployments' detections of the same image
// may differ and still count as the same: corners in 0..1 of the image,
// confidences in 0..1.
type Tolerance struct {
	Coord, Confidence float64
}

// DefaultTolerance allows 2% of the image's width or height on every
// corner and 0.05 of confidence: room for another resize, JPEG decoder or
// FP16 engine, not for another answer.
var DefaultTolerance = Tolerance{Coord: 0.02, Confidence: 0.05}

// Compare says how two lists of normalized detections of one image
// differ, "" when they are the same within tol: as many boxes, and each
// box of a matched by one of b with the same label (greedily, best IoU
// first) whose corners and confidence are within tol.
func Compare(a, b []Box, tol Tolerance) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d boxes against %d (%s vs %s)", len(a), len(b), Summary(a), Summary(b))
	}
	used := make([]bool, len(b))
	order := make([]int, len(a))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return a[order[i]].Confidence > a[order[j]].Confidence })
	for _, i := range order {
		x := a[i]
		best, bestIoU := -1, -1.0
		for j, y := range b {
			if used[j] || y.label() != x.label() {
				continue
			}
			if iou := IoU(x, y); iou > bestIoU {
				best, bestIoU = j, iou
			}
		}
		if best < 0 {
			return fmt.Sprintf("no %s box to match %s", x.label(), format(x))
		}
		y := b[best]
		used[best] = true
		d := math.Max(math.Max(math.Abs(x.X1-y.X1), math.Abs(x.Y1-y.Y1)), math.Max(math.Abs(x.X2-y.X2), math.Abs(x.Y2-y.Y2)))
		if d > tol.Coord {
			return fmt.Sprintf("%s box %s against %s: corners differ by %.3f of the image (tolerance %.3f)", x.label(), format(x), format(y), d, tol.Coord)
		}
		if dc := math.Abs(x.Confidence - y.Confidence); dc > tol.Confidence {
			return fmt.Sprintf("%s box confidence %.3f against %.3f (tolerance %.3f)", x.label(), x.Confidence, y.Confidence, tol.Confidence)
		}
	}
	return ""
}

func format(b Box) string {
	return fmt.Sprintf("[%.3f %.3f %.3f %.3f] %.2f", b.X1, b.Y1, b.X2, b.Y2, b.Confidence)
}

// Summary lists detections briefly: "person 0.87, car 0.61".
func Summary(boxes []Box) string {
	if len(boxes) == 0 {
		return "no boxes"
	}
	parts := make([]string, len(boxes))
	for i, b := range boxes {
		parts[i] = fmt.Sprintf("%s %.2f", b.label(), b.Confidence)
	}
	return strings.Join(parts, ", ")
}

// FromLetterbox takes boxes in model-input pixels back to a w x h image
// that was letterboxed as lb says, as Ultralytics' scale_boxes does: the
// padding is taken off, the scale undone, the corners clipped to the
// image; a box left without area (it lay on the padding) is dropped.
func FromLetterbox(boxes []Box, lb imaging.Letterbox, w, h int) []Box {
	out := make([]Box, 0, len(boxes))
	for _, b := range boxes {
		b.X1, b.Y1 = lb.Unmap(b.X1, b.Y1)
		b.X2, b.Y2 = lb.Unmap(b.X2, b.Y2)
		b = b.Clip(float64(w), float64(h))
		if b.X2 > b.X1 && b.Y2 > b.Y1 {
			out = append(out, b)
		}
	}
	return out
}

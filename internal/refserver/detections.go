package refserver

import "math"

// Detection is one object in the plain API's answer, in the shape of
// Ultralytics' Results.tojson().
type Detection struct {
	Name       string  `json:"name"`
	Class      int     `json:"class"`
	Confidence float64 `json:"confidence"`
	Box        Box     `json:"box"`
}

// Box is a detection's corners in pixels.
type Box struct {
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
	X2 float64 `json:"x2"`
	Y2 float64 `json:"y2"`
}

// cocoNames are the 80 COCO classes YOLO models detect, by class id.
var cocoNames = [...]string{
	"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
	"fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
	"elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
	"skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
	"wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
	"broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
	"dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
	"toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
}

// detections derives 1 to 3 detections from an image's fingerprint and
// size, deterministically: a splitmix64 stream seeded with the fingerprint
// gives each detection's class, confidence (0.5..1, 4 decimals) and a box
// inside the image (2 decimals).
func detections(fp uint32, width, height int) []Detection {
	state := uint64(fp)
	next := func() uint64 { // splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	unit := func() float64 { return float64(next()>>11) / (1 << 53) }
	round := func(v float64, places float64) float64 { p := math.Pow(10, places); return math.Round(v*p) / p }
	w, h := float64(max(width, 1)), float64(max(height, 1))
	n := 1 + int(fp%3)
	out := make([]Detection, n)
	for i := range out {
		class := int(next() % uint64(len(cocoNames)))
		x1, y1 := unit()*w*0.8, unit()*h*0.8
		x2 := x1 + (0.05+unit()*0.15)*w
		y2 := y1 + (0.05+unit()*0.15)*h
		out[i] = Detection{
			Name: cocoNames[class], Class: class,
			Confidence: round(0.5+0.5*unit(), 4),
			Box:        Box{X1: round(x1, 2), Y1: round(y1, 2), X2: round(math.Min(x2, w), 2), Y2: round(math.Min(y2, h), 2)},
		}
	}
	return out
}

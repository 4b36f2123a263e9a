package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Ultralytics is one detection as Ultralytics' Results.tojson() writes it
// (PROTOCOL.md 4.3): pixel corners of the original image.
type Ultralytics struct {
	Name       string         `json:"name"`
	Class      int            `json:"class"`
	Confidence float64        `json:"confidence"`
	Box        UltralyticsBox `json:"box"`
}

// UltralyticsBox is a detection's corners in pixels.
type UltralyticsBox struct {
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
	X2 float64 `json:"x2"`
	Y2 float64 `json:"y2"`
}

// ToUltralytics writes boxes in Ultralytics' shape, corners rounded to 2
// decimals and confidences to 4, as the reference server answers.
func ToUltralytics(boxes []Box) []Ultralytics {
	out := make([]Ultralytics, len(boxes))
	for i, b := range boxes {
		out[i] = Ultralytics{Name: b.Name, Class: b.Class, Confidence: Round(b.Confidence, 4),
			Box: UltralyticsBox{X1: Round(b.X1, 2), Y1: Round(b.Y1, 2), X2: Round(b.X2, 2), Y2: Round(b.Y2, 2)}}
	}
	return out
}

// anyDetection is the union of the shapes FastAPI-style services answer
// with: Ultralytics' {name, class, confidence, box: {x1..y2}}, or the
// common {label|class|name, confidence|score, bbox|box: [x1, y1, x2, y2]}.
type anyDetection struct {
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Class      json.RawMessage `json:"class"`
	Confidence *float64        `json:"confidence"`
	Score      *float64        `json:"score"`
	Box        json.RawMessage `json:"box"`
	BBox       []float64       `json:"bbox"`
}

// ParseHTTP reads the detections of a plain HTTP service's answer in
// pixels of the original image: a JSON list of detections in Ultralytics'
// shape or the common FastAPI one, bare or under "detections",
// "predictions" or "results".
func ParseHTTP(body []byte) ([]Box, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return nil, fmt.Errorf("the answer is not JSON: %w", err)
		}
		found := false
		for _, key := range []string{"detections", "predictions", "results"} {
			if v, ok := wrapped[key]; ok {
				body, found = v, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("the answer is an object without a detections, predictions or results list")
		}
	}
	var list []anyDetection
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("the answer is not a list of detections: %w", err)
	}
	out := make([]Box, 0, len(list))
	for i, d := range list {
		b := Box{Class: -1, Name: d.Name}
		if b.Name == "" {
			b.Name = d.Label
		}
		if len(d.Class) > 0 {
			var n int
			var s string
			switch {
			case json.Unmarshal(d.Class, &n) == nil:
				b.Class = n
			case json.Unmarshal(d.Class, &s) == nil && b.Name == "":
				b.Name = s
			}
		}
		switch {
		case d.Confidence != nil:
			b.Confidence = *d.Confidence
		case d.Score != nil:
			b.Confidence = *d.Score
		}
		var corners []float64
		var ub UltralyticsBox
		switch {
		case len(d.BBox) > 0:
			corners = d.BBox
		case len(d.Box) > 0 && d.Box[0] == '[':
			if err := json.Unmarshal(d.Box, &corners); err != nil {
				return nil, fmt.Errorf("detection %d: box: %w", i, err)
			}
		case len(d.Box) > 0:
			if err := json.Unmarshal(d.Box, &ub); err != nil {
				return nil, fmt.Errorf("detection %d: box: %w", i, err)
			}
			corners = []float64{ub.X1, ub.Y1, ub.X2, ub.Y2}
		}
		if len(corners) != 4 {
			return nil, fmt.Errorf("detection %d has no box (box {x1, y1, x2, y2} or bbox [x1, y1, x2, y2])", i)
		}
		b.X1, b.Y1, b.X2, b.Y2 = corners[0], corners[1], corners[2], corners[3]
		if b.Class < 0 && b.Name != "" {
			b.Class = ClassOf(b.Name)
		}
		out = append(out, b)
	}
	return out, nil
}

// NIMResponse is the answer of a NIM for object detection to POST
// /v1/infer (PROTOCOL.md 4.1): per image, boxes by label, corners in 0..1
// of the image.
type NIMResponse struct {
	Data []NIMImage `json:"data"`
}

// NIMImage is one image's detections.
type NIMImage struct {
	Index         int                 `json:"index"`
	BoundingBoxes map[string][]NIMBox `json:"bounding_boxes"`
}

// NIMBox is one detection of a NIM.
type NIMBox struct {
	XMin       float64 `json:"x_min"`
	YMin       float64 `json:"y_min"`
	XMax       float64 `json:"x_max"`
	YMax       float64 `json:"y_max"`
	Confidence float64 `json:"confidence"`
}

// ToNIM writes one image's boxes, already normalized, as a NIM does.
func ToNIM(index int, boxes []Box) NIMImage {
	img := NIMImage{Index: index, BoundingBoxes: map[string][]NIMBox{}}
	for _, b := range boxes {
		img.BoundingBoxes[b.label()] = append(img.BoundingBoxes[b.label()], NIMBox{
			XMin: Round(b.X1, 6), YMin: Round(b.Y1, 6), XMax: Round(b.X2, 6), YMax: Round(b.Y2, 6), Confidence: Round(b.Confidence, 4)})
	}
	return img
}

// ParseNIM reads a NIM's /v1/infer answer: the normalized detections of
// each image, in the order of the request's images (by "index").
func ParseNIM(body []byte) ([][]Box, error) {
	var resp NIMResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("the answer is not a NIM detection response: %w", err)
	}
	if resp.Data == nil {
		return nil, fmt.Errorf(`the answer has no "data" list`)
	}
	out := make([][]Box, len(resp.Data))
	for i, img := range resp.Data {
		idx := img.Index
		if idx < 0 || idx >= len(resp.Data) {
			return nil, fmt.Errorf("data[%d] has index %d, outside the %d images", i, idx, len(resp.Data))
		}
		labels := make([]string, 0, len(img.BoundingBoxes))
		for l := range img.BoundingBoxes {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		boxes := []Box{}
		for _, l := range labels {
			for _, nb := range img.BoundingBoxes[l] {
				boxes = append(boxes, Box{Class: ClassOf(l), Name: l, Confidence: nb.Confidence, X1: nb.XMin, Y1: nb.YMin, X2: nb.XMax, Y2: nb.YMax})
			}
		}
		out[idx] = boxes
	}
	return out, nil
}

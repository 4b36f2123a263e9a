package session

import (
	"errors"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/result"
)

func TestCompareOutputs(t *testing.T) {
	person := []detect.Box{{Class: 0, Name: "person", Confidence: 0.9, X1: 0.4, Y1: 0.4, X2: 0.6, Y2: 0.6}}
	car := []detect.Box{{Class: 2, Name: "car", Confidence: 0.9, X1: 0.4, Y1: 0.4, X2: 0.6, Y2: 0.6}}
	answer := func(img string, boxes []detect.Box, fp uint32) ImageOutput {
		return ImageOutput{Image: img, Boxes: boxes, Known: boxes != nil, Fingerprint: fp, HasFP: fp != 0}
	}
	right := []ImageOutput{answer("a.jpg", person, 7), answer("b.png", car, 8)}
	boxesOnly := []ImageOutput{answer("a.jpg", person, 0), answer("b.png", car, 0)}
	wrongBoxes := []ImageOutput{answer("a.jpg", car, 0), answer("b.png", car, 0)}
	wrongInput := []ImageOutput{answer("a.jpg", person, 9), answer("b.png", car, 8)}
	failed := []ImageOutput{{Image: "a.jpg", Err: errors.New("HTTP 500")}}
	opaque := []ImageOutput{{Image: "a.jpg"}}
	other := []ImageOutput{answer("c.jpg", person, 0)}
	tests := []struct {
		name    string
		outputs [][]ImageOutput
		verdict string
		status  []string
		detail  string // in the first non-reference detail
	}{
		{"all agree", [][]ImageOutput{right, boxesOnly, right}, result.OutputsSame,
			[]string{result.OutputReference, result.OutputsSame, result.OutputsSame}, "2 image(s)"},
		{"the first is wrong", [][]ImageOutput{wrongBoxes, right, boxesOnly}, result.OutputsDiffer,
			[]string{result.OutputDiffers, result.OutputReference, result.OutputsSame}, "a.jpg: no car box"},
		{"another input", [][]ImageOutput{right, wrongInput}, result.OutputsDiffer,
			[]string{result.OutputReference, result.OutputDiffers}, "fingerprint 00000009"},
		{"unreadable ones", [][]ImageOutput{failed, right, opaque, boxesOnly}, result.OutputsSame,
			[]string{result.OutputUnreadable, result.OutputReference, result.OutputUnreadable, result.OutputsSame}, "HTTP 500"},
		{"alone", [][]ImageOutput{right, failed}, result.OutputsNotCompared,
			[]string{result.OutputReference, result.OutputUnreadable}, ""},
		{"no image in common", [][]ImageOutput{right, other}, result.OutputsNotCompared,
			[]string{result.OutputReference, result.OutputUnreadable}, "no image in common"},
	}
	for _, tt := range tests {
		names := []string{"d0", "d1", "d2", "d3"}[:len(tt.outputs)]
		got := CompareOutputs(names, tt.outputs, detect.DefaultTolerance)
		if got.Verdict != tt.verdict {
			t.Errorf("%s: verdict %q, want %q", tt.name, got.Verdict, tt.verdict)
		}
		detail := ""
		for i, d := range got.Deployments {
			if d.Status != tt.status[i] {
				t.Errorf("%s: %s is %q (%s), want %q", tt.name, d.Name, d.Status, d.Detail, tt.status[i])
			}
			if detail == "" && d.Status != result.OutputReference {
				detail = d.Detail
			}
		}
		if !strings.Contains(detail, tt.detail) {
			t.Errorf("%s: detail %q, want %q", tt.name, detail, tt.detail)
		}
	}
	check := CompareOutputs([]string{"a", "b"}, [][]ImageOutput{right, wrongInput}, detect.DefaultTolerance)
	if d := check.Deployments[0]; len(d.Boxes) != 2 || d.Boxes[0] != 1 || d.Fingerprints[0] != "00000007" {
		t.Errorf("reference's record: %+v", d)
	}
}

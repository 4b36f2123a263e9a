package detect

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
)

func TestGenerate(t *testing.T) {
	a, b := Generate(0xdeadbeef, 640, 640), Generate(0xdeadbeef, 640, 640)
	if !slices.Equal(a, b) {
		t.Fatal("the same fingerprint gave two answers")
	}
	if slices.Equal(a, Generate(0xdeadbeee, 640, 640)) {
		t.Error("two fingerprints gave the same answer")
	}
	for fp := uint32(0); fp < 300; fp++ {
		boxes := Generate(fp*2654435761, 64, 48)
		if len(boxes) < 1 || len(boxes) > 3 {
			t.Fatalf("fp %d: %d boxes", fp, len(boxes))
		}
		classes := map[int]bool{}
		for _, b := range boxes {
			if classes[b.Class] {
				t.Fatalf("fp %d: class %d twice", fp, b.Class)
			}
			classes[b.Class] = true
			cx, cy := (b.X1+b.X2)/2, (b.Y1+b.Y2)/2
			if cx < 28.7 || cx > 35.3 || cy < 21.5 || cy > 26.5 || b.X2-b.X1 < 3 || b.Y2-b.Y1 < 2 {
				t.Fatalf("fp %d: box %+v not centred in 64x48", fp, b)
			}
			if b.Confidence < 0.5 || b.Confidence > 1 || b.Name != COCO[b.Class] {
				t.Fatalf("fp %d: box %+v", fp, b)
			}
		}
	}
}

func TestYOLORoundTrip(t *testing.T) {
	boxes := Generate(0x1234567, 64, 64)
	for _, tc := range []struct {
		dt    kserve.DataType
		shape []int64
		tol   float64
	}{
		{kserve.FP32, []int64{1, 84, 84}, 1e-4},
		{kserve.FP32, []int64{2, 84, 8400}, 1e-4},
		{kserve.FP16, []int64{1, 84, 84}, 0.05},
		{kserve.FP32, []int64{8400, 84}, 1e-4}, // transposed, no batch
	} {
		size, _ := kserve.ByteSize(tc.dt, tc.shape)
		tensor := kserve.Tensor{Name: "output0", Datatype: tc.dt, Shape: tc.shape, Data: make([]byte, size)}
		kserve.StampFingerprint(&tensor, 0xffffffff) // nibbles of 15 in the first elements
		if !EncodeYOLO(&tensor, boxes) {
			t.Fatalf("%v %v: not encoded", tc.dt, tc.shape)
		}
		if fp, ok := kserve.ReadFingerprint(&tensor); !ok || fp != 0xffffffff {
			t.Errorf("%v %v: the stamp was overwritten", tc.dt, tc.shape)
		}
		got, err := DecodeYOLO(&tensor, 0, DefaultConfidence, DefaultIoU)
		if err != nil {
			t.Fatal(err)
		}
		if msg := Compare(Normalize(got, 64, 64), Normalize(boxes, 64, 64), Tolerance{tc.tol, tc.tol}); msg != "" {
			t.Errorf("%v %v: %s", tc.dt, tc.shape, msg)
		}
	}
	small := kserve.Tensor{Name: "y", Datatype: kserve.FP32, Shape: []int64{1, 10}, Data: make([]byte, 40)}
	if EncodeYOLO(&small, boxes) || IsYOLO(&small) {
		t.Error("a [1,10] tensor taken for a YOLO output")
	}
	ints := kserve.Tensor{Name: "y", Datatype: kserve.INT32, Shape: []int64{1, 84, 100}}
	if _, err := DecodeYOLO(&ints, 0, 0.25, 0.7); err == nil {
		t.Error("INT32 output decoded")
	}
}

func TestNMS(t *testing.T) {
	boxes := []Box{
		{Class: 0, Confidence: 0.9, X1: 0, Y1: 0, X2: 10, Y2: 10},
		{Class: 0, Confidence: 0.8, X1: 1, Y1: 0, X2: 11, Y2: 10}, // IoU 0.82 with the first: dropped
		{Class: 1, Confidence: 0.7, X1: 1, Y1: 0, X2: 11, Y2: 10}, // another class: kept
		{Class: 0, Confidence: 0.6, X1: 20, Y1: 20, X2: 30, Y2: 30},
	}
	got := NMS(slices.Clone(boxes), 0.7, 300)
	if len(got) != 3 || got[1].Class != 1 || got[2].X1 != 20 {
		t.Errorf("NMS kept %+v", got)
	}
	if got := NMS(slices.Clone(boxes), 0.7, 1); len(got) != 1 {
		t.Errorf("limit 1 kept %d", len(got))
	}
}

func TestCompare(t *testing.T) {
	a := []Box{{Name: "person", Confidence: 0.9, X1: 0.1, Y1: 0.1, X2: 0.3, Y2: 0.5}, {Name: "car", Confidence: 0.6, X1: 0.5, Y1: 0.5, X2: 0.9, Y2: 0.7}}
	shift := func(d float64) []Box {
		out := slices.Clone(a)
		out[1].X1 += d
		return out
	}
	tests := []struct {
		name string
		b    []Box
		want string // "" for the same
	}{
		{"identical", a, ""},
		{"reordered", []Box{a[1], a[0]}, ""},
		{"within tolerance", shift(0.015), ""},
		{"moved", shift(0.05), "corners differ by 0.050"},
		{"fewer", a[:1], "2 boxes against 1"},
		{"other class", []Box{a[0], {Name: "bus", Confidence: 0.6, X1: 0.5, Y1: 0.5, X2: 0.9, Y2: 0.7}}, "no car box"},
		{"confidence", []Box{a[0], {Name: "car", Confidence: 0.3, X1: 0.5, Y1: 0.5, X2: 0.9, Y2: 0.7}}, "confidence 0.600 against 0.300"},
		{"class index against name", []Box{{Class: 0, Confidence: 0.9, X1: 0.1, Y1: 0.1, X2: 0.3, Y2: 0.5}, {Class: 2, Confidence: 0.6, X1: 0.5, Y1: 0.5, X2: 0.9, Y2: 0.7}}, ""},
	}
	for _, tt := range tests {
		got := Compare(a, tt.b, DefaultTolerance)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseHTTP(t *testing.T) {
	want := []Box{{Class: 0, Name: "person", Confidence: 0.87, X1: 12.5, Y1: 40, X2: 210.25, Y2: 380.75}}
	tests := []struct{ name, body string }{
		{"ultralytics", `[{"name": "person", "class": 0, "confidence": 0.87, "box": {"x1": 12.5, "y1": 40, "x2": 210.25, "y2": 380.75}}]`},
		{"fastapi bbox", `[{"label": "person", "score": 0.87, "bbox": [12.5, 40, 210.25, 380.75]}]`},
		{"wrapped, class name", `{"detections": [{"class": "person", "confidence": 0.87, "box": [12.5, 40, 210.25, 380.75]}]}`},
	}
	for _, tt := range tests {
		got, err := ParseHTTP([]byte(tt.body))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %+v, %v", tt.name, got, err)
		}
	}
	for _, bad := range []string{`{"status": "ok"}`, `[{"name": "x"}]`, `nope`, `[{"box": {"x1": "a"}}]`} {
		if _, err := ParseHTTP([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if got, err := ParseHTTP([]byte(`[]`)); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v %v", got, err)
	}
}

func TestNIMRoundTrip(t *testing.T) {
	boxes := Normalize(Generate(42, 100, 50), 100, 50)
	resp := NIMResponse{Data: []NIMImage{ToNIM(1, nil), ToNIM(0, boxes)}}
	body, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseNIM(body)
	if err != nil || len(got) != 2 || len(got[1]) != 0 {
		t.Fatalf("%v %v", got, err)
	}
	if msg := Compare(got[0], boxes, Tolerance{1e-6, 1e-4}); msg != "" {
		t.Error(msg)
	}
	for _, bad := range []string{`{}`, `{"data": [{"index": 3}]}`, `[]`} {
		if _, err := ParseNIM([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

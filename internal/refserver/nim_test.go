package refserver_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

// yoloModel has YOLOv8's tensors at 64x64: images [1,3,64,64] ->
// output0 [1,84,84].
func yoloModel(batch int) refserver.ModelSpec {
	in, out := []int64{1, 3, 64, 64}, []int64{1, 84, 84}
	if batch > 0 {
		in, out = in[1:], out[1:]
	}
	return refserver.ModelSpec{Name: "yolov8n", Emulator: refserver.NewFIFO(time.Millisecond), MaxBatchSize: batch,
		Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: in}},
		Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: out}}}
}

func nimBody(images ...[]byte) []byte {
	type item struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}
	var req struct {
		Input []item `json:"input"`
	}
	for _, img := range images {
		req.Input = append(req.Input, item{"image_url", "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)})
	}
	b, _ := json.Marshal(req)
	return b
}

// TestNIMAgreesWithKServe sends the same images to /v1/infer and to the
// KServe route: the fingerprints and the boxes agree.
func TestNIMAgreesWithKServe(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0)), yoloModel(0)}})
	base := "http://" + r.HTTPAddr
	meta := kserve.TensorMetadata{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}
	wide, tall := testImage(t, "png", 120, 40), testImage(t, "jpeg", 30, 90)

	a := send(t, "POST", base+"/v1/infer", nimBody(wide, tall), map[string]string{"Content-Type": "application/json"})
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	nim, err := detect.ParseNIM(a.body)
	if err != nil || len(nim) != 2 {
		t.Fatalf("%v: %s", err, a.body)
	}
	fps := strings.Split(a.header.Get(refserver.PlainFingerprintHeader), ",")
	for i, img := range [][]byte{wide, tall} {
		decoded, _, _ := image.Decode(bytes.NewReader(img))
		tensor, lb, err := imaging.Tensor(decoded, meta)
		if err != nil {
			t.Fatal(err)
		}
		fp := kserve.Fingerprint([]kserve.Tensor{tensor})
		if len(fps) != 2 || fps[i] != fmt.Sprintf("%08x", fp) {
			t.Errorf("image %d: fingerprints %v, want %08x at %d", i, fps, fp, i)
		}
		// The same tensor over KServe: its output carries the fingerprint
		// and, decoded as YOLO, the same boxes.
		body, _, err := kserve.EncodeHTTPRequest(&kserve.InferRequest{Inputs: []kserve.Tensor{tensor}}, false)
		if err != nil {
			t.Fatal(err)
		}
		k := send(t, "POST", base+"/v2/models/yolov8n/infer", body, nil)
		resp, err := kserve.DecodeHTTPResponse(k.body, -1)
		if err != nil {
			t.Fatalf("%v: %s", err, k.body)
		}
		out := resp.Output("output0")
		if got, ok := kserve.ReadFingerprint(out); !ok || got != fp {
			t.Errorf("image %d: KServe fingerprint %08x, want %08x", i, got, fp)
		}
		boxes, err := detect.DecodeYOLO(out, 0, detect.DefaultConfidence, detect.DefaultIoU)
		if err != nil || len(boxes) == 0 {
			t.Fatalf("image %d: %v, %d boxes", i, err, len(boxes))
		}
		b := decoded.Bounds()
		kboxes := detect.Normalize(detect.FromLetterbox(boxes, lb, b.Dx(), b.Dy()), b.Dx(), b.Dy())
		if msg := detect.Compare(nim[i], kboxes, detect.Tolerance{Coord: 1e-4, Confidence: 1e-4}); msg != "" {
			t.Errorf("image %d: NIM and KServe differ: %s", i, msg)
		}
		for _, box := range nim[i] {
			if box.X1 < 0 || box.Y1 < 0 || box.X2 > 1 || box.Y2 > 1 || box.X1 >= box.X2 || box.Y1 >= box.Y2 {
				t.Errorf("image %d: box %+v outside 0..1", i, box)
			}
		}
	}

	for _, tt := range []struct {
		name, method, path string
		body               []byte
		status             int
		msg                string
	}{
		{"ready", "GET", "/v1/health/ready", nil, 200, ""},
		{"live", "GET", "/v1/health/live", nil, 200, ""},
		{"not image_url", "POST", "/v1/infer", []byte(`{"input": [{"type": "text", "url": "x"}]}`), 400, `"image_url"`},
		{"not a data URL", "POST", "/v1/infer", []byte(`{"input": [{"type": "image_url", "url": "http://x/y.png"}]}`), 400, "data URL"},
		{"bad base64", "POST", "/v1/infer", []byte(`{"input": [{"type": "image_url", "url": "data:image/png;base64,%%"}]}`), 400, "base64"},
		{"not an image", "POST", "/v1/infer", nimBody([]byte("hello")), 400, "input[0]: the data is not a PNG or JPEG"},
		{"no input", "POST", "/v1/infer", []byte(`{"input": []}`), 400, "no image"},
		{"GET infer", "GET", "/v1/infer", nil, 405, "Method Not Allowed"},
		{"unknown", "GET", "/v1/models", nil, 404, "Not Found"},
	} {
		a := send(t, tt.method, base+tt.path, tt.body, nil)
		if a.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, a.status, tt.status, a.body)
			continue
		}
		if tt.msg != "" && !strings.Contains(a.errorMessage(t), tt.msg) {
			t.Errorf("%s: %s, want %q", tt.name, a.body, tt.msg)
		}
	}
}

func TestNIMBatchAndNoImageModel(t *testing.T) {
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{yoloModel(2)}})
	img := testImage(t, "png", 32, 32)
	if a := send(t, "POST", "http://"+r.HTTPAddr+"/v1/infer", nimBody(img, img), nil); a.status != 200 {
		t.Errorf("a batch of 2: %d %s", a.status, a.body)
	}
	if a := send(t, "POST", "http://"+r.HTTPAddr+"/v1/infer", nimBody(img, img, img), nil); a.status != 400 || !strings.Contains(a.errorMessage(t), "max batch size 2") {
		t.Errorf("a batch of 3: %d %s", a.status, a.body)
	}
	_, r2 := start(t, refserver.Options{Models: []refserver.ModelSpec{tinyModel("tiny", refserver.NewFIFO(0))}})
	if a := send(t, "GET", "http://"+r2.HTTPAddr+"/v1/health/ready", nil, nil); a.status != 404 {
		t.Errorf("no image model: %d %s", a.status, a.body)
	}
}

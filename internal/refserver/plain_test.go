package refserver_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

// testImage encodes a small gradient as PNG or JPEG.
func testImage(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// imageFingerprint is the fingerprint of an encoded image letterboxed
// into an input, as a client computes it.
func imageFingerprint(t *testing.T, data []byte, meta kserve.TensorMetadata) uint32 {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tensor, _, err := imaging.Tensor(img, meta)
	if err != nil {
		t.Fatal(err)
	}
	return kserve.Fingerprint([]kserve.Tensor{tensor})
}

func plainPod(t *testing.T, em refserver.Emulator) *refserver.Running {
	t.Helper()
	spec := refserver.ModelSpec{Name: "yolov8n", Emulator: em,
		Inputs:  []kserve.TensorMetadata{{Name: "image", Datatype: kserve.BYTES, Shape: []int64{1}}},
		Outputs: []kserve.TensorMetadata{{Name: "detections", Datatype: kserve.BYTES, Shape: []int64{-1}}}}
	_, r := start(t, refserver.Options{Name: "base-yolo", HTTPAPI: refserver.APIPlain, Models: []refserver.ModelSpec{spec}})
	return r
}

func TestPlainAPI(t *testing.T) {
	r := plainPod(t, refserver.NewFIFO(time.Millisecond))
	base := "http://" + r.HTTPAddr
	pngData, jpegData := testImage(t, "png", 64, 48), testImage(t, "jpeg", 64, 48)

	multipartBody := func(field string, data []byte) ([]byte, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile(field, "img.png")
		fw.Write(data)
		mw.WriteField("conf", "0.25")
		mw.Close()
		return b.Bytes(), mw.FormDataContentType()
	}
	jsonBody := func(s string) []byte { b, _ := json.Marshal(map[string]string{"image": s}); return b }
	mp, mpType := multipartBody("file", pngData)
	mpWrong, mpWrongType := multipartBody("upload", pngData)

	tests := []struct {
		name, path, contentType string
		body                    []byte
		status                  int
		image                   []byte // the image whose fingerprint the answer carries
		detail                  string
	}{
		{"base64 JSON PNG", "/predict", "application/json", jsonBody(base64.StdEncoding.EncodeToString(pngData)), 200, pngData, ""},
		{"data URL JPEG on /detect", "/detect", "application/json", jsonBody("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpegData)), 200, jpegData, ""},
		{"multipart file", "/predict", mpType, mp, 200, pngData, ""},
		{"raw image body", "/predict", "image/png", pngData, 200, pngData, ""},
		{"not an image", "/predict", "application/json", jsonBody(base64.StdEncoding.EncodeToString([]byte("hello"))), 400, nil, "not a PNG or JPEG"},
		{"bad base64", "/predict", "application/json", jsonBody("%%%"), 400, nil, "not valid base64"},
		{"no image field", "/predict", "application/json", []byte(`{"img":"x"}`), 400, nil, `no "image" field`},
		{"bad JSON", "/predict", "application/json", []byte(`{`), 400, nil, "not JSON"},
		{"multipart without file", "/predict", mpWrongType, mpWrong, 400, nil, `no "file" field`},
		{"unsupported type", "/predict", "text/plain", []byte("x"), 415, nil, "Content-Type"},
		{"unknown route", "/v2/models/yolov8n/infer", "application/json", []byte(`{}`), 404, nil, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, "POST", base+tt.path, tt.body, map[string]string{"Content-Type": tt.contentType})
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.status != 200 {
				var e struct{ Detail string }
				if err := json.Unmarshal(a.body, &e); err != nil || !strings.Contains(e.Detail, tt.detail) {
					t.Errorf("error body %s, want FastAPI's {\"detail\": ...} mentioning %q", a.body, tt.detail)
				}
				return
			}
			var dets []detect.Ultralytics
			if err := json.Unmarshal(a.body, &dets); err != nil || len(dets) < 1 {
				t.Fatalf("answer %s is not a list of detections: %v", a.body, err)
			}
			// The fingerprint of the image letterboxed into the default
			// 640x640 input, as a KServe client would send it.
			want := fmt.Sprintf("%08x", imageFingerprint(t, tt.image, kserve.TensorMetadata{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}}))
			if got := a.header.Get(refserver.PlainFingerprintHeader); got != want {
				t.Errorf("fingerprint %q, want %q", got, want)
			}
			for _, d := range dets {
				if d.Name == "" || d.Box.X2 > 64 || d.Box.Y2 > 48 || d.Box.X1 >= d.Box.X2 {
					t.Errorf("detection %+v outside the 64x48 image", d)
				}
			}
			// Same image, same answer.
			if b := send(t, "POST", base+tt.path, tt.body, map[string]string{"Content-Type": tt.contentType}); !bytes.Equal(b.body, a.body) {
				t.Errorf("the same image gave %s, then %s", a.body, b.body)
			}
			if !strings.Contains(string(a.body), `"box":{"x1":`) || !strings.Contains(string(a.body), `"class":`) {
				t.Errorf("answer not in Ultralytics' shape: %s", a.body)
			}
		})
	}
	if a := send(t, "GET", base+"/health", nil, nil); a.status != 200 || string(a.body) != `{"status":"ok"}` {
		t.Errorf("GET /health: %d %s", a.status, a.body)
	}
	if a := send(t, "GET", base+"/predict", nil, nil); a.status != 405 {
		t.Errorf("GET /predict: %d, want 405", a.status)
	}
	// Only the valid requests reached the model.
	m := scrape(t, r)
	if ok := metricValue(t, m, "nv_inference_request_success", map[string]string{"model": "yolov8n"}); ok != 8 {
		t.Errorf("model served %v requests, want the 8 valid ones", ok)
	}
}

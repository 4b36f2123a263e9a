package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/result"
)

// yoloPod serves YOLOv8's tensors at 64x64 on loopback, over KServe (and
// NIM's /v1/infer) or the plain API.
func yoloPod(t *testing.T, api string) *refserver.Running {
	t.Helper()
	return reftest.Serve(t, refserver.Options{HTTPAPI: api, Models: []refserver.ModelSpec{{Name: "yolov8n", Emulator: refserver.NewInstances(4, time.Millisecond),
		Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}},
		Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 84}}}}}})
}

func TestBenchImages(t *testing.T) {
	kserveAPI, plain := yoloPod(t, refserver.APIKServe), yoloPod(t, refserver.APIPlain)
	images := filepath.Join("..", "..", "examples", "images")
	tests := []struct {
		name string
		args []string
	}{
		{"http-json base64", []string{"--protocol", "http-json", "--url", "http://" + plain.HTTPAddr, "--image", images}},
		{"http-json multipart", []string{"--protocol", "http-json", "--url", "http://" + plain.HTTPAddr, "--http-multipart-field", "file", "--http-form", "conf=0.25", "--image", images}},
		{"nim-http batch of 2, builtin image", []string{"--protocol", "nim-http", "--url", "http://" + kserveAPI.HTTPAddr, "--batch-size", "2"}},
		{"kserve-grpc, preprocessing per request", []string{"--protocol", "kserve-grpc", "--url", kserveAPI.GRPCAddr, "--image", images, "--preprocess-per-request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--model", "yolov8n", "-c", "2", "-n", "20", "--check-outputs", "--metrics-url", "off"}, tt.args...)
			f, log, err := benchJSON(t, context.Background(), args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			r := f.Runs[0]
			if r.Status != result.StatusOK || r.Counts.OK != 20 || r.Payload == nil || r.Payload.RequestBytes < 1000 {
				t.Fatalf("run %+v %+v\n%s", r.Counts, r.Payload, log)
			}
			if c := f.OutputCheck; c == nil || len(c.Deployments) != 1 || c.Deployments[0].Status != result.OutputReference || c.Deployments[0].Boxes[0] < 1 {
				t.Errorf("output check %+v\n%s", c, log)
			}
			if !strings.Contains(log, "boxes fingerprint") {
				t.Errorf("log does not show the answers:\n%s", log)
			}
			if per := strings.Contains(tt.name, "per request"); per != (r.Client.PreprocessMs != nil) {
				t.Errorf("preprocess_ms %+v", r.Client.PreprocessMs)
			}
		})
	}
}

// TestBenchImageErrors: bad images and flags are refused before anything
// is sent: the server sees no request.
func TestBenchImageErrors(t *testing.T) {
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{{Name: "yolov8n", Emulator: refserver.NewFIFO(0),
		Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}},
		Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 84}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	dir := t.TempDir()
	bad := filepath.Join(dir, "cam0.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644)
	url := "http://" + r.HTTPAddr
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--image", bad}, bad + ": cannot decode it as JPEG or PNG"},
		{[]string{"--image", filepath.Join(dir, "*.jpg")}, "matches no file"},
		{[]string{"--http-path", "/predict"}, "the --http-* flags shape requests of --protocol nim-http or http-json, not kserve-http"},
		{[]string{"--protocol", "http-json", "--http-body", "{{.Foto}}"}, "body template"},
		{[]string{"--protocol", "http-json", "--http-raw", "--http-multipart-field", "file"}, "one way to send the image"},
		{[]string{"--protocol", "http-json", "--http-form", "conf"}, "want name=value"},
		{[]string{"--preprocess-per-request"}, "give --image"},
	}
	for _, tt := range tests {
		_, log, err := runCLI(context.Background(), append([]string{"bench", "--url", url, "--model", "yolov8n", "-n", "5", "-q"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q\n%s", tt.args, err, tt.want, log)
		}
	}
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stats, err := c.ModelStatistics(context.Background(), "yolov8n", "")
	if err != nil {
		t.Fatal(err)
	}
	if n := stats.ModelStats[0].InferenceCount; n != 0 {
		t.Errorf("the server served %d inferences before the errors", n)
	}
}

// TestRunPlanWithImages: a plan of a plain service and a NIM, compared
// with --check-outputs, preprocessing per request.
func TestRunPlanWithImages(t *testing.T) {
	kserveAPI, plain := yoloPod(t, refserver.APIKServe), yoloPod(t, refserver.APIPlain)
	path := writePlan(t, `
deployments:
  - name: base-yolo
    protocol: http-json
    url: http://`+plain.HTTPAddr+`
    model: yolov8n
    metrics_url: "off"
    http: {preset: fastapi-raw}
  - name: nim
    protocol: nim-http
    url: http://`+kserveAPI.HTTPAddr+`
    model: yolov8n
    metrics_url: "off"
    inputs: {image: builtin}
steps:
  - {name: c2, concurrency: 2, requests: 10}
`)
	out := t.TempDir()
	_, log, err := runCLI(context.Background(), "run", path, "-o", out, "-q", "--check-outputs", "--preprocess-per-request")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.OutputCheck == nil || f.OutputCheck.Verdict != result.OutputsSame {
		t.Errorf("output check %+v", f.OutputCheck)
	}
	for _, r := range f.Runs {
		if r.Counts.OK != 10 || r.Client.PreprocessMs == nil || r.Payload == nil {
			t.Errorf("%s: %+v %+v %+v", r.Deployment.Name, r.Counts, r.Client, r.Payload)
		}
	}
}

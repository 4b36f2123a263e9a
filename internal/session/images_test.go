package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// yolo64 is YOLOv8's tensors at size x size: images [1,3,s,s] -> output0
// [1,84,84].
func yolo64(size int64) refserver.ModelSpec {
	return refserver.ModelSpec{Name: "yolov8n", Emulator: refserver.NewInstances(4, time.Millisecond),
		Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, size, size}}},
		Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 84}}}}
}

// TestExecuteWithImages runs a plan of five deployments of the same image
// model over every kind, one of them wrong (a plain service letterboxing
// to another size: it answers other boxes), with the output check and
// per-request preprocessing.
func TestExecuteWithImages(t *testing.T) {
	kserveAPI := pod(t, yolo64(64), refserver.Options{})
	plain := pod(t, yolo64(64), refserver.Options{HTTPAPI: refserver.APIPlain})
	wrong := pod(t, yolo64(96), refserver.Options{HTTPAPI: refserver.APIPlain})
	images := filepath.Join("..", "..", "examples", "images")
	dep := func(name string, kind protocol.Kind, url string) plan.Deployment {
		return plan.Deployment{Name: name, Protocol: string(kind), URL: url, Model: "yolov8n", Inputs: plan.Inputs{Image: images}}
	}
	p := &plan.Plan{CheckOutputs: true, Deployments: []plan.Deployment{
		dep("grpc", protocol.KServeGRPC, kserveAPI.GRPCAddr),
		dep("binary", protocol.KServeHTTP, "http://"+kserveAPI.HTTPAddr),
		dep("nim", protocol.NIMHTTP, "http://"+kserveAPI.HTTPAddr),
		dep("fastapi", protocol.HTTPJSON, "http://"+plain.HTTPAddr),
		dep("wrong", protocol.HTTPJSON, "http://"+wrong.HTTPAddr),
	}, Steps: []plan.Step{{Name: "c2", Concurrency: 2, Requests: 20}}}
	p.Deployments[3].HTTP = protocol.HTTPOptions{Preset: "fastapi-multipart"}
	var log strings.Builder
	f, err := Run(context.Background(), p, Steps{Steps: p.Steps}, Options{Log: &log, DefaultTimeout: 10 * time.Second, PreprocessPerRequest: true})
	if err != nil {
		t.Fatal(err)
	}
	check := f.OutputCheck
	if check == nil || check.Verdict != result.OutputsDiffer || len(check.Images) != 4 {
		t.Fatalf("output check %+v\n%s", check, &log)
	}
	for _, d := range check.Deployments {
		want := result.OutputsSame
		switch d.Name {
		case "grpc":
			want = result.OutputReference
		case "wrong":
			want = result.OutputDiffers
		}
		if d.Status != want || len(d.Boxes) != 4 || d.Boxes[0] < 1 || len(d.Fingerprints) != 4 {
			t.Errorf("%s: %+v, want %s", d.Name, d, want)
		}
	}
	if len(f.Runs) != 5 {
		t.Fatalf("%d runs\n%s", len(f.Runs), &log)
	}
	for _, r := range f.Runs {
		if r.Status != result.StatusOK || r.Counts.OK != 20 {
			t.Errorf("%s: %s %+v %v", r.Deployment.Name, r.Status, r.Counts, r.Errors)
		}
		invalid := r.Validity != nil && !r.Validity.Valid
		if invalid != (r.Deployment.Name == "wrong") {
			t.Errorf("%s: validity %+v", r.Deployment.Name, r.Validity)
		}
		if r.Payload == nil || r.Payload.RequestBytes < 1000 || r.Payload.ResponseBytes < 50 {
			t.Errorf("%s: payload %+v", r.Deployment.Name, r.Payload)
		}
		if r.Client.PreprocessMs == nil || r.Client.PreprocessMs.P50 <= 0 {
			t.Errorf("%s: no preprocessing time", r.Deployment.Name)
		}
	}
	// The KServe requests carry the 64x64 FP32 tensor (49152 bytes).
	byName := map[string]*result.Run{}
	for i := range f.Runs {
		byName[f.Runs[i].Deployment.Name] = &f.Runs[i]
	}
	if b, n := byName["binary"].Payload.RequestBytes, byName["grpc"].Payload.RequestBytes; b < 49152 || n < 49152 {
		t.Errorf("binary %v, grpc %v bytes: a 64x64 FP32 tensor is 49152", b, n)
	}
	t.Logf("%s", &log)
	if !strings.Contains(log.String(), "Output check: differ") {
		t.Errorf("log:\n%s", &log)
	}
}

// TestCorruptImageStopsThePlan: a corrupt file is named before any load.
func TestCorruptImageStopsThePlan(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "frame.jpg")
	os.WriteFile(bad, []byte("\xff\xd8\xff not a JPEG"), 0o644)
	r := pod(t, yolo64(64), refserver.Options{})
	p := &plan.Plan{Deployments: []plan.Deployment{{Name: "d", Protocol: string(protocol.KServeHTTP), URL: "http://" + r.HTTPAddr, Model: "yolov8n", Inputs: plan.Inputs{Image: dir}}},
		Steps: []plan.Step{{Name: "s", Concurrency: 1, Requests: 5}}}
	results := filepath.Join(dir, "results.json")
	f, err := Run(context.Background(), p, Steps{Steps: p.Steps}, Options{ResultsPath: results})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "cannot decode") {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(results); f != nil || statErr == nil {
		t.Errorf("a session ran after a corrupt image: file %v, results %v", f, statErr)
	}
}

package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestManyImagesCostWhatIsStated opens deployments with a folder of 2,000
// small images (320x240 PNGs) and reads the heap they hold once open: the
// image files and one prepared request each (MaxPayloadBytes), not their
// decoded pixels (307 KB each as RGBA) nor a second copy of every tensor.
// Before: 420 KB an image over KServe (840 MB for the folder), 317 KB over
// NIM; after: 60 KB and 5 KB.
func TestManyImagesCostWhatIsStated(t *testing.T) {
	const n, w, h = 2000, 320, 240
	dir := t.TempDir()
	data, err := imaging.Encode(imaging.Scene(w, h, 1), "png")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("frame-%05d.png", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := pod(t, yolo64(64), refserver.Options{})
	for _, tt := range []struct {
		kind protocol.Kind
		url  string
	}{
		{protocol.KServeHTTP, "http://" + r.HTTPAddr},
		{protocol.NIMHTTP, "http://" + r.HTTPAddr},
	} {
		d := plan.Deployment{Name: "d", Protocol: string(tt.kind), URL: tt.url, Model: "yolov8n", MetricsURL: MetricsOff, Inputs: plan.Inputs{Image: dir}}
		before := heapInuse()
		images, err := LoadImages(dir)
		if err != nil {
			t.Fatal(err)
		}
		target, err := Open(context.Background(), d, OpenOptions{Images: images})
		if err != nil {
			t.Fatal(err)
		}
		images = nil
		held := float64(heapInuse()) - float64(before)
		perImage := held / n
		// What is stated: the file, and one request (the tensor, 49,152
		// bytes at 64x64 FP32, or the file in base64), and little else.
		stated := float64(len(data) + target.PayloadB)
		t.Logf("%s: %d images of %d bytes, requests of %d bytes: heap %.1f MB, %.0f bytes an image (stated %.0f)",
			tt.kind, n, len(data), target.PayloadB, held/1e6, perImage, stated)
		if perImage > 1.3*stated+4096 {
			t.Errorf("%s: %.0f bytes held an image, more than the stated %.0f (+30%%, +4 KB)", tt.kind, perImage, stated)
		}
		runtime.KeepAlive(target)
		target.Client.Close()
	}
}

func TestPayloadBudget(t *testing.T) {
	var b payloadBudget
	const each = 4_915_200 // 640x640 FP32
	n := 0
	var err error
	for err == nil && n < 1000 {
		err = b.add(each, 1000)
		n++
	}
	if n != MaxPayloadBytes/each+1 || err == nil || !strings.Contains(err.Error(), "the requests of 1000 images would take about 4687 MB (4800 KB each): more than the 1024 MB of prepared requests inferbench holds; use at most 218 of these images") {
		t.Errorf("refused at image %d: %v", n, err)
	}
}

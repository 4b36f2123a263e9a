package inputs

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/kserve"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func pixel(t kserve.Tensor, w, h, x, y int) [3]int {
	var p [3]int
	for c := 0; c < 3; c++ {
		p[c] = int(kserve.Float64At(t.Datatype, t.Data, c*w*h+y*w+x)*255 + 0.5)
	}
	return p
}

func TestImageTensorLetterboxBorders(t *testing.T) {
	grey := [3]int{114, 114, 114}
	meta := kserve.TensorMetadata{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}}
	tests := []struct {
		name   string
		img    image.Image
		checks map[[2]int][3]int // (x, y) -> RGB
	}{
		{"wide 2:1, red", solid(320, 160, color.RGBA{255, 0, 0, 255}), map[[2]int][3]int{
			{0, 0}: grey, {320, 159}: grey, {320, 160}: {255, 0, 0}, {320, 320}: {255, 0, 0}, {639, 479}: {255, 0, 0}, {320, 480}: grey, {639, 639}: grey,
		}},
		{"tall 1:3, blue", solid(100, 300, color.RGBA{0, 0, 255, 255}), map[[2]int][3]int{
			{212, 320}: grey, {213, 320}: {0, 0, 255}, {320, 320}: {0, 0, 255}, {425, 0}: {0, 0, 255}, {426, 639}: grey,
		}},
		{"square, no padding", solid(640, 640, color.RGBA{10, 200, 30, 255}), map[[2]int][3]int{
			{0, 0}: {10, 200, 30}, {320, 320}: {10, 200, 30}, {639, 639}: {10, 200, 30},
		}},
		{"panorama 4:1, downscaled", solid(800, 200, color.RGBA{0, 128, 255, 255}), map[[2]int][3]int{
			{320, 239}: grey, {320, 240}: {0, 128, 255}, {0, 399}: {0, 128, 255}, {320, 400}: grey,
		}},
	}
	for _, tt := range tests {
		tensor, err := ImageTensor(FromPixels(tt.name, tt.img), meta)
		if err != nil {
			t.Fatal(err)
		}
		if err := tensor.Check(); err != nil || len(tensor.Data) != 4915200 {
			t.Fatalf("%s: %v, %d bytes", tt.name, err, len(tensor.Data))
		}
		for at, want := range tt.checks {
			if got := pixel(tensor, 640, 640, at[0], at[1]); got != want {
				t.Errorf("%s: pixel %v = %v, want %v", tt.name, at, got, want)
			}
		}
	}
}

func TestImageTensorDatatypesAndShapes(t *testing.T) {
	img := FromPixels("orange", solid(8, 8, color.RGBA{255, 51, 0, 255}))
	u8, err := ImageTensor(img, kserve.TensorMetadata{Name: "x", Datatype: kserve.UINT8, Shape: []int64{3, 16, 16}})
	if err != nil || u8.Data[0] != 255 || u8.Data[256] != 51 {
		t.Errorf("UINT8: %v %v", err, u8.Data[:1])
	}
	f16, err := ImageTensor(img, kserve.TensorMetadata{Name: "x", Datatype: kserve.FP16, Shape: []int64{1, 3, 16, 16}})
	if err != nil || kserve.Float64At(kserve.FP16, f16.Data, 256) < 0.199 || kserve.Float64At(kserve.FP16, f16.Data, 256) > 0.201 {
		t.Errorf("FP16: %v", err)
	}
	for _, bad := range []kserve.TensorMetadata{
		{Name: "x", Datatype: kserve.FP32, Shape: []int64{1, 640, 640, 3}},
		{Name: "x", Datatype: kserve.INT64, Shape: []int64{1, 3, 8, 8}},
		{Name: "x", Datatype: kserve.FP32, Shape: []int64{2, 3, 8, 8}},
		{Name: "x", Datatype: kserve.FP32, Shape: []int64{8}},
	} {
		if _, err := ImageTensor(img, bad); err == nil || !strings.Contains(err.Error(), "input 'x'") {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

func TestLoadImages(t *testing.T) {
	images, err := LoadImages(filepath.Join("..", "..", "examples", "images"))
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 4 || images[0].Format == "" || len(images[0].Encoded) == 0 {
		t.Fatalf("examples/images: %d images", len(images))
	}
	glob, err := LoadImages(filepath.Join("..", "..", "examples", "images", "*.png"))
	if err != nil || len(glob) != 2 {
		t.Errorf("glob: %d, %v", len(glob), err)
	}
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "broken.png")
	os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	if _, err := LoadImages(corrupt); err == nil || !strings.Contains(err.Error(), corrupt) || !strings.Contains(err.Error(), "cannot decode") {
		t.Errorf("corrupt: %v", err)
	}
	empty := t.TempDir()
	if _, err := LoadImages(empty); err == nil || !strings.Contains(err.Error(), "no .jpg") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := LoadImages(filepath.Join(dir, "*.jpg")); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("empty glob: %v", err)
	}
	if _, err := LoadImages(filepath.Join(dir, "missing.png")); err == nil {
		t.Errorf("missing file: no error")
	}
	f, _ := os.Create(filepath.Join(dir, "ok.png"))
	png.Encode(f, solid(3, 2, color.RGBA{1, 2, 3, 255}))
	f.Close()
	if imgs, err := LoadImages(filepath.Join(dir, "ok.png")); err != nil || imgs[0].Width != 3 || imgs[0].Height != 2 {
		t.Errorf("ok.png: %v", err)
	}
}

func TestImageSamples(t *testing.T) {
	images := []Image{FromPixels("a", solid(10, 20, color.RGBA{255, 0, 0, 255})), FromPixels("b", solid(20, 10, color.RGBA{0, 255, 0, 255}))}
	meta := []kserve.TensorMetadata{
		{Name: "scale", Datatype: kserve.FP32, Shape: []int64{1, 2}},
		{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 32, 32}},
	}
	samples, err := ImageSamples(images, meta, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 2 || samples[0][1].Name != "images" || samples[0][0].Name != "scale" || kserve.Fingerprint(samples[0]) == kserve.Fingerprint(samples[1]) {
		t.Fatalf("samples %+v", samples)
	}
	if _, err := ImageSamples(images, meta[:1], 1); err == nil || !strings.Contains(err.Error(), "no image input") {
		t.Errorf("no image input: %v", err)
	}
	two := append(meta, kserve.TensorMetadata{Name: "depth", Datatype: kserve.UINT8, Shape: []int64{3, 8, 8}})
	if _, err := ImageSamples(images, two, 1); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("two image inputs: %v", err)
	}
}

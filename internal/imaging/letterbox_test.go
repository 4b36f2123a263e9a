package imaging

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		srcW, srcH int
		want       Letterbox
	}{
		{640, 640, Letterbox{Scale: 1, Width: 640, Height: 640}},
		{320, 160, Letterbox{Scale: 2, Width: 640, Height: 320, Top: 160}},
		{1280, 720, Letterbox{Scale: 0.5, Width: 640, Height: 360, Top: 140}},
		{100, 300, Letterbox{Scale: 640.0 / 300, Width: 213, Height: 640, Left: 213}}, // 427 of padding: 213 left, 214 right
		{800, 200, Letterbox{Scale: 0.8, Width: 640, Height: 160, Top: 240}},
		{641, 479, Letterbox{Scale: 640.0 / 641, Width: 640, Height: 478, Top: 81}}, // 162 of padding: 81 and 81
	}
	for _, tt := range tests {
		if got := Plan(tt.srcW, tt.srcH, 640, 640); got != tt.want {
			t.Errorf("Plan(%dx%d) = %+v, want %+v", tt.srcW, tt.srcH, got, tt.want)
		}
	}
}

// pixel reads the RGB of (x, y) from an NCHW FP32 tensor, in 0..255.

func TestLetterboxIdentityAndInterpolation(t *testing.T) {
	// At scale 1 the image is copied exactly.
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 3)
	}
	rgb, lb := LetterboxRGB(img, 4, 4)
	if lb.Scale != 1 {
		t.Fatalf("scale %v", lb.Scale)
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			for c := 0; c < 3; c++ {
				if got, want := rgb[(y*4+x)*3+c], img.Pix[y*img.Stride+x*4+c]; got != want {
					t.Fatalf("(%d,%d,%d) = %d, want %d", x, y, c, got, want)
				}
			}
		}
	}
	// Upscaling a black | white pair by 2 blends at the seam (pixel centres).
	bw := image.NewGray(image.Rect(0, 0, 2, 1))
	bw.Pix[1] = 255
	rgb, _ = LetterboxRGB(bw, 4, 2)
	row := []byte{rgb[0], rgb[3], rgb[6], rgb[9]}
	if row[0] != 0 || row[1] != 64 || row[2] != 191 || row[3] != 255 {
		t.Errorf("upscaled row %v, want [0 64 191 255] (OpenCV INTER_LINEAR)", row)
	}
}

func TestUnmapInvertsPlan(t *testing.T) {
	for _, size := range [][2]int{{960, 540}, {270, 480}, {800, 200}, {640, 640}, {10000, 1}} {
		lb := Plan(size[0], size[1], 640, 640)
		if lb.Width < 1 || lb.Height < 1 {
			t.Fatalf("%v: empty letterbox %+v", size, lb)
		}
		// The letterboxed image's corners map to the original's.
		x, y := lb.Unmap(float64(lb.Left), float64(lb.Top))
		if x != 0 || y != 0 {
			t.Errorf("%v: top-left maps to (%v, %v)", size, x, y)
		}
		x, y = lb.Unmap(float64(lb.Left)+float64(size[0])*lb.Scale, float64(lb.Top)+float64(size[1])*lb.Scale)
		if d := x - float64(size[0]); d > 1e-6 || d < -1e-6 {
			t.Errorf("%v: bottom-right x maps to %v", size, x)
		}
		if d := y - float64(size[1]); d > 1e-6 || d < -1e-6 {
			t.Errorf("%v: bottom-right y maps to %v", size, y)
		}
	}
}

func TestSceneIsDeterministic(t *testing.T) {
	a, b, c := Scene(64, 48, 1), Scene(64, 48, 1), Scene(64, 48, 2)
	if string(a.Pix) != string(b.Pix) {
		t.Error("the same seed drew two different scenes")
	}
	if string(a.Pix) == string(c.Pix) {
		t.Error("two seeds drew the same scene")
	}
	for _, format := range []string{"png", "jpeg"} {
		data, err := Encode(a, format)
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", format, err)
		}
		img, got, err := image.Decode(bytes.NewReader(data))
		if err != nil || got != format || img.Bounds().Dx() != 64 {
			t.Errorf("%s: decoded as %s, %v", format, got, err)
		}
	}
	if _, err := Encode(a, "gif"); err == nil {
		t.Error("gif: no error")
	}
}

// Package imaging is the image arithmetic the client and the reference
// server share: the YOLO letterbox (Ultralytics' LetterBox), the NCHW
// tensor an image becomes, and the synthetic scenes the project draws for
// itself instead of downloading pictures. It knows no network.
package imaging

import (
	"image"
	"image/draw"
	"math"
)

// Pad is the grey Ultralytics pads letterboxed images with.
const Pad = 114

// Letterbox is where a letterboxed image sits in the model's input: it was
// scaled by Scale to Width x Height and placed at (Left, Top).
type Letterbox struct {
	Scale         float64
	Width, Height int
	Left, Top     int
}

// Plan computes the letterbox of a srcW x srcH image into dstW x dstH as
// Ultralytics' LetterBox does: scale by min(dstH/srcH, dstW/srcW) to
// (round(srcW*r), round(srcH*r)), and centre it with left = round(dw-0.1),
// top = round(dh-0.1) where dw, dh are half the padding.
func Plan(srcW, srcH, dstW, dstH int) Letterbox {
	r := math.Min(float64(dstH)/float64(srcH), float64(dstW)/float64(srcW))
	w := max(1, min(dstW, int(math.Round(float64(srcW)*r))))
	h := max(1, min(dstH, int(math.Round(float64(srcH)*r))))
	dw := float64(dstW-w) / 2
	dh := float64(dstH-h) / 2
	return Letterbox{Scale: r, Width: w, Height: h, Left: int(math.Round(dw - 0.1)), Top: int(math.Round(dh - 0.1))}
}

// Unmap takes a point of the model's input back to the original image, as
// Ultralytics' scale_boxes does: (x - left) / scale.
func (lb Letterbox) Unmap(x, y float64) (float64, float64) {
	return (x - float64(lb.Left)) / lb.Scale, (y - float64(lb.Top)) / lb.Scale
}

// RGBA converts any image to RGBA with its origin at (0, 0), without a
// copy when it already is one.
func RGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if rgba, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return rgba
	}
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

// LetterboxRGB letterboxes an image into a dstW x dstH RGB buffer (3 bytes
// a pixel, row-major), resizing with bilinear interpolation on pixel
// centres (OpenCV's INTER_LINEAR) and padding with grey 114.
func LetterboxRGB(img image.Image, dstW, dstH int) ([]byte, Letterbox) {
	src := RGBA(img)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	lb := Plan(sw, sh, dstW, dstH)
	out := make([]byte, dstW*dstH*3)
	for i := range out {
		out[i] = Pad
	}
	sx := float64(sw) / float64(lb.Width)
	sy := float64(sh) / float64(lb.Height)
	// The horizontal taps depend on x only: computed once, not per row.
	x0s := make([]int, lb.Width)
	x1s := make([]int, lb.Width)
	wxs := make([]float64, lb.Width)
	for x := range lb.Width {
		x0, wx := floorFrac((float64(x)+0.5)*sx-0.5, sw)
		x0s[x], x1s[x], wxs[x] = x0*4, min(x0+1, sw-1)*4, wx
	}
	for y := 0; y < lb.Height; y++ {
		y0, wy := floorFrac((float64(y)+0.5)*sy-0.5, sh)
		y1 := min(y0+1, sh-1)
		row0 := src.Pix[y0*src.Stride:]
		row1 := src.Pix[y1*src.Stride:]
		o := ((lb.Top+y)*dstW + lb.Left) * 3
		for x := 0; x < lb.Width; x++ {
			a, b, wx := x0s[x], x1s[x], wxs[x]
			for c := 0; c < 3; c++ {
				top := float64(row0[a+c])*(1-wx) + float64(row0[b+c])*wx
				bottom := float64(row1[a+c])*(1-wx) + float64(row1[b+c])*wx
				out[o+c] = uint8(math.Round(top*(1-wy) + bottom*wy))
			}
			o += 3
		}
	}
	return out, lb
}

// floorFrac splits a source coordinate into its lower neighbour (clamped
// into 0..n-1) and the weight of the upper one.
func floorFrac(f float64, n int) (int, float64) {
	if f <= 0 {
		return 0, 0
	}
	i := int(f)
	if i >= n-1 {
		return n - 1, 0
	}
	return i, f - float64(i)
}

package inputs

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferbench/inferbench/internal/kserve"
)

// LetterboxPad is the grey Ultralytics pads letterboxed images with.
const LetterboxPad = 114

// Image is one input image: its file, its encoded bytes (what a plain HTTP
// or NIM endpoint is sent) and its decoded pixels.
type Image struct {
	Path    string
	Encoded []byte
	Format  string // "jpeg" or "png"
	Pixels  image.Image
}

// imageExtensions are the files a folder or glob contributes.
var imageExtensions = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// LoadImages reads the images a path names: a file, a folder (its .jpg,
// .jpeg and .png files, in name order) or a glob. Every image is decoded
// once, here, so that a corrupt file is reported, by name, before any load
// is sent.
func LoadImages(path string) ([]Image, error) {
	files, err := imageFiles(path)
	if err != nil {
		return nil, err
	}
	images := make([]Image, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", f, err)
		}
		img, format, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("image %s: cannot decode it as JPEG or PNG: %w", f, err)
		}
		if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 {
			return nil, fmt.Errorf("image %s: empty (%dx%d)", f, b.Dx(), b.Dy())
		}
		images = append(images, Image{Path: f, Encoded: data, Format: format, Pixels: img})
	}
	return images, nil
}

func imageFiles(path string) ([]string, error) {
	if strings.ContainsAny(path, "*?[") {
		matches, err := filepath.Glob(path)
		if err != nil {
			return nil, fmt.Errorf("--image %q: %w", path, err)
		}
		var files []string
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() {
				files = append(files, m)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--image %q matches no file", path)
		}
		sort.Strings(files)
		return files, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && imageExtensions[strings.ToLower(filepath.Ext(e.Name()))] {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--image %s: the folder holds no .jpg, .jpeg or .png file", path)
	}
	return files, nil
}

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
	w := min(dstW, int(math.Round(float64(srcW)*r)))
	h := min(dstH, int(math.Round(float64(srcH)*r)))
	dw := float64(dstW-w) / 2
	dh := float64(dstH-h) / 2
	return Letterbox{Scale: r, Width: w, Height: h, Left: int(math.Round(dw - 0.1)), Top: int(math.Round(dh - 0.1))}
}

// LetterboxRGB letterboxes an image into a dstW x dstH RGB buffer (3 bytes
// a pixel, row-major), resizing with bilinear interpolation on pixel
// centres (OpenCV's INTER_LINEAR) and padding with grey 114.
func LetterboxRGB(img image.Image, dstW, dstH int) ([]byte, Letterbox) {
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	sw, sh := b.Dx(), b.Dy()
	lb := Plan(sw, sh, dstW, dstH)
	out := bytes.Repeat([]byte{LetterboxPad}, dstW*dstH*3)
	sx := float64(sw) / float64(lb.Width)
	sy := float64(sh) / float64(lb.Height)
	for y := 0; y < lb.Height; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0, wy := floorFrac(fy, sh)
		y1 := min(y0+1, sh-1)
		for x := 0; x < lb.Width; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			x0, wx := floorFrac(fx, sw)
			x1 := min(x0+1, sw-1)
			o := ((lb.Top+y)*dstW + lb.Left + x) * 3
			for c := 0; c < 3; c++ {
				p00 := float64(src.Pix[y0*src.Stride+x0*4+c])
				p01 := float64(src.Pix[y0*src.Stride+x1*4+c])
				p10 := float64(src.Pix[y1*src.Stride+x0*4+c])
				p11 := float64(src.Pix[y1*src.Stride+x1*4+c])
				v := (p00*(1-wx)+p01*wx)*(1-wy) + (p10*(1-wx)+p11*wx)*wy
				out[o+c] = uint8(math.Round(v))
			}
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

// ImageTensor turns an image into a model input: letterboxed to the
// input's height and width (an NCHW shape [1, 3, H, W] or [3, H, W]), RGB,
// planar; FP32 and FP16 are divided by 255, UINT8 stays 0..255.
func ImageTensor(img Image, meta kserve.TensorMetadata) (kserve.Tensor, error) {
	shape := meta.Shape
	if len(shape) < 3 || len(shape) > 4 || shape[len(shape)-3] != 3 {
		return kserve.Tensor{}, fmt.Errorf("input '%s' has shape %v: an image input must be NCHW, [1,3,H,W] or [3,H,W]", meta.Name, shape)
	}
	h, w := int(shape[len(shape)-2]), int(shape[len(shape)-1])
	if h < 1 || w < 1 || (len(shape) == 4 && shape[0] != 1) {
		return kserve.Tensor{}, fmt.Errorf("input '%s' has shape %v: height and width must be known and the batch 1 (use --shape)", meta.Name, shape)
	}
	switch meta.Datatype {
	case kserve.FP32, kserve.FP16, kserve.UINT8:
	default:
		return kserve.Tensor{}, fmt.Errorf("input '%s' is %s: images go to FP32, FP16 or UINT8 inputs", meta.Name, meta.Datatype)
	}
	rgb, _ := LetterboxRGB(img.Pixels, w, h)
	size, _ := kserve.ByteSize(meta.Datatype, shape)
	t := kserve.Tensor{Name: meta.Name, Datatype: meta.Datatype, Shape: append([]int64(nil), shape...), Data: make([]byte, size)}
	plane := w * h
	for i := 0; i < plane; i++ {
		for c := 0; c < 3; c++ {
			v := float64(rgb[i*3+c])
			if meta.Datatype != kserve.UINT8 {
				v /= 255
			}
			kserve.PutFloat64At(meta.Datatype, t.Data, c*plane+i, v)
		}
	}
	return t, nil
}

// IsImageInput reports whether an input can take a letterboxed image: NCHW
// with 3 channels ([1,3,H,W] or [3,H,W], batch -1 allowed) of FP32, FP16
// or UINT8.
func IsImageInput(m kserve.TensorMetadata) bool {
	s := m.Shape
	if len(s) < 3 || len(s) > 4 || s[len(s)-3] != 3 {
		return false
	}
	return m.Datatype == kserve.FP32 || m.Datatype == kserve.FP16 || m.Datatype == kserve.UINT8
}

// ImageSamples makes one sample per image: the model's image input (the
// one input IsImageInput accepts) holds the letterboxed image, any other
// input random data from seed. meta must be resolved (no variable
// dimensions).
func ImageSamples(images []Image, meta []kserve.TensorMetadata, seed uint64) ([][]kserve.Tensor, error) {
	imageInput := -1
	for i, m := range meta {
		if IsImageInput(m) {
			if imageInput >= 0 {
				return nil, fmt.Errorf("the model has two image-shaped inputs ('%s' and '%s'): which takes the image is ambiguous", meta[imageInput].Name, m.Name)
			}
			imageInput = i
		}
	}
	if imageInput < 0 {
		return nil, fmt.Errorf("the model has no image input (NCHW [1,3,H,W] of FP32, FP16 or UINT8) for --image")
	}
	others, err := Random(meta, seed)
	if err != nil {
		return nil, err
	}
	samples := make([][]kserve.Tensor, 0, len(images))
	for _, img := range images {
		t, err := ImageTensor(img, meta[imageInput])
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Path, err)
		}
		sample := append([]kserve.Tensor(nil), others...)
		sample[imageInput] = t
		samples = append(samples, sample)
	}
	return samples, nil
}

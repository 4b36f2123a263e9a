package inputs

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
)

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
// .jpeg and .png files, in name order), a glob, or "builtin" for the
// built-in image. Every image is decoded
// once, here, so that a corrupt file is reported, by name, before any load
// is sent.
func LoadImages(path string) ([]Image, error) {
	if path == BuiltinImage {
		return []Image{Builtin()}, nil
	}
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

// ImageTensor turns an image into a model input: letterboxed to the
// input's height and width (an NCHW shape [1, 3, H, W] or [3, H, W]), RGB,
// planar; FP32 and FP16 are divided by 255, UINT8 stays 0..255 (see
// imaging.Tensor).
func ImageTensor(img Image, meta kserve.TensorMetadata) (kserve.Tensor, error) {
	t, _, err := imaging.Tensor(img.Pixels, meta)
	return t, err
}

// IsImageInput reports whether an input can take a letterboxed image: NCHW
// with 3 channels ([1,3,H,W] or [3,H,W], batch -1 allowed) of FP32, FP16
// or UINT8.
func IsImageInput(m kserve.TensorMetadata) bool { return imaging.IsImageInput(m) }

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

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
// or NIM endpoint is sent) and its size. Its pixels are not kept: they are
// decoded when a request is made from them (Decode) and dropped once it is
// encoded, so an image costs its file, not its pixels.
type Image struct {
	Path          string
	Encoded       []byte
	Format        string // "jpeg" or "png"
	Width, Height int
	// pixels are set for an image made in memory (FromPixels) only.
	pixels image.Image
}

// MaxPixels is the most pixels an image may have: 50 megapixels. It
// admits every camera frame in use (8K UHD is 33 MP, a 48 MP phone sensor
// 8000x6000) and bounds what one decode costs: at most 8 bytes a pixel
// (a 16-bit RGBA PNG) plus 4 for the RGBA copy letterboxing makes, so 600
// MB at worst, one image at a time. A file that claims more (a
// decompression bomb: 10 MB of PNG declaring 60000x60000 pixels would
// decode to 14 GB) is refused from its header, before any pixel is
// decoded.
const MaxPixels = 50_000_000

// MaxFileBytes is the most image file bytes LoadImages holds in memory,
// all files together: 1 GiB. Every file is held for the whole run (the
// image kinds send them, per-request preprocessing decodes them again).
const MaxFileBytes = 1 << 30

// FromPixels makes an image from pixels held in memory (a test's, a
// generated one): it has no file.
func FromPixels(path string, img image.Image) Image {
	b := img.Bounds()
	return Image{Path: path, Width: b.Dx(), Height: b.Dy(), pixels: img}
}

// Bounds is the image's rectangle, from (0, 0).
func (img Image) Bounds() image.Rectangle { return image.Rect(0, 0, img.Width, img.Height) }

// Decode returns the image's pixels: decoded from its file each time
// (the caller drops them once used), after its header is checked against
// MaxPixels.
func (img Image) Decode() (image.Image, error) {
	if img.pixels != nil {
		return img.pixels, nil
	}
	if _, _, err := decodeConfig(img.Path, img.Encoded); err != nil {
		return nil, err
	}
	pixels, _, err := image.Decode(bytes.NewReader(img.Encoded))
	if err != nil {
		return nil, fmt.Errorf("image %s: cannot decode it as JPEG or PNG: %w", img.Path, err)
	}
	return pixels, nil
}

// decodeConfig reads an image file's header: its format and size, checked
// to be at least 1x1 and at most MaxPixels, without decoding a pixel.
func decodeConfig(path string, data []byte) (image.Config, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, "", fmt.Errorf("image %s: cannot decode it as JPEG or PNG: %w", path, err)
	}
	if err := CheckPixels(cfg.Width, cfg.Height); err != nil {
		return cfg, "", fmt.Errorf("image %s: %w", path, err)
	}
	return cfg, format, nil
}

// CheckPixels checks an image's size: at least 1x1, at most MaxPixels.
func CheckPixels(width, height int) error {
	switch px := int64(width) * int64(height); {
	case width < 1 || height < 1:
		return fmt.Errorf("empty (%dx%d)", width, height)
	case px > MaxPixels:
		return fmt.Errorf("%dx%d is %.1f megapixels, more than the %d inferbench decodes (a decompression bomb, or an image to scale down first)",
			width, height, float64(px)/1e6, MaxPixels/1_000_000)
	}
	return nil
}

// imageExtensions are the files a folder or glob contributes.
var imageExtensions = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// LoadImages reads the images a path names: a file, a folder (its .jpg,
// .jpeg and .png files, in name order), a glob, or "builtin" for the
// built-in image. Every image is decoded once, here, so that a corrupt
// file is reported, by name, before any load is sent; its pixels are
// dropped at once. Sizes are checked from the headers first (MaxPixels),
// and the files' total from their sizes (MaxFileBytes), before any is
// read.
func LoadImages(path string) ([]Image, error) {
	if path == BuiltinImage {
		return []Image{Builtin()}, nil
	}
	files, err := imageFiles(path)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", f, err)
		}
		if total += st.Size(); total > MaxFileBytes {
			return nil, fmt.Errorf("--image %s: its %d files hold more than %d MiB (at %s): inferbench keeps every image file in memory for the run; use fewer images",
				path, len(files), MaxFileBytes>>20, f)
		}
	}
	images := make([]Image, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", f, err)
		}
		cfg, format, err := decodeConfig(f, data)
		if err != nil {
			return nil, err
		}
		img := Image{Path: f, Encoded: data, Format: format, Width: cfg.Width, Height: cfg.Height}
		pixels, err := img.Decode()
		if err != nil {
			return nil, err
		}
		if b := pixels.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
			return nil, fmt.Errorf("image %s: its header says %dx%d, its pixels are %dx%d", f, cfg.Width, cfg.Height, b.Dx(), b.Dy())
		}
		images = append(images, img)
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
// imaging.Tensor). The pixels are decoded for it and dropped.
func ImageTensor(img Image, meta kserve.TensorMetadata) (kserve.Tensor, error) {
	pixels, err := img.Decode()
	if err != nil {
		return kserve.Tensor{}, err
	}
	t, _, err := imaging.Tensor(pixels, meta)
	return t, err
}

// IsImageInput reports whether an input can take a letterboxed image: NCHW
// with 3 channels ([1,3,H,W] or [3,H,W], batch -1 allowed) of FP32, FP16
// or UINT8.
func IsImageInput(m kserve.TensorMetadata) bool { return imaging.IsImageInput(m) }

// ImageSampler makes the samples of a model with an image input: the
// image input (the one input IsImageInput accepts) holds a letterboxed
// image, every other input the same random data from a seed.
type ImageSampler struct {
	meta   []kserve.TensorMetadata
	at     int
	others []kserve.Tensor
}

// NewImageSampler finds the model's image input; meta must be resolved
// (no variable dimensions).
func NewImageSampler(meta []kserve.TensorMetadata, seed uint64) (*ImageSampler, error) {
	at := -1
	for i, m := range meta {
		if IsImageInput(m) {
			if at >= 0 {
				return nil, fmt.Errorf("the model has two image-shaped inputs ('%s' and '%s'): which takes the image is ambiguous", meta[at].Name, m.Name)
			}
			at = i
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("the model has no image input (NCHW [1,3,H,W] of FP32, FP16 or UINT8) for --image")
	}
	others, err := Random(meta, seed)
	if err != nil {
		return nil, err
	}
	return &ImageSampler{meta: meta, at: at, others: others}, nil
}

// Input is the model input that takes the image.
func (s *ImageSampler) Input() kserve.TensorMetadata { return s.meta[s.at] }

// Sample makes one sample from an image: its pixels are decoded,
// letterboxed into the image input, and dropped. The other inputs' data
// is shared between samples (read only).
func (s *ImageSampler) Sample(img Image) ([]kserve.Tensor, error) {
	t, err := ImageTensor(img, s.meta[s.at])
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Path, err)
	}
	sample := append([]kserve.Tensor(nil), s.others...)
	sample[s.at] = t
	return sample, nil
}

// ImageSamples makes one sample per image (see ImageSampler). It holds
// every sample at once: a caller that encodes them one by one should use
// an ImageSampler.
func ImageSamples(images []Image, meta []kserve.TensorMetadata, seed uint64) ([][]kserve.Tensor, error) {
	s, err := NewImageSampler(meta, seed)
	if err != nil {
		return nil, err
	}
	samples := make([][]kserve.Tensor, 0, len(images))
	for _, img := range images {
		sample, err := s.Sample(img)
		if err != nil {
			return nil, err
		}
		samples = append(samples, sample)
	}
	return samples, nil
}

// Command genimages makes the small test images shipped in
// examples/images: synthetic scenes (a sky gradient, a road, boxes and
// discs standing in for objects) in several aspect ratios, as JPEG and
// PNG. The project makes its own images; nothing is downloaded.
//
//	go run ./scripts/genimages examples/images
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
)

type spec struct {
	name          string
	width, height int
	seed          uint64
}

func main() {
	dir := "examples/images"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, s := range []spec{
		{"street.jpg", 960, 540, 1},   // 16:9, the common camera frame
		{"portrait.png", 270, 480, 2}, // 9:16, a phone held upright
		{"square.jpg", 640, 640, 3},   // the model's own size: no letterbox padding
		{"panorama.png", 800, 200, 4}, // 4:1, most of the input is padding
	} {
		if err := write(filepath.Join(dir, s.name), scene(s)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// scene draws a deterministic street-like picture.
func scene(s spec) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, s.width, s.height))
	rng := rand.New(rand.NewPCG(s.seed, 7))
	horizon := s.height * 3 / 5
	for y := 0; y < s.height; y++ {
		for x := 0; x < s.width; x++ {
			var c color.RGBA
			if y < horizon {
				t := float64(y) / float64(horizon)
				c = color.RGBA{uint8(90 + 80*t), uint8(150 + 60*t), 235, 255}
			} else {
				c = color.RGBA{70, 70, 75, 255}
				if (x/40)%2 == 0 && y > horizon+(s.height-horizon)/2-3 && y < horizon+(s.height-horizon)/2+3 {
					c = color.RGBA{230, 230, 230, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	for i := 0; i < 6; i++ { // boxes: cars, people, signs
		w := s.width/12 + rng.IntN(s.width/8+1)
		h := s.height/10 + rng.IntN(s.height/5+1)
		x0 := rng.IntN(max(1, s.width-w))
		y0 := horizon - h/2 + rng.IntN(max(1, (s.height-horizon)/2))
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		for y := max(0, y0); y < min(s.height, y0+h); y++ {
			for x := x0; x < min(s.width, x0+w); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	for i := 0; i < 3; i++ { // discs: wheels, balls
		r := 5 + rng.IntN(max(1, s.height/12))
		cx, cy := rng.IntN(s.width), horizon+rng.IntN(max(1, s.height-horizon))
		c := color.RGBA{20, 20, 20, 255}
		for y := cy - r; y <= cy+r; y++ {
			for x := cx - r; x <= cx+r; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r && image.Pt(x, y).In(img.Bounds()) {
					img.SetRGBA(x, y, c)
				}
			}
		}
	}
	return img
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	switch filepath.Ext(path) {
	case ".png":
		err = png.Encode(f, img)
	default:
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 85})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

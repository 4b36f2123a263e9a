package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
)

// Scene draws a deterministic street-like picture: a sky gradient, a road
// with a dashed line, boxes (cars, people, signs) and discs (wheels,
// balls) placed by seed. The project makes its test images with it;
// nothing is downloaded.
func Scene(width, height int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	rng := rand.New(rand.NewPCG(seed, 7))
	horizon := height * 3 / 5
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			var c color.RGBA
			if y < horizon {
				t := float64(y) / float64(horizon)
				c = color.RGBA{uint8(90 + 80*t), uint8(150 + 60*t), 235, 255}
			} else {
				c = color.RGBA{70, 70, 75, 255}
				if (x/40)%2 == 0 && y > horizon+(height-horizon)/2-3 && y < horizon+(height-horizon)/2+3 {
					c = color.RGBA{230, 230, 230, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	for i := 0; i < 6; i++ { // boxes: cars, people, signs
		w := width/12 + rng.IntN(width/8+1)
		h := height/10 + rng.IntN(height/5+1)
		x0 := rng.IntN(max(1, width-w))
		y0 := horizon - h/2 + rng.IntN(max(1, (height-horizon)/2))
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		for y := max(0, y0); y < min(height, y0+h); y++ {
			for x := x0; x < min(width, x0+w); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	for i := 0; i < 3; i++ { // discs: wheels, balls
		r := 5 + rng.IntN(max(1, height/12))
		cx, cy := rng.IntN(width), horizon+rng.IntN(max(1, height-horizon))
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

// Encode writes an image as "png" or "jpeg" (quality 85).
func Encode(img image.Image, format string) ([]byte, error) {
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg", "jpg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 85})
	default:
		return nil, fmt.Errorf("image format %q: want png or jpeg", format)
	}
	return b.Bytes(), err
}

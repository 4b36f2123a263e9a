// Command genimages makes the small test images shipped in
// examples/images: synthetic scenes (imaging.Scene: a sky gradient, a
// road, boxes and discs standing in for objects) in several aspect ratios,
// as JPEG and PNG. The project makes its own images; nothing is
// downloaded.
//
//	go run ./scripts/genimages examples/images
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferbench/inferbench/internal/imaging"
)

func main() {
	dir := "examples/images"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, s := range []struct {
		name          string
		width, height int
		seed          uint64
	}{
		{"street.jpg", 960, 540, 1},   // 16:9, the common camera frame
		{"portrait.png", 270, 480, 2}, // 9:16, a phone held upright
		{"square.jpg", 640, 640, 3},   // the model's own size: no letterbox padding
		{"panorama.png", 800, 200, 4}, // 4:1, most of the input is padding
	} {
		format := strings.TrimPrefix(filepath.Ext(s.name), ".")
		data, err := imaging.Encode(imaging.Scene(s.width, s.height, s.seed), format)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, s.name), data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

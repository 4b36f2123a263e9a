package inputs

import (
	"bytes"
	"image"
	"sync"

	"github.com/inferbench/inferbench/internal/imaging"
)

// BuiltinImage is the name (--image builtin, a plan's image: builtin) of
// the image the binary draws for itself: a 640x360 street scene
// (imaging.Scene) as JPEG, so that images can be sent from any folder,
// without files.
const BuiltinImage = "builtin"

var builtin = sync.OnceValue(func() Image {
	data, err := imaging.Encode(imaging.Scene(640, 360, 1), "jpeg")
	if err != nil {
		panic("inputs: encoding the built-in image: " + err.Error())
	}
	// The pixels are the JPEG's as decoded, as a server decodes them:
	// decoded when used, not kept.
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		panic("inputs: decoding the built-in image: " + err.Error())
	}
	return Image{Path: "builtin:scene-640x360.jpg", Encoded: data, Format: format, Width: cfg.Width, Height: cfg.Height}
})

// Builtin returns the built-in image.
func Builtin() Image { return builtin() }

package refserver

import (
	"bytes"
	"image"
	_ "image/jpeg" // the image formats the plain and NIM APIs accept
	_ "image/png"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
)

// Every transport answers the same image the same way. The reference
// server's convention, which a client can check:
//
//  1. An image sent to the plain API or to NIM's /v1/infer is decoded and
//     letterboxed into the model's image input exactly as a client does
//     for a KServe request (internal/imaging: Ultralytics' letterbox, RGB,
//     NCHW, /255 for FP32 and FP16), giving the tensor a KServe client
//     would have sent.
//  2. The fingerprint is kserve.Fingerprint of that tensor alone: for a
//     model whose only input is the image, the fingerprint of the KServe
//     request carrying the same image.
//  3. The detections are detect.Generate(fingerprint, input width and
//     height), in model-input pixels. KServe outputs shaped like a YOLO
//     output carry them (detect.EncodeYOLO, beside the fingerprint stamp);
//     the plain API maps them back to the image's pixels (Ultralytics'
//     scale_boxes: undo the letterbox, clip to the image), NIM's to 0..1
//     of the image.
//  4. The plain and NIM answers carry the fingerprint in the header
//     X-Inferbench-Fingerprint (8 hex digits; NIM: one per image, comma
//     separated).
//
// So one image gives one fingerprint and one set of boxes over
// kserve-http, kserve-http-json, kserve-grpc, nim-http and http-json.

// defaultImageInput is the letterbox target of a model without an
// image-shaped input (a plain service declared with BYTES inputs):
// YOLO's 640x640.
var defaultImageInput = kserve.TensorMetadata{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}}

// imageInput finds the model's only image-shaped input, with a batch of
// one; it reports false, and returns the default, when there is none or
// more than one.
func (m *model) imageInput() (kserve.TensorMetadata, bool) {
	var found []kserve.TensorMetadata
	for _, in := range m.spec.Inputs {
		shape := m.fullShape(in.Shape)
		if len(shape) == 4 && shape[0] == -1 {
			shape[0] = 1
		}
		t := kserve.TensorMetadata{Name: in.Name, Datatype: in.Datatype, Shape: shape}
		if imaging.IsImageInput(t) {
			if _, _, err := imaging.Size(t); err == nil {
				found = append(found, t)
			}
		}
	}
	if len(found) != 1 {
		return defaultImageInput, false
	}
	return found[0], true
}

// imageSize is the width and height images are letterboxed to.
func (m *model) imageSize() (w, h int) {
	w, h, _ = imaging.Size(m.image)
	return w, h
}

// imageAnswer is the model's answer to one encoded image: the image's
// size, the fingerprint of its letterboxed tensor, and the detections in
// the image's pixels.
type imageAnswer struct {
	width, height int
	fp            uint32
	boxes         []detect.Box
}

// answerImage decodes an image (PNG or JPEG), letterboxes it into the
// model's image input and derives the answer; a bad image is a 400.
func (m *model) answerImage(data []byte) (imageAnswer, error) {
	if len(data) == 0 {
		return imageAnswer{}, badImage("the image is empty")
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return imageAnswer{}, badImage("the data is not a PNG or JPEG image: %v", err)
	}
	if format != "png" && format != "jpeg" {
		return imageAnswer{}, badImage("image format %q is not supported: send PNG or JPEG", format)
	}
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return imageAnswer{}, badImage("the image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	t, lb, err := imaging.Tensor(img, m.image)
	if err != nil {
		return imageAnswer{}, err
	}
	fp := kserve.Fingerprint([]kserve.Tensor{t})
	w, h := m.imageSize()
	return imageAnswer{width: b.Dx(), height: b.Dy(), fp: fp,
		boxes: detect.FromLetterbox(detect.Generate(fp, w, h), lb, b.Dx(), b.Dy())}, nil
}

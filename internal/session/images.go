package session

import (
	"bytes"
	"fmt"
	"image"

	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
)

// LoadImages reads an image option (--image, a plan's inputs.image): a
// file, a folder, a glob or "builtin"; empty gives none. Every image is
// decoded here, so a corrupt file is named before any load is sent.
func LoadImages(path string) ([]inputs.Image, error) {
	if path == "" {
		return nil, nil
	}
	return inputs.LoadImages(path)
}

// imageRequest is the request of an image kind for payload i: batch
// images from image i on, in rotation, as a BYTES input of their files.
func imageRequest(images []inputs.Image, i, batch int) *kserve.InferRequest {
	var data []byte
	for j := 0; j < batch; j++ {
		data = kserve.AppendBytesElement(data, images[(i+j)%len(images)].Encoded)
	}
	return &kserve.InferRequest{Inputs: []kserve.Tensor{{Name: protocol.ImageInput, Datatype: kserve.BYTES, Shape: []int64{int64(batch)}, Data: data}}}
}

// prepareImages makes a target's payloads from images: one per image.
// The image kinds send the files (batch of them per request with
// --batch-size); the KServe kinds letterbox each into the model's image
// input, the other inputs random.
func (t *Target) prepareImages(images []inputs.Image, in plan.Inputs) error {
	if len(images) == 0 {
		images = []inputs.Image{inputs.Builtin()}
	}
	t.Images = images
	c, dep := t.Client, t.Deployment
	add := func(p protocol.Payload, err error) error {
		if err != nil {
			return fmt.Errorf("encoding the request: %w", err)
		}
		t.Payloads = append(t.Payloads, p)
		t.PayloadB = p.Size()
		return nil
	}
	if c.Kind().SendsImages() {
		batch := max(1, in.BatchSize)
		for i := range images {
			if err := add(c.Prepare(dep.Model, dep.ModelVersion, imageRequest(images, i, batch))); err != nil {
				return err
			}
		}
		// Per request, the client encodes the files (base64, the body).
		t.Produce = func(i int) (protocol.Payload, error) {
			return c.Prepare(dep.Model, dep.ModelVersion, imageRequest(images, i%len(images), batch))
		}
		return nil
	}
	meta, err := inputs.Resolve(t.Metadata.Inputs, in.Shapes, in.BatchSize)
	if err != nil {
		return err
	}
	samples, err := inputs.ImageSamples(images, meta, seedOf(in.Seed))
	if err != nil {
		return err
	}
	at := -1
	for j, m := range meta {
		if imaging.IsImageInput(m) {
			t.ImageInput, at = m, j
		}
	}
	for _, s := range samples {
		if err := add(c.Prepare(dep.Model, dep.ModelVersion, &kserve.InferRequest{Inputs: s})); err != nil {
			return err
		}
	}
	// Per request, the client decodes the file, letterboxes it into a
	// tensor and encodes the request, as a camera-fed client would.
	t.Produce = func(i int) (protocol.Payload, error) {
		i %= len(images)
		img, _, err := image.Decode(bytes.NewReader(images[i].Encoded))
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", images[i].Path, err)
		}
		tensor, _, err := imaging.Tensor(img, t.ImageInput)
		if err != nil {
			return nil, err
		}
		s := append([]kserve.Tensor(nil), samples[i]...)
		s[at] = tensor
		return c.Prepare(dep.Model, dep.ModelVersion, &kserve.InferRequest{Inputs: s})
	}
	return nil
}

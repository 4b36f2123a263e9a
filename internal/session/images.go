package session

import (
	"fmt"

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

// MaxPayloadBytes is the most memory a target's prepared requests may
// hold, all together: 1 GiB. A request is encoded once per image before
// the load (so that encoding stays out of the measurement) and kept for
// the run: an image costs its file (inputs.MaxFileBytes bounds those)
// plus its request (the letterboxed tensor, 4.9 MB at 640x640 FP32, or
// the file in the request's body, in base64 for NIM), about 50 KB at the
// reference server's 64x64 FP32. A folder whose requests would take more
// is refused, with how many images fit.
const MaxPayloadBytes = 1 << 30

// payloadBudget counts the bytes of prepared requests against
// MaxPayloadBytes.
type payloadBudget struct {
	used, images int
}

func (b *payloadBudget) add(size, total int) error {
	b.used += size
	b.images++
	if b.used <= MaxPayloadBytes {
		return nil
	}
	each := b.used / b.images
	return fmt.Errorf("the requests of %d images would take about %d MB (%d KB each): more than the %d MB of prepared requests inferbench holds; use at most %d of these images",
		total, int64(each)*int64(total)>>20, each>>10, MaxPayloadBytes>>20, max(1, MaxPayloadBytes/max(1, each)))
}

// prepareImages makes a target's payloads from images: one per image.
// The image kinds send the files (batch of them per request with
// --batch-size); the KServe kinds letterbox each into the model's image
// input, the other inputs random. Each image's pixels are decoded,
// encoded into its request and dropped before the next: what stays is
// its file and its request (MaxPayloadBytes).
func (t *Target) prepareImages(images []inputs.Image, in plan.Inputs) error {
	if len(images) == 0 {
		images = []inputs.Image{inputs.Builtin()}
	}
	t.Images = images
	c, dep := t.Client, t.Deployment
	var budget payloadBudget
	add := func(p protocol.Payload, err error) error {
		if err != nil {
			return fmt.Errorf("encoding the request: %w", err)
		}
		t.Payloads = append(t.Payloads, p)
		t.PayloadB = p.Size()
		return budget.add(p.Size(), len(images))
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
	sampler, err := inputs.NewImageSampler(meta, seedOf(in.Seed))
	if err != nil {
		return err
	}
	t.ImageInput = sampler.Input()
	for _, img := range images {
		s, err := sampler.Sample(img)
		if err != nil {
			return err
		}
		if err := add(c.Prepare(dep.Model, dep.ModelVersion, &kserve.InferRequest{Inputs: s})); err != nil {
			return err
		}
	}
	// Per request, the client decodes the file, letterboxes it into a
	// tensor and encodes the request, as a camera-fed client would.
	t.Produce = func(i int) (protocol.Payload, error) {
		s, err := sampler.Sample(images[i%len(images)])
		if err != nil {
			return nil, err
		}
		return c.Prepare(dep.Model, dep.ModelVersion, &kserve.InferRequest{Inputs: s})
	}
	return nil
}

// Package run executes load levels against deployments: it prepares a
// target (client, inputs, payloads, response validation), runs each level
// with the load engine, and turns what the engine measured into result
// file entries with the field guide's assessment.
package run

import (
	"context"
	"fmt"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
)

// Target is one deployment ready to be measured.
type Target struct {
	Deployment result.Deployment
	Client     protocol.Client
	Metadata   *kserve.ModelMetadata
	Payloads   []protocol.Payload
	// Validate checks every response against the model's metadata, in
	// place: see protocol.Checker.
	Validate *protocol.Checker
	PayloadB int // bytes one request puts on the wire
	// Images are the images the payloads carry: payload i starts with
	// image i. Nil when the inputs are not images.
	Images []inputs.Image
	// ImageInput is the model input a KServe kind letterboxes images
	// into; its name is empty for the image kinds.
	ImageInput kserve.TensorMetadata
	// Produce makes payload i afresh, preprocessing included (decoding,
	// letterboxing and encoding the image): the engine calls it per
	// request with --preprocess-per-request. Nil when the inputs are not
	// images.
	Produce func(i int) (protocol.Payload, error)
}

// InputOptions say what to send.
type InputOptions struct {
	// Shapes fixes the dimensions of inputs by name (for variable dims).
	Shapes map[string][]int64
	// BatchSize fills a leading variable (batch) dimension; 1 if zero.
	BatchSize int
	// DataFile is a perf_analyzer JSON input file; empty for random data.
	DataFile string
	// Seed for random data.
	Seed uint64
	// Images are sent in rotation: letterboxed into the model's image
	// input by the KServe kinds, as the files themselves by the image
	// kinds (nim-http, http-json), which send the built-in image when
	// there are none.
	Images []inputs.Image
}

// Prepare reads the model's metadata, makes the inputs, and encodes the
// payloads once, before any clock starts.
func Prepare(ctx context.Context, client protocol.Client, dep result.Deployment, opts InputOptions) (*Target, error) {
	md, err := client.ModelMetadata(ctx, dep.Model, dep.ModelVersion)
	if err != nil {
		return nil, fmt.Errorf("model metadata of '%s' at %s: %w", dep.Model, dep.URL, err)
	}
	if client.Kind().SendsImages() || len(opts.Images) > 0 {
		t := &Target{Deployment: dep, Client: client, Metadata: md, Validate: protocol.NewChecker(md, nil)}
		if err := t.prepareImages(opts); err != nil {
			return nil, err
		}
		return t, nil
	}
	meta, err := inputs.Resolve(md.Inputs, opts.Shapes, opts.BatchSize)
	if err != nil {
		return nil, err
	}
	var samples [][]kserve.Tensor
	if opts.DataFile != "" {
		samples, err = inputs.FromPerfAnalyzerFile(opts.DataFile, meta)
	} else {
		var s []kserve.Tensor
		s, err = inputs.Random(meta, opts.Seed)
		samples = [][]kserve.Tensor{s}
	}
	if err != nil {
		return nil, err
	}
	t := &Target{Deployment: dep, Client: client, Metadata: md}
	for _, s := range samples {
		p, err := client.Prepare(dep.Model, dep.ModelVersion, &kserve.InferRequest{Inputs: s})
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		t.Payloads = append(t.Payloads, p)
		t.PayloadB = p.Size()
	}
	t.Validate = protocol.NewChecker(md, nil)
	return t, nil
}

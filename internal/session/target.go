// Package session owns a benchmark from start to end: it opens every
// deployment of a plan the one same way (Open), runs the load levels a
// scheduler picks (a list of steps for bench and run, the sweet-spot
// search for sweep), observes the server and its pods around each level,
// rewrites the result file after every run, handles Ctrl-C, and renders
// the reports. Commands differ only in the plan they build and the
// scheduler they pass.
package session

import (
	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/scaling"
)

// Target is one deployment opened and ready to be measured.
type Target struct {
	Plan       plan.Deployment
	Deployment result.Deployment
	Client     protocol.Client
	Metadata   *kserve.ModelMetadata
	Payloads   []protocol.Payload
	// Samples are the tensors payload i was encoded from (KServe kinds
	// with generated or file inputs); nil for images.
	Samples [][]kserve.Tensor
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

	// Watch reads the server's side of each level; nil when it cannot,
	// and WatchLine says why.
	Watch     *ServerWatch
	WatchLine string
	// Pods watches the deployment's pods around each level; nil when pod
	// checks are off, and PodsLine says why.
	Pods     *kube.PodWatch
	PodsLine string
	// Scale observes how the deployment scales during each level (its
	// Kubernetes Deployment, or an autoscaled reference pod's metrics);
	// nil when there is nothing to observe.
	Scale scaling.Source
}

// resultDeployment describes a plan deployment in result terms.
func resultDeployment(d plan.Deployment) result.Deployment {
	return result.Deployment{Name: d.Name, Protocol: d.Protocol, URL: d.URL, Model: d.Model, ModelVersion: d.Version}
}

package result

// Payload is the bytes one request and its answer put on the wire, on
// average: HTTP bodies or gRPC messages, without headers and framing.
type Payload struct {
	RequestBytes  float64 `json:"request_bytes"`
	ResponseBytes float64 `json:"response_bytes"`
}

// OutputCheck is the comparison of what the deployments answered for the
// same images, before the load (the first answer to each image).
type OutputCheck struct {
	// Images are the images compared, in order.
	Images []string `json:"images"`
	// Tolerance is how far boxes may differ and still be the same: their
	// corners in 0..1 of the image, their confidence in 0..1.
	Tolerance struct {
		Coord      float64 `json:"coord"`
		Confidence float64 `json:"confidence"`
	} `json:"tolerance"`
	// Verdict is OutputsSame, OutputsDiffer or OutputsNotCompared.
	Verdict     string              `json:"verdict"`
	Deployments []DeploymentOutputs `json:"deployments"`
}

// Output check verdicts and deployment statuses.
const (
	OutputsSame        = "same"         // every deployment agrees with the reference
	OutputsDiffer      = "differ"       // at least one does not
	OutputsNotCompared = "not compared" // fewer than two deployments could be read
	OutputReference    = "reference"    // the deployment the others are compared with
	OutputDiffers      = "differs"
	OutputUnreadable   = "unreadable" // its answers could not be read or compared
)

// DeploymentOutputs is one deployment's answers to the images.
type DeploymentOutputs struct {
	Name string `json:"name"`
	// Boxes counts the detections per image; -1 where the answer's
	// format is not known.
	Boxes []int `json:"boxes"`
	// Fingerprints are the reference server's, per image ("" if none).
	Fingerprints []string `json:"fingerprints,omitempty"`
	// Status is OutputReference, OutputsSame, OutputDiffers or
	// OutputUnreadable; Detail says why.
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

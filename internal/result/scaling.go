package result

// Scaling is how the deployment behind the endpoint scaled during a step:
// its replicas each second of the run's timeline and the replicas'
// events (created, scheduled, ready, first success, removed). It is
// recorded when a scale source is given (a Kubernetes Deployment, or the
// reference server's autoscaled pod); reports derive the scale-up lag,
// cold start and recovery from it and the run's timeline.
type Scaling struct {
	// Source names what was observed: "deployment ml/yolo" or
	// "refserver pod autoscaled".
	Source string `json:"source"`
	// Seconds has one record per second of the run, aligned with
	// Run.Timeline (Second 0 is its first interval), and records before
	// the run (negative Second) when observation began earlier.
	Seconds []ScaleSecond `json:"seconds"`
	// Events are the replicas' events, oldest first.
	Events []ScaleEvent `json:"events,omitempty"`
}

// ScaleSecond is the replicas at the end of one second of the run.
type ScaleSecond struct {
	Second int `json:"second"`
	// Desired and Ready are the Deployment's (spec.replicas,
	// status.readyReplicas) or the emulated autoscaler's.
	Desired int `json:"desired"`
	Ready   int `json:"ready"`
	// HPACurrent and HPADesired are the HorizontalPodAutoscaler's
	// status.currentReplicas and desiredReplicas, when there is one.
	HPACurrent *int `json:"hpa_current,omitempty"`
	HPADesired *int `json:"hpa_desired,omitempty"`
	// ServiceReady and ServiceReplicas are a KServe InferenceService's
	// Ready condition and its predictor's replicas, when there is one.
	ServiceReady    *bool `json:"service_ready,omitempty"`
	ServiceReplicas *int  `json:"service_replicas,omitempty"`
}

// Kinds of ScaleEvent.
const (
	ScaleCreated      = "created"
	ScaleScheduled    = "scheduled"
	ScaleReady        = "ready"
	ScaleFirstSuccess = "first_success"
	ScaleRemoved      = "removed"
)

// ScaleEvent is one replica's event.
type ScaleEvent struct {
	// AtS is when it happened, in seconds from the run's start (the start
	// of its first timeline interval); negative before the run.
	AtS     float64 `json:"at_s"`
	Kind    string  `json:"kind"`
	Replica string  `json:"replica"`
}

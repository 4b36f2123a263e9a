package result

// Pods is what Kubernetes said about a deployment's pods over one step:
// their state before and after, their peak usage from metrics.k8s.io when
// it answers, and the warning events seen meanwhile.
type Pods struct {
	Namespace string `json:"namespace"`
	Selector  string `json:"selector"`
	// Metrics is true when metrics.k8s.io answered (kubectl top pod).
	Metrics bool     `json:"metrics"`
	Pods    []Pod    `json:"pods"`
	Events  []string `json:"events,omitempty"`
}

// Pod is one pod over a step. Resources sum the pod's containers; a
// limit is 0 when some container has none.
type Pod struct {
	Name           string `json:"name"`
	Phase          string `json:"phase"`
	Ready          bool   `json:"ready"`
	RestartsBefore int32  `json:"restarts_before"`
	RestartsAfter  int32  `json:"restarts_after"`
	// LastTermination is the reason a container last ended (OOMKilled, Error).
	LastTermination string `json:"last_termination,omitempty"`
	// Gone is true when the pod disappeared during the step; New when it
	// appeared during it.
	Gone               bool  `json:"gone,omitempty"`
	New                bool  `json:"new,omitempty"`
	CPURequestMilli    int64 `json:"cpu_request_milli,omitempty"`
	CPULimitMilli      int64 `json:"cpu_limit_milli,omitempty"`
	MemoryRequestBytes int64 `json:"memory_request_bytes,omitempty"`
	MemoryLimitBytes   int64 `json:"memory_limit_bytes,omitempty"`
	// Usage over the step's samples, when metrics.k8s.io answered.
	CPUMilliMax     int64 `json:"cpu_milli_max,omitempty"`
	CPUMilliMean    int64 `json:"cpu_milli_mean,omitempty"`
	MemoryBytesMax  int64 `json:"memory_bytes_max,omitempty"`
	MemoryBytesMean int64 `json:"memory_bytes_mean,omitempty"`
}

package result

// Stability is how a level measured in windows settled (perf_analyzer's
// rule: over the last three windows, max/min of throughput and of p50
// within the threshold). An unstable level is flagged here and in the
// search that measured it, never silently used.
type Stability struct {
	Stable         bool `json:"stable"`
	Windows        int  `json:"windows"`
	WindowRequests int  `json:"window_requests"`
	// ThroughputSpread and P50Spread are max/min - 1 over the last three
	// windows (0.08 is 8%).
	ThroughputSpread float64 `json:"throughput_spread"`
	P50Spread        float64 `json:"p50_spread"`
	// Note says why the measurement of the level ended.
	Note string `json:"note,omitempty"`
}

// Search statuses.
const (
	SearchRunning        = "running" // in a checkpoint written while it runs
	SearchComplete       = "complete"
	SearchBaselineFailed = "baseline failed"
	SearchInterrupted    = "interrupted"
)

// Search is one deployment's sweet-spot search (`inferbench sweep`): its
// objective, every level it measured in order, and what it concluded.
// Each measured level is also a run in runs[].
type Search struct {
	Deployment Deployment      `json:"deployment"`
	Mode       string          `json:"mode"` // ModeConcurrency or ModeRate
	Objective  SearchObjective `json:"objective"`
	// MaxConcurrency is the highest level the search could try (in rate
	// mode: the requests in flight at most); MaxRate the highest rate.
	MaxConcurrency int     `json:"max_concurrency"`
	MaxRate        float64 `json:"max_rate,omitempty"`
	Status         string  `json:"status"`
	// End is how the search ended (plateau, bisected, maximum reached,
	// baseline failed, interrupted) and Reason says it in words.
	End    string `json:"end"`
	Reason string `json:"reason"`
	// Baseline is the deployment at concurrency 1.
	Baseline *OperatingPoint `json:"baseline"`
	// SweetSpot is the level with the highest throughput that meets the
	// objective (within 5% of it: the lowest such level).
	SweetSpot *OperatingPoint `json:"sweet_spot"`
	// MaxUsefulConcurrency is the level past which throughput stops
	// growing (by 5% a doubling); in rate mode MaxUsefulRate.
	MaxUsefulConcurrency int     `json:"max_useful_concurrency"`
	MaxUsefulRate        float64 `json:"max_useful_rate,omitempty"`
	// BreakingPoint is the first level with more than 10% errors or an
	// SLO miss; null when the search met none.
	BreakingPoint *OperatingPoint `json:"breaking_point"`
	// RecommendedRange is [low, high]: the levels that meet the objective
	// with at least 70% of the sweet spot's throughput, up to the max
	// useful level; empty when none does.
	RecommendedRange []float64    `json:"recommended_range"`
	Path             []SearchStep `json:"path"`
	Notes            []string     `json:"notes"`
}

// SearchObjective is what a level had to meet to pass.
type SearchObjective struct {
	MaxErrorRate    float64 `json:"max_error_rate"`
	MaxLatencyRatio float64 `json:"max_latency_ratio"` // p50 over the baseline's; 0: not checked
	SLO             string  `json:"slo,omitempty"`     // e.g. "p99<=200ms"
}

// OperatingPoint is one measured level in short.
type OperatingPoint struct {
	Concurrency   int     `json:"concurrency"`
	Rate          float64 `json:"rate"`
	ThroughputRPS float64 `json:"throughput_rps"`
	P50Ms         float64 `json:"p50_ms"`
	P99Ms         float64 `json:"p99_ms"`
	ErrorRate     float64 `json:"error_rate"`
	Stable        bool    `json:"stable"`
}

// SearchStep is one level of a search, in the order measured.
type SearchStep struct {
	OperatingPoint
	Phase  string `json:"phase"` // baseline, rise, back off, bisect
	Passed bool   `json:"passed"`
	Why    string `json:"why,omitempty"` // why it missed the objective
}

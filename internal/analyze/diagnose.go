package analyze

import "fmt"

// Diagnosis thresholds from the field guide's problems.
const (
	// QueueShareLimit: queue time above this share of the p50 means the
	// server is saturated at the level: requests wait more than they run.
	QueueShareLimit = 0.5
	// ServerCPULimit and GPUIdleLimit: a server CPU at 90% or more while
	// its GPU works less than half the time is the guide's CPU bottleneck.
	ServerCPULimit = 0.90
	GPUIdleLimit   = 0.50
)

// ServerView is what the server said about a step, as the diagnosis needs it.
type ServerView struct {
	Concurrency  int
	ClientP50Ms  float64
	QueueMs      float64
	ComputeMs    float64
	AvgBatchSize float64
	CPUUtil      float64 // 0..1, -1 unknown
	GPUUtil      float64 // 0..1, -1 unknown
}

// Diagnose applies the guide's rules to one step and returns its findings
// with their evidence.
func Diagnose(v ServerView) []string {
	var notes []string
	if v.ClientP50Ms > 0 && v.QueueMs > QueueShareLimit*v.ClientP50Ms {
		notes = append(notes, fmt.Sprintf("queueing dominates: %.2f ms of the %.2f ms p50 is spent waiting in the server's queue (%.0f%%): the server is saturated at this load; more concurrency only adds latency",
			v.QueueMs, v.ClientP50Ms, 100*v.QueueMs/v.ClientP50Ms))
	}
	if v.AvgBatchSize > 1.05 && v.Concurrency > 1 {
		notes = append(notes, fmt.Sprintf("batching works: executions hold %.1f requests on average at concurrency %d (%.0f%% of the requests in flight)",
			v.AvgBatchSize, v.Concurrency, 100*v.AvgBatchSize/float64(v.Concurrency)))
	}
	if v.CPUUtil >= ServerCPULimit && (v.GPUUtil < 0 || v.GPUUtil < GPUIdleLimit) {
		gpu := "no GPU utilisation exported"
		if v.GPUUtil >= 0 {
			gpu = fmt.Sprintf("GPU busy %.0f%%", 100*v.GPUUtil)
		}
		notes = append(notes, fmt.Sprintf("CPU bottleneck: the server's CPU is at %.0f%% (%s): preprocessing or the Python GIL limits throughput; check CPU limits", 100*v.CPUUtil, gpu))
	}
	return notes
}

package observe

import (
	"time"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// FromStatistics turns Triton's statistics (HTTP /v2/models/{m}/stats or
// gRPC ModelStatistics), the alternative to its metrics, into counters.
// The statistics carry no GPU or CPU gauges.
func FromStatistics(resp *pb.ModelStatisticsResponse, model, version string) Counters {
	c := Counters{At: time.Now(), GPUUtil: -1, GPUMemoryBytes: -1, CPUUtil: -1, PodRestarts: -1, PodMemoryInflight: -1}
	for _, m := range resp.GetModelStats() {
		if m.GetName() != model || (version != "" && m.GetVersion() != version) {
			continue
		}
		s := m.GetInferenceStats()
		c.Found = true
		c.Success += float64(s.GetSuccess().GetCount())
		c.Failure += float64(s.GetFail().GetCount())
		c.InferenceCount += float64(m.GetInferenceCount())
		c.ExecCount += float64(m.GetExecutionCount())
		us := func(d *pb.StatisticDuration) float64 { return float64(d.GetNs()) / 1000 }
		c.RequestUs += us(s.GetSuccess()) + us(s.GetFail())
		c.QueueUs += us(s.GetQueue())
		c.ComputeInputUs += us(s.GetComputeInput())
		c.ComputeInferUs += us(s.GetComputeInfer())
		c.ComputeOutUs += us(s.GetComputeOutput())
	}
	return c
}

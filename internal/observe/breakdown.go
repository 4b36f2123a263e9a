package observe

import (
	"errors"
	"fmt"
	"math"
)

// Breakdown is what the server says about a step: per-request averages
// over the step, from the difference of its counters before and after.
type Breakdown struct {
	QueueMs         float64 `json:"queue_ms"`
	ComputeInputMs  float64 `json:"compute_input_ms"`
	ComputeInferMs  float64 `json:"compute_infer_ms"`
	ComputeOutputMs float64 `json:"compute_output_ms"`
	AvgBatchSize    float64 `json:"avg_batch_size"`
	Success         int64   `json:"success"`
	Failure         int64   `json:"failure"`
	GPUUtil         float64 `json:"gpu_util"`         // mean over the step's samples, 0..1; -1 when not exported
	GPUMemoryBytes  float64 `json:"gpu_memory_bytes"` // peak over the samples; -1 when not exported
	CPUUtil         float64 `json:"cpu_util"`         // mean over the samples, 0..1; -1 when not exported
	// PeakMemoryInflightBytes is the reference server's pod memory gauge
	// at its highest over the samples; -1 when not exported.
	PeakMemoryInflightBytes float64 `json:"peak_memory_inflight_bytes"`
	Samples                 int     `json:"samples"`
	Source                  string  `json:"source"` // "metrics" or "statistics"
}

// ComputeMs is the time the model spent on a request.
func (b Breakdown) ComputeMs() float64 {
	return b.ComputeInputMs + b.ComputeInferMs + b.ComputeOutputMs
}

// ErrRestarted is Derive's error when the server restarted during the
// step: its counters went back, or its restart count went up.
var ErrRestarted = errors.New("the server restarted during the step")

// Derive computes a step's breakdown from the counters before and after
// it and the samples taken during it. Queue and compute times count
// successful requests, as Triton's counters do.
func Derive(before, after Counters, during []Counters) (Breakdown, error) {
	if !before.Found || !after.Found {
		return Breakdown{}, fmt.Errorf("the metrics hold no counters for the model")
	}
	if after.PodRestarts > before.PodRestarts {
		return Breakdown{}, fmt.Errorf("%w: its pod restarted %.0f time(s) (OOM-killed)", ErrRestarted, after.PodRestarts-before.PodRestarts)
	}
	if after.Success < before.Success || after.ExecCount < before.ExecCount {
		return Breakdown{}, fmt.Errorf("%w: its counters went back", ErrRestarted)
	}
	ok := after.Success - before.Success
	b := Breakdown{
		Success: int64(math.Round(ok)), Failure: int64(math.Round(after.Failure - before.Failure)),
		GPUUtil: -1, GPUMemoryBytes: -1, CPUUtil: -1, PeakMemoryInflightBytes: -1, Source: "metrics",
	}
	if ok > 0 {
		per := func(a, z float64) float64 { return round3((z - a) / ok / 1000) }
		b.QueueMs = per(before.QueueUs, after.QueueUs)
		b.ComputeInputMs = per(before.ComputeInputUs, after.ComputeInputUs)
		b.ComputeInferMs = per(before.ComputeInferUs, after.ComputeInferUs)
		b.ComputeOutputMs = per(before.ComputeOutUs, after.ComputeOutUs)
	}
	if execs := after.ExecCount - before.ExecCount; execs > 0 {
		b.AvgBatchSize = round3((after.InferenceCount - before.InferenceCount) / execs)
	}
	samples := append(append([]Counters{before}, during...), after)
	b.Samples = len(samples)
	var gpu, cpu []float64
	for _, s := range samples {
		if s.PodMemoryInflight >= 0 {
			b.PeakMemoryInflightBytes = math.Max(b.PeakMemoryInflightBytes, s.PodMemoryInflight)
		}
		if s.GPUUtil >= 0 {
			gpu = append(gpu, s.GPUUtil)
		}
		if s.CPUUtil >= 0 {
			cpu = append(cpu, s.CPUUtil)
		}
		if s.GPUMemoryBytes >= 0 {
			b.GPUMemoryBytes = math.Max(b.GPUMemoryBytes, s.GPUMemoryBytes)
		}
	}
	if len(gpu) > 0 {
		b.GPUUtil = round3(mean(gpu))
	}
	if len(cpu) > 0 {
		b.CPUUtil = round3(mean(cpu))
	}
	return b, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Explain is the breakdown of a client latency: "p50 18.20 ms = queue 9.10
// + compute 7.30 + network/client 1.80". The server's figures are means;
// the rest is what the client saw beyond them (transport, its own work).
func Explain(clientP50 float64, b Breakdown) string {
	rest := clientP50 - b.QueueMs - b.ComputeMs()
	return fmt.Sprintf("p50 %.2f ms = queue %.2f + compute %.2f + network/client %.2f ms (server means over %d requests)",
		clientP50, b.QueueMs, b.ComputeMs(), rest, b.Success)
}

// CrossCheck compares the server's count of successes with the client's;
// it returns a note when they disagree by more than the warmup and a
// tolerance of 1%.
func CrossCheck(b Breakdown, clientOK, warmup int64) string {
	diff := b.Success - clientOK
	if diff < 0 {
		diff = -diff
	}
	if diff <= warmup+clientOK/100 {
		return ""
	}
	return fmt.Sprintf("the server counted %d successes, the client %d: another client shares the server, or the metrics belong to another model or pod", b.Success, clientOK)
}

package refserver

import (
	"sort"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// Failure reasons, as Triton labels nv_inference_request_failure.
const (
	ReasonRejected = "REJECTED" // refused before execution: queue full, pod down
	ReasonCanceled = "CANCELED" // the client went away
	ReasonBackend  = "BACKEND"  // the model failed (injected errors)
	ReasonOther    = "OTHER"
)

var failureReasons = []string{ReasonRejected, ReasonCanceled, ReasonBackend, ReasonOther}

// duration is a Triton StatisticDuration: a count and a total.
type duration struct {
	count uint64
	ns    uint64
}

func (d *duration) add(t time.Duration) {
	d.count++
	if t > 0 {
		d.ns += uint64(t)
	}
}

func (d duration) proto() *pb.StatisticDuration {
	return &pb.StatisticDuration{Count: d.count, Ns: d.ns}
}

// modelStats accumulates one model's statistics exactly as served. Like
// Triton, queue and compute times and inference and execution counts cover
// successful requests; a failed request adds to fail (and to its reason)
// only. Requests refused while decoding, before they reach the model, are not
// counted at all, as in Triton.
type modelStats struct {
	mu             sync.Mutex
	lastInference  time.Time
	inferenceCount uint64 // batch elements of successful requests
	executionCount uint64 // executions (one dynamic batch counts once)
	success, fail  duration
	queue          duration
	computeInput   duration
	computeInfer   duration
	computeOutput  duration
	batches        map[uint64]*batchStat // by executed batch size
	failures       map[string]uint64     // by reason
}

type batchStat struct {
	computeInput, computeInfer, computeOutput duration
}

func newModelStats() *modelStats {
	return &modelStats{batches: map[uint64]*batchStat{}, failures: map[string]uint64{}}
}

// recordSuccess accounts for one successful request of batch size batch
// that took total from acceptance to response.
func (s *modelStats) recordSuccess(batch int, total time.Duration, t Timing, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastInference = now
	s.success.add(total)
	s.queue.add(t.Queue)
	s.computeInput.add(t.ComputeInput)
	s.computeInfer.add(t.ComputeInfer)
	s.computeOutput.add(t.ComputeOutput)
	s.inferenceCount += uint64(batch)
	if t.Leader {
		s.executionCount++
		b := s.batches[uint64(t.ExecutedBatch)]
		if b == nil {
			b = &batchStat{}
			s.batches[uint64(t.ExecutedBatch)] = b
		}
		b.computeInput.add(t.ComputeInput)
		b.computeInfer.add(t.ComputeInfer)
		b.computeOutput.add(t.ComputeOutput)
	}
}

// recordFailure accounts for one failed request.
func (s *modelStats) recordFailure(reason string, total time.Duration, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastInference = now
	s.fail.add(total)
	s.failures[reason]++
}

// snapshot is a consistent copy of the statistics.
type snapshot struct {
	lastInference                                    time.Time
	inferenceCount, executionCount                   uint64
	success, fail, queue, computeInput, computeInfer duration
	computeOutput                                    duration
	batches                                          map[uint64]batchStat
	failures                                         map[string]uint64
}

func (s *modelStats) snapshot() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := snapshot{
		lastInference: s.lastInference, inferenceCount: s.inferenceCount, executionCount: s.executionCount,
		success: s.success, fail: s.fail, queue: s.queue, computeInput: s.computeInput,
		computeInfer: s.computeInfer, computeOutput: s.computeOutput,
		batches: make(map[uint64]batchStat, len(s.batches)), failures: make(map[string]uint64, len(s.failures)),
	}
	for k, v := range s.batches {
		snap.batches[k] = *v
	}
	for k, v := range s.failures {
		snap.failures[k] = v
	}
	return snap
}

// proto renders a snapshot as Triton's ModelStatistics.
func (snap snapshot) proto(name, version string) *pb.ModelStatistics {
	var last uint64
	if !snap.lastInference.IsZero() {
		last = uint64(snap.lastInference.UnixMilli())
	}
	ms := &pb.ModelStatistics{
		Name: name, Version: version, LastInference: last,
		InferenceCount: snap.inferenceCount, ExecutionCount: snap.executionCount,
		InferenceStats: &pb.InferStatistics{
			Success: snap.success.proto(), Fail: snap.fail.proto(), Queue: snap.queue.proto(),
			ComputeInput: snap.computeInput.proto(), ComputeInfer: snap.computeInfer.proto(),
			ComputeOutput: snap.computeOutput.proto(),
			CacheHit:      &pb.StatisticDuration{}, CacheMiss: &pb.StatisticDuration{},
		},
		ResponseStats: map[string]*pb.InferResponseStatistics{},
		MemoryUsage:   []*pb.MemoryUsage{},
	}
	sizes := make([]uint64, 0, len(snap.batches))
	for size := range snap.batches {
		sizes = append(sizes, size)
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
	for _, size := range sizes {
		b := snap.batches[size]
		ms.BatchStats = append(ms.BatchStats, &pb.InferBatchStatistics{
			BatchSize: size, ComputeInput: b.computeInput.proto(),
			ComputeInfer: b.computeInfer.proto(), ComputeOutput: b.computeOutput.proto(),
		})
	}
	return ms
}

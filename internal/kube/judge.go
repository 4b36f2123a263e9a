package kube

import (
	"fmt"
	"math"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
)

// GuideBytesPerRequest is the field guide's typical memory per in-flight
// request (~100 MB: 32 concurrent = 3.2 GB), used when usage was not
// measured at two concurrencies.
const GuideBytesPerRequest = 100e6

// The judgement of a step's pods (restarts that make it invalid, usage
// against the limits) is analyze's: PodsInvalid and PodsNotes, applied to
// the pods recorded in the result file whenever a report is rendered.

// MemoryPoint is one step's peak memory per pod at its concurrency per
// pod.
type MemoryPoint struct {
	Concurrency float64 // in flight per pod
	Bytes       float64
}

// PerRequest estimates memory per in-flight request from steps at
// different concurrencies: the slope of a least-squares line through the
// points, and its intercept (the memory of an idle pod). ok is false with
// fewer than two concurrencies or when memory did not grow.
func PerRequest(points []MemoryPoint) (perRequest, base float64, ok bool) {
	n := float64(len(points))
	var sx, sy, sxx, sxy float64
	for _, p := range points {
		sx += p.Concurrency
		sy += p.Bytes
		sxx += p.Concurrency * p.Concurrency
		sxy += p.Concurrency * p.Bytes
	}
	den := n*sxx - sx*sx
	if len(points) < 2 || den <= 1e-9 {
		return 0, 0, false
	}
	slope := (n*sxy - sx*sy) / den
	if slope <= 0 {
		return 0, 0, false
	}
	return slope, (sy - slope*sx) / n, true
}

// OOMRisk is the guide's calculation (memory per request x concurrency
// against the pod's limit) for a step at concurrency c spread over the
// live pods. Memory per request is measured from earlier steps when
// possible, else the guide's 100 MB. It returns "" when there is no risk
// or nothing to compare with.
func OOMRisk(points []MemoryPoint, c int, pods []result.Pod) string {
	var live int
	var limit int64
	for _, p := range pods {
		if p.Gone {
			continue
		}
		live++
		if p.MemoryLimitBytes > 0 && (limit == 0 || p.MemoryLimitBytes < limit) {
			limit = p.MemoryLimitBytes
		}
	}
	if c < 1 || live == 0 || limit == 0 {
		return ""
	}
	perPod := float64(c) / float64(live)
	perReq, base, measured := PerRequest(points)
	from := fmt.Sprintf("measured from memory growth across %d steps", len(points))
	if !measured {
		perReq, base, from = GuideBytesPerRequest, 0, "the field guide's typical ~100 MB"
	}
	need := base + perReq*perPod
	if need < analyze.MemoryNearLimit*float64(limit) {
		return ""
	}
	safe := int(math.Floor((analyze.MemoryNearLimit*float64(limit)-base)/perReq)) * live
	return fmt.Sprintf("OOM risk: %s per in-flight request x %.3g in flight per pod (+ %s base) = %s against a %s memory limit (per-request memory %s): keep concurrency at or below about %d, or raise the limit",
		analyze.Bytes(perReq), perPod, analyze.Bytes(base), analyze.Bytes(need), analyze.Bytes(float64(limit)), from, max(safe, 1))
}

package kube

import (
	"fmt"
	"math"

	"github.com/inferbench/inferbench/internal/result"
)

// Thresholds of the notes: usage at or above this share of the limit.
const (
	CPUAtLimit      = 0.90
	MemoryNearLimit = 0.90
	// GuideBytesPerRequest is the field guide's typical memory per
	// in-flight request (~100 MB: 32 concurrent = 3.2 GB), used when
	// usage was not measured at two concurrencies.
	GuideBytesPerRequest = 100e6
)

// Invalid lists why a step's pods make its numbers untrustworthy: a
// container restarted (an OOM kill says so), or a pod went away.
func Invalid(pods []result.Pod) []string {
	var out []string
	for _, p := range pods {
		switch {
		case p.RestartsAfter > p.RestartsBefore && p.LastTermination == "OOMKilled":
			out = append(out, fmt.Sprintf("pod %s was OOM-killed during the step (restarts %d -> %d): its memory limit is too small for this load",
				p.Name, p.RestartsBefore, p.RestartsAfter))
		case p.RestartsAfter > p.RestartsBefore:
			why := ""
			if p.LastTermination != "" {
				why = ", last termination: " + p.LastTermination
			}
			out = append(out, fmt.Sprintf("pod %s restarted during the step (restarts %d -> %d%s)", p.Name, p.RestartsBefore, p.RestartsAfter, why))
		case p.Gone:
			out = append(out, fmt.Sprintf("pod %s went away during the step (deleted, evicted or replaced)", p.Name))
		}
	}
	return out
}

// UsageNotes are the notes on the pods' usage against their limits: CPU
// at the limit (throttled: the guide's CPU bottleneck), memory near it
// (the next step up risks an OOM kill), and pods not ready at the end.
func UsageNotes(pods []result.Pod) []string {
	var out []string
	for _, p := range pods {
		if p.Gone {
			continue
		}
		if p.CPULimitMilli > 0 && float64(p.CPUMilliMax) >= CPUAtLimit*float64(p.CPULimitMilli) {
			out = append(out, fmt.Sprintf("CPU at limit: pod %s used %dm of its %dm CPU limit (%.0f%%): it is throttled and throughput plateaus; raise the CPU limit or reduce concurrency",
				p.Name, p.CPUMilliMax, p.CPULimitMilli, 100*float64(p.CPUMilliMax)/float64(p.CPULimitMilli)))
		}
		if p.MemoryLimitBytes > 0 && float64(p.MemoryBytesMax) >= MemoryNearLimit*float64(p.MemoryLimitBytes) {
			out = append(out, fmt.Sprintf("memory near limit: pod %s used %s of its %s memory limit (%.0f%%): a higher concurrency risks an OOM kill",
				p.Name, Bytes(float64(p.MemoryBytesMax)), Bytes(float64(p.MemoryLimitBytes)), 100*float64(p.MemoryBytesMax)/float64(p.MemoryLimitBytes)))
		}
		if !p.Ready {
			out = append(out, fmt.Sprintf("pod %s was not ready at the end of the step (phase %s)", p.Name, p.Phase))
		}
	}
	return out
}

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
	if need < MemoryNearLimit*float64(limit) {
		return ""
	}
	safe := int(math.Floor((MemoryNearLimit*float64(limit)-base)/perReq)) * live
	return fmt.Sprintf("OOM risk: %s per in-flight request x %.3g in flight per pod (+ %s base) = %s against a %s memory limit (per-request memory %s): keep concurrency at or below about %d, or raise the limit",
		Bytes(perReq), perPod, Bytes(base), Bytes(need), Bytes(float64(limit)), from, max(safe, 1))
}

// Bytes formats a size in decimal units, as the guide writes them.
func Bytes(b float64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.1f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.0f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.0f kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

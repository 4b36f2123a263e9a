package analyze

import (
	"fmt"

	"github.com/inferbench/inferbench/internal/result"
)

// Thresholds of the pod notes: usage at or above this share of the limit.
const (
	CPUAtLimit      = 0.90
	MemoryNearLimit = 0.90
)

// PodsInvalid lists why a step's pods make its numbers untrustworthy, from
// what Kubernetes recorded about them: a container restarted (an OOM kill
// says so), or a pod went away.
func PodsInvalid(pods []result.Pod) []string {
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

// PodsNotes are the notes on the pods' usage against their limits: CPU
// at the limit (throttled: the guide's CPU bottleneck), memory near it
// (the next step up risks an OOM kill), and pods not ready at the end.
func PodsNotes(pods []result.Pod) []string {
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

package report

import (
	"fmt"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
)

// maxPodsShown caps the pods described per run.
const maxPodsShown = 5

// podsSummary describes a run's pods in one line: state, restarts over
// the step, and peak usage against the limits. "" when pod checks were off.
func podsSummary(p *result.Pods) string {
	if p == nil {
		return ""
	}
	var parts []string
	for i, pod := range p.Pods {
		if i == maxPodsShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(p.Pods)-maxPodsShown))
			break
		}
		s := pod.Name + " " + pod.Phase
		switch {
		case pod.Gone:
			s += " gone"
		case pod.Ready:
			s += " ready"
		default:
			s += " not ready"
		}
		s += fmt.Sprintf(", restarts %d->%d", pod.RestartsBefore, pod.RestartsAfter)
		if pod.LastTermination != "" {
			s += " (last: " + pod.LastTermination + ")"
		}
		if p.Metrics {
			s += fmt.Sprintf(", CPU max %dm%s, memory max %.0f MB%s", pod.CPUMilliMax, limitOf(pod.CPULimitMilli, "m", 1),
				float64(pod.MemoryBytesMax)/1e6, limitOf(pod.MemoryLimitBytes, " MB", 1e6))
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("pods in %s (%s): %s", p.Namespace, p.Selector, strings.Join(parts, "; "))
}

func limitOf(limit int64, unit string, scale float64) string {
	if limit == 0 {
		return " (no limit)"
	}
	return fmt.Sprintf(" of %.0f%s limit", float64(limit)/scale, unit)
}

package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/inferbench/inferbench/internal/result"
)

// podState is what one look at a pod shows, in result terms: usage is
// left for usage to fill.
func podState(p *corev1.Pod) result.Pod {
	s := result.Pod{Name: p.Name, Phase: string(p.Status.Phase)}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			s.Ready = c.Status == corev1.ConditionTrue
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		s.RestartsAfter += cs.RestartCount
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason != "" {
			s.LastTermination = t.Reason
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" {
			s.LastTermination = t.Reason
		}
	}
	s.RestartsBefore = s.RestartsAfter
	limitCPU, limitMem := true, true
	for _, c := range p.Spec.Containers {
		s.CPURequestMilli += c.Resources.Requests.Cpu().MilliValue()
		s.MemoryRequestBytes += c.Resources.Requests.Memory().Value()
		if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
			s.CPULimitMilli += q.MilliValue()
		} else {
			limitCPU = false
		}
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			s.MemoryLimitBytes += q.Value()
		} else {
			limitMem = false
		}
	}
	if !limitCPU {
		s.CPULimitMilli = 0
	}
	if !limitMem {
		s.MemoryLimitBytes = 0
	}
	return s
}

// usage is one pod's CPU (millicores) and memory (bytes), its
// containers summed, as kubectl top pod shows it.
type usage struct {
	cpuMilli, memBytes int64
}

// readUsage asks metrics.k8s.io for the usage of the selected pods.
func readUsage(ctx context.Context, c *Clients, ns string, sel labels.Selector) (map[string]usage, error) {
	list, err := c.Metrics.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("metrics.k8s.io: %w", err)
	}
	out := make(map[string]usage, len(list.Items))
	for _, pm := range list.Items {
		var u usage
		for _, cm := range pm.Containers {
			u.cpuMilli += cm.Usage.Cpu().MilliValue()
			u.memBytes += cm.Usage.Memory().Value()
		}
		out[pm.Name] = u
	}
	return out, nil
}

package kube

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/inferbench/inferbench/internal/scaling"
)

// InferenceServices is KServe's resource, read with the dynamic client.
var InferenceServices = schema.GroupVersionResource{Group: "serving.kserve.io", Version: "v1beta1", Resource: "inferenceservices"}

// isvcLabel is the label KServe puts on an InferenceService's pods.
const isvcLabel = "serving.kserve.io/inferenceservice"

// ScaleSource is a scaling.Source over Kubernetes: an apps/v1 Deployment's
// replicas (spec.replicas desired, status.readyReplicas ready), the
// autoscaling/v2 HorizontalPodAutoscaler whose scaleTargetRef is that
// Deployment (status.currentReplicas, desiredReplicas), a KServe
// InferenceService's Ready condition and its ready pods, and each pod's
// creation, PodScheduled and Ready times.
type ScaleSource struct {
	Clients          *Clients
	Namespace        string
	Deployment       string // may be empty with an InferenceService
	InferenceService string // may be empty
}

// Describe names what is observed.
func (s *ScaleSource) Describe() string {
	what := "deployment " + s.Namespace + "/" + s.Deployment
	if s.Deployment == "" {
		what = "inferenceservice " + s.Namespace + "/" + s.InferenceService
	} else if s.InferenceService != "" {
		what += ", inferenceservice " + s.InferenceService
	}
	return what
}

// Sample reads the objects once.
func (s *ScaleSource) Sample(ctx context.Context) (scaling.Sample, error) {
	if s.Deployment == "" && s.InferenceService == "" {
		return scaling.Sample{}, errors.New("scale source: no deployment or inferenceservice named")
	}
	var out scaling.Sample
	var sel labels.Selector
	if s.Deployment != "" {
		d, err := s.Clients.Core.AppsV1().Deployments(s.Namespace).Get(ctx, s.Deployment, metav1.GetOptions{})
		if err != nil {
			return out, fmt.Errorf("deployment %s/%s: %w", s.Namespace, s.Deployment, err)
		}
		out.Desired = 1
		if d.Spec.Replicas != nil {
			out.Desired = int(*d.Spec.Replicas)
		}
		out.Ready = int(d.Status.ReadyReplicas)
		if sel, err = metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil {
			return out, fmt.Errorf("deployment %s/%s selector: %w", s.Namespace, s.Deployment, err)
		}
		if err := s.hpa(ctx, &out); err != nil {
			return out, err
		}
	}
	if s.InferenceService != "" {
		if err := s.isvc(ctx, &out); err != nil {
			return out, err
		}
		if sel == nil {
			sel = labels.SelectorFromSet(labels.Set{isvcLabel: s.InferenceService})
		}
	}
	pods, err := ListPods(ctx, s.Clients, s.Namespace, sel)
	if err != nil {
		return out, err
	}
	ready := 0
	for i := range pods {
		r := podReplica(&pods[i])
		if !r.Ready.IsZero() {
			ready++
		}
		out.Replicas = append(out.Replicas, r)
	}
	if s.Deployment == "" {
		out.Desired, out.Ready = len(pods), ready
	}
	if s.InferenceService != "" {
		out.ServiceReplicas = &ready
	}
	return out, nil
}

// hpa finds the HorizontalPodAutoscaler that scales the Deployment.
func (s *ScaleSource) hpa(ctx context.Context, out *scaling.Sample) error {
	list, err := s.Clients.Core.AutoscalingV2().HorizontalPodAutoscalers(s.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil // no HPA API, or not allowed: no HPA figures
	}
	for i := range list.Items {
		h := &list.Items[i]
		if ref := h.Spec.ScaleTargetRef; ref.Kind == "Deployment" && ref.Name == s.Deployment {
			cur, want := int(h.Status.CurrentReplicas), int(h.Status.DesiredReplicas)
			out.HPACurrent, out.HPADesired = &cur, &want
			return nil
		}
	}
	return nil
}

// isvc reads the InferenceService's Ready condition.
func (s *ScaleSource) isvc(ctx context.Context, out *scaling.Sample) error {
	if s.Clients.Dynamic == nil {
		return errors.New("inferenceservice: no dynamic client")
	}
	u, err := s.Clients.Dynamic.Resource(InferenceServices).Namespace(s.Namespace).Get(ctx, s.InferenceService, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("inferenceservice %s/%s: %w", s.Namespace, s.InferenceService, err)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	ready := false
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Ready" {
			ready = m["status"] == "True"
		}
	}
	out.ServiceReady = &ready
	return nil
}

// podReplica is a pod's life: created, scheduled and ready (the
// conditions' transition times, when true).
func podReplica(p *corev1.Pod) scaling.Replica {
	r := scaling.Replica{Name: p.Name, Created: p.CreationTimestamp.Time}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case corev1.PodScheduled:
			r.Scheduled = c.LastTransitionTime.Time
		case corev1.PodReady:
			r.Ready = c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		r.Removed = p.DeletionTimestamp.Time
	}
	return r
}

package kube

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Target names a deployment's pods: a namespace and a label selector, a
// Deployment or a Service resolved to the pods they select, or several of
// those (the pods must then match all).
type Target struct {
	Namespace  string // empty: the context's namespace
	Selector   string // a label selector, as kubectl -l takes it
	Deployment string // an apps/v1 Deployment's name
	Service    string // a Service's name
	Context    string // the kubeconfig context; empty: the current one
}

// IsZero reports whether the target names no pods.
func (t Target) IsZero() bool {
	return t.Selector == "" && t.Deployment == "" && t.Service == ""
}

// Resolve turns a target into a label selector in its namespace: the
// selector given, and the Deployment's and the Service's selectors.
func Resolve(ctx context.Context, c *Clients, t Target) (ns string, sel labels.Selector, err error) {
	ns = t.Namespace
	if ns == "" {
		ns = c.Namespace
	}
	if t.IsZero() {
		return ns, nil, errors.New("no selector, deployment or service names the pods")
	}
	reqs := labels.Requirements{}
	add := func(s labels.Selector) {
		r, _ := s.Requirements()
		reqs = append(reqs, r...)
	}
	if t.Selector != "" {
		s, err := labels.Parse(t.Selector)
		if err != nil {
			return ns, nil, fmt.Errorf("selector %q: %w", t.Selector, err)
		}
		add(s)
	}
	if t.Deployment != "" {
		d, err := c.Core.AppsV1().Deployments(ns).Get(ctx, t.Deployment, metav1.GetOptions{})
		if err != nil {
			return ns, nil, fmt.Errorf("deployment %s/%s: %w", ns, t.Deployment, err)
		}
		s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return ns, nil, fmt.Errorf("deployment %s/%s selector: %w", ns, t.Deployment, err)
		}
		add(s)
	}
	if t.Service != "" {
		svc, err := c.Core.CoreV1().Services(ns).Get(ctx, t.Service, metav1.GetOptions{})
		if err != nil {
			return ns, nil, fmt.Errorf("service %s/%s: %w", ns, t.Service, err)
		}
		if len(svc.Spec.Selector) == 0 {
			return ns, nil, fmt.Errorf("service %s/%s has no selector: its pods cannot be found", ns, t.Service)
		}
		add(labels.SelectorFromSet(svc.Spec.Selector))
	}
	return ns, labels.NewSelector().Add(reqs...), nil
}

// ListPods lists the pods a selector matches in a namespace.
func ListPods(ctx context.Context, c *Clients, ns string, sel labels.Selector) ([]corev1.Pod, error) {
	list, err := c.Core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("listing pods in %s (%s): %w", ns, sel, err)
	}
	return list.Items, nil
}

package session

import (
	"context"

	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// applyPods completes a run with what Kubernetes said about the pods over
// the step: a restart or an OOM kill makes the step invalid (beside any
// reason the server's metrics gave), and usage against the limits becomes
// notes.
func applyPods(run *result.Run, g *kube.PodObservation) {
	view, invalid, notes := g.Stop()
	run.Pods = view
	if len(invalid) > 0 {
		if run.Validity == nil {
			run.Validity = &result.Validity{Reasons: []string{}}
		}
		run.Validity.Valid = false
		run.Validity.Reasons = append(run.Validity.Reasons, invalid...)
	}
	run.Assessment.Notes = append(run.Assessment.Notes, notes...)
}

// podWatch sets up the pod checks of a deployment, and says in one line
// whether they are on.
func (o *Options) podWatch(ctx context.Context, d plan.Deployment) (*kube.PodWatch, string) {
	k := d.Kubernetes
	if k == nil {
		return nil, kube.Off + " (no kubernetes section in the plan, no --kube-* flags)"
	}
	t := kube.Target{Namespace: k.Namespace, Selector: k.Selector, Deployment: k.Deployment, Service: k.Service, Context: k.Context}
	if o.PodWatch != nil {
		return o.PodWatch(ctx, t)
	}
	return kube.Setup(ctx, t, o.Kubeconfig)
}

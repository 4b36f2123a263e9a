package session

import (
	"context"

	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// applyPods completes a run with what Kubernetes said about the pods over
// the step; a restart or an OOM kill making it invalid is recomputed from
// the pods by analyze, and what the pods do not hold (a failed pod check,
// the OOM risk) is kept as facts.
func applyPods(run *result.Run, g *kube.PodObservation) {
	view, _, facts := g.Stop()
	run.Pods = view
	for _, f := range facts {
		run.Note(f)
	}
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

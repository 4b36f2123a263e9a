package cli

import (
	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/kube"
)

// addKubeFlags adds the pod-check flags: which pods serve the endpoint,
// and how to reach their cluster (as kubectl does).
func addKubeFlags(fl *pflag.FlagSet, t *kube.Target, kubeconfig *string) {
	fl.StringVar(&t.Namespace, "kube-namespace", "", "pod checks: the pods' namespace (default: the context's)")
	fl.StringVar(&t.Selector, "kube-selector", "", "pod checks: a label selector for the server's pods, e.g. app=triton; a restart or OOM kill during a level makes it INVALID")
	fl.StringVar(&t.Deployment, "kube-deployment", "", "pod checks: a Deployment whose pods serve the endpoint")
	fl.StringVar(&t.Service, "kube-service", "", "pod checks: a Service whose pods serve the endpoint")
	fl.StringVar(&t.Context, "kube-context", "", "pod checks: the kubeconfig context (default: the current one)")
	fl.StringVar(kubeconfig, "kubeconfig", "", "pod checks: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
}

package plan

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kubernetes names a deployment's pods, for the pod checks around each
// step: a label selector, a Deployment or a Service (resolved to the pods
// it selects), in a namespace, through a kubeconfig context.
type Kubernetes struct {
	Namespace  string // empty: the context's namespace
	Selector   string // a label selector, as kubectl -l takes it
	Deployment string
	Service    string
	Context    string // empty: the kubeconfig's current context
}

var kubernetesKeys = []string{"namespace", "selector", "deployment", "service", "context"}

// kubernetes parses a deployment's kubernetes section.
func (p *parser) kubernetes(n *yaml.Node, what string) (*Kubernetes, error) {
	f, err := p.mapping(n, what+" kubernetes", kubernetesKeys)
	if err != nil {
		return nil, err
	}
	k := &Kubernetes{}
	for key, dst := range map[string]*string{"namespace": &k.Namespace, "selector": &k.Selector, "deployment": &k.Deployment, "service": &k.Service, "context": &k.Context} {
		if v, ok := f[key]; ok {
			if err := p.scalar(v, what+" kubernetes."+key, dst); err != nil {
				return nil, err
			}
			*dst = strings.TrimSpace(*dst)
		}
	}
	if k.Selector == "" && k.Deployment == "" && k.Service == "" {
		return nil, p.errorf(n, "%s kubernetes: give a selector, a deployment or a service to find the pods", what)
	}
	return k, nil
}

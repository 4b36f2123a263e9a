package plan

import "strings"

// Kubernetes names a deployment's pods, for the pod checks around each
// step: a label selector, a Deployment or a Service (resolved to the pods
// it selects), in a namespace, through a kubeconfig context.
type Kubernetes struct {
	Namespace  string `yaml:"namespace,omitempty"` // empty: the context's namespace
	Selector   string `yaml:"selector,omitempty"`  // a label selector, as kubectl -l takes it
	Deployment string `yaml:"deployment,omitempty"`
	Service    string `yaml:"service,omitempty"`
	Context    string `yaml:"context,omitempty"` // empty: the kubeconfig's current context
}

// kubernetes checks a deployment's kubernetes section, trimming its
// values.
func (p *parser) kubernetes(k *Kubernetes, what string) error {
	for _, s := range []*string{&k.Namespace, &k.Selector, &k.Deployment, &k.Service, &k.Context} {
		*s = strings.TrimSpace(*s)
	}
	if k.Selector == "" && k.Deployment == "" && k.Service == "" {
		return p.errorf(p.node(k), "%s kubernetes: give a selector, a deployment or a service to find the pods", what)
	}
	return nil
}

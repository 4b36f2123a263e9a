package plan

import (
	"fmt"
	"strings"
)

// Loaders is a plan's loaders section: its load split over Count loaders
// started together on each step, their results merged exactly (run
// --loaders, whose flags win over these keys). Local runs them as
// processes on this machine; otherwise they are the pods of a Kubernetes
// Indexed Job, shaped by the other keys.
type Loaders struct {
	Count          int               `yaml:"count" plan:"required"`
	Local          bool              `yaml:"local,omitempty"`
	Image          string            `yaml:"image,omitempty"`
	Namespace      string            `yaml:"namespace,omitempty"`
	ServiceAccount string            `yaml:"service_account,omitempty"`
	CPU            string            `yaml:"cpu,omitempty"`
	Memory         string            `yaml:"memory,omitempty"`
	NodeSelector   map[string]string `yaml:"node_selector,omitempty"`
}

// MaxLoaders bounds a plan's loaders: a split finer than this is more
// likely a typo than a plan.
const MaxLoaders = 1000

// CheckLoaders checks a number of loaders (a plan's loaders.count,
// --loaders).
func CheckLoaders(n int) error {
	if n < 1 || n > MaxLoaders {
		return fmt.Errorf("%d loaders: want 1 to %d", n, MaxLoaders)
	}
	return nil
}

// loaders checks the loaders section, trimming its values.
func (p *parser) loaders(l *Loaders) error {
	if err := CheckLoaders(l.Count); err != nil {
		return p.errorf(p.node(&l.Count), "loaders.count: %v", err)
	}
	for _, s := range []*string{&l.Image, &l.Namespace, &l.ServiceAccount, &l.CPU, &l.Memory} {
		*s = strings.TrimSpace(*s)
	}
	return nil
}

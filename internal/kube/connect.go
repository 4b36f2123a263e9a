// Package kube watches the Kubernetes pods behind a deployment while it is
// measured: their restarts and OOM kills (which make a step invalid), their
// readiness, requests and limits, and their CPU and memory usage from
// metrics.k8s.io when the cluster serves it (what `kubectl top pod` shows).
// Nothing in it is required: without a cluster pod checks are off.
package kube

import (
	"errors"
	"fmt"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	metrics "k8s.io/metrics/pkg/client/clientset/versioned"
)

// Clients reach one cluster.
type Clients struct {
	Core kubernetes.Interface
	// Metrics reads metrics.k8s.io; calls fail when the cluster has no
	// metrics server, which turns usage off, nothing else.
	Metrics metrics.Interface
	// Dynamic reads resources without typed clients: KServe's
	// InferenceServices. nil turns them off.
	Dynamic dynamic.Interface
	// Namespace is the context's namespace ("default" if it names none).
	Namespace string
	// Where says which configuration was used, for the log.
	Where string
	// Config is the configuration the clients were built from.
	Config *rest.Config
}

// ConnectOptions choose a configuration as kubectl does.
type ConnectOptions struct {
	Kubeconfig string // a file; empty: $KUBECONFIG, then ~/.kube/config
	Context    string // a context of that file; empty: its current context
}

// ErrNoConfig says there is no kubeconfig and no in-cluster configuration.
var ErrNoConfig = errors.New("no kubeconfig ($KUBECONFIG, ~/.kube/config) and not running in a cluster")

// Connect resolves the configuration with clientcmd's default loading
// rules, as kubectl does: --kubeconfig, else $KUBECONFIG, else
// ~/.kube/config, with the named context or the current one; when none of
// those exist and KUBERNETES_SERVICE_HOST is set, the in-cluster service
// account. It only builds clients: nothing is sent to the cluster.
func Connect(opts ConnectOptions) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, ErrNoConfig
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	m, err := metrics.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metrics client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	where := "in-cluster config"
	if raw, err := cc.RawConfig(); err == nil && len(raw.Contexts) > 0 {
		name := opts.Context
		if name == "" {
			name = raw.CurrentContext
		}
		where = "context " + name
	}
	return &Clients{Core: core, Metrics: m, Dynamic: dyn, Namespace: ns, Where: where, Config: cfg}, nil
}

// Package deploy holds inferbench's Kubernetes manifests (plain YAML,
// kustomize-ready: kubectl apply -k deploy/) and the Grafana dashboard,
// embedded for code that creates them and for their tests.
package deploy

import "embed"

// Files are the manifests, the example plan and the dashboard.
//
//go:embed *.yaml *.json
var Files embed.FS

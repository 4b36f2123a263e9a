package plan

import (
	"strings"
	"testing"
)

const kubePlan = `
deployments:
  - name: triton
    protocol: kserve-http
    url: http://127.0.0.1:8000
    model: yolov8n
    kubernetes:
KUBE
sequence: baseline
`

func TestKubernetesSection(t *testing.T) {
	tests := []struct {
		name, kube string
		want       *Kubernetes
		err        string
	}{
		{"selector", "      namespace: ml\n      selector: app=triton, tier=gpu\n      context: prod", &Kubernetes{Namespace: "ml", Selector: "app=triton, tier=gpu", Context: "prod"}, ""},
		{"deployment", "      deployment: triton", &Kubernetes{Deployment: "triton"}, ""},
		{"service", "      service: triton-svc", &Kubernetes{Service: "triton-svc"}, ""},
		{"no pods named", "      namespace: ml", nil, `p.yaml:8:7: deployment "triton" kubernetes: give a selector, a deployment or a service`},
		{"unknown key", "      selectr: app=x", nil, `p.yaml:8:7: unknown key "selectr" in deployment "triton" kubernetes (allowed: namespace, selector, deployment, service, context)`},
		{"not a value", "      selector: [a]", nil, `p.yaml:8:17: deployment "triton" kubernetes.selector must be a single value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(strings.Replace(kubePlan, "KUBE", tt.kube, 1)), nil)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Deployments[0].Kubernetes; got == nil || *got != *tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

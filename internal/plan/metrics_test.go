package plan

import (
	"strings"
	"testing"
)

// TestMetricsURLIsRead: a deployment's metrics_url reaches the plan.
func TestMetricsURLIsRead(t *testing.T) {
	text := strings.Replace(kubePlan, "    kubernetes:\nKUBE\n", "    metrics_url: \"off\"\n", 1)
	p, err := Parse("p.yaml", []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Deployments[0].MetricsURL; got != "off" {
		t.Errorf("metrics_url %q, want off", got)
	}
}

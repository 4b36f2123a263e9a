package main

import (
	"testing"

	"github.com/inferbench/inferbench/internal/plan"
)

// TestExamplePlanParses: the plan the README and `run --help` point to is
// a valid plan: the field guide's four deployments and its recommended
// sequence.
func TestExamplePlanParses(t *testing.T) {
	p, err := plan.LoadFile("../../examples/plan.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Deployments) != 4 || len(p.Steps) != 4 || p.Sequence != "recommended" || !p.CheckOutputs {
		t.Errorf("plan: %d deployments, %d steps, sequence %q, check_outputs %v", len(p.Deployments), len(p.Steps), p.Sequence, p.CheckOutputs)
	}
	if got := p.Targets(p.Steps[3]); len(got) != 1 || got[0].Name != "nim-batching" {
		t.Errorf("the stress step runs against %v, want nim-batching only", got)
	}
}

package session

import (
	"fmt"
	"io"

	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// PrintPlan shows what is about to run, with the field guide's
// expected runtimes for a built-in sequence.
func PrintPlan(w io.Writer, p *plan.Plan, quick bool) {
	fmt.Fprintf(w, "Plan %s: %d deployment(s), %d step(s)%s\n", sanitize.Line(p.Path), len(p.Deployments), len(p.Steps), map[bool]string{true: " (--quick)", false: ""}[quick])
	var guide []string
	if p.Sequence != "" {
		if seq, err := plan.Builtin(p.Sequence); err == nil {
			guide = seq.GuideRuntime
		}
	}
	for i, s := range p.Steps {
		line := fmt.Sprintf("  %-10s %s", sanitize.Line(s.Name), s.Load())
		if i < len(guide) && guide[i] != "" {
			line += fmt.Sprintf("  (field guide's expected runtime: %s)", guide[i])
		}
		fmt.Fprintln(w, line)
	}
	if len(guide) > 0 {
		fmt.Fprintln(w, "  The guide's runtimes were measured with its Python script; inferbench usually finishes far sooner.")
	}
}

// PrintDeployments lists a plan's deployments under a title.
func PrintDeployments(w io.Writer, title string, p *plan.Plan) {
	if w == nil {
		return
	}
	fmt.Fprintln(w, title)
	for _, d := range p.Deployments {
		fmt.Fprintf(w, "  %-13s %-17s %s\n", sanitize.Line(d.Name), sanitize.Line(d.Protocol), sanitize.Line(d.URL))
	}
}

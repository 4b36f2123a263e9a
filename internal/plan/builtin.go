package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/load"
)

// Sequence is a named built-in sequence of steps with the runtime the
// field guide expected of each step against its four deployments (with
// its Python script; inferbench is usually far quicker).
type Sequence struct {
	Name  string
	Steps []Step
	// GuideRuntime is the field guide's expected runtime per step.
	GuideRuntime []string
}

// The field guide's test sequence.
var (
	stepBaseline  = Step{Name: "baseline", Concurrency: 1, Requests: 50}
	stepRealistic = Step{Name: "realistic", Concurrency: 8, Requests: 200}
	stepHeavy     = Step{Name: "heavy", Concurrency: 16, Requests: 500}
	stepStress    = Step{Name: "stress", Concurrency: 32, Requests: 1000, BatchingOnly: true}
)

// Builtin returns the named built-in sequence: baseline, realistic, heavy,
// stress or recommended (all four in order).
func Builtin(name string) (Sequence, error) {
	guide := map[string]string{
		"baseline":  "5 minutes total (all deployments)",
		"realistic": "15 minutes total",
		"heavy":     "30 minutes total",
		"stress":    "10 minutes (batching deployments only)",
	}
	one := func(s Step) Sequence {
		return Sequence{Name: s.Name, Steps: []Step{s}, GuideRuntime: []string{guide[s.Name]}}
	}
	switch name {
	case "baseline":
		return one(stepBaseline), nil
	case "realistic":
		return one(stepRealistic), nil
	case "heavy":
		return one(stepHeavy), nil
	case "stress":
		return one(stepStress), nil
	case "recommended":
		steps := []Step{stepBaseline, stepRealistic, stepHeavy, stepStress}
		seq := Sequence{Name: name, Steps: steps}
		for _, s := range steps {
			seq.GuideRuntime = append(seq.GuideRuntime, guide[s.Name])
		}
		return seq, nil
	}
	return Sequence{}, fmt.Errorf("unknown sequence %q (want one of %s)", name, strings.Join(BuiltinNames(), ", "))
}

// BuiltinNames lists the built-in sequences.
func BuiltinNames() []string {
	names := []string{"baseline", "realistic", "heavy", "stress", "recommended"}
	sort.Strings(names)
	return names
}

// QuickFactor is how much --quick shrinks each step.
const QuickFactor = 10

// Quick scales steps down for a fast look: a tenth of the requests (at
// least 20, and never below the concurrency, so every worker sends) and
// of the duration (at least 2 s); concurrency and rate stay, since they
// are what is being compared.
func Quick(steps []Step) []Step {
	out := make([]Step, len(steps))
	for i, s := range steps {
		if s.Requests > 0 {
			s.Requests = max(20, s.Concurrency, s.Requests/QuickFactor)
		}
		switch {
		case len(s.Stages) > 0: // each stage a tenth as long, at least 100 ms
			s.Stages = slices.Clone(s.Stages)
			for j := range s.Stages {
				s.Stages[j].Duration = max(100*time.Millisecond, s.Stages[j].Duration/QuickFactor)
			}
			s.Duration = load.StagesDuration(s.Stages)
		case s.Duration > 0:
			s.Duration = max(2*time.Second, s.Duration/QuickFactor)
		}
		out[i] = s
	}
	return out
}

package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
	"github.com/inferbench/inferbench/internal/threshold"
)

// exitCodes is the exit codes' paragraph of the help.
const exitCodes = `Exit codes: 0 measured (even with errors), 1 nothing could be measured,
2 bad input (flags, plan, thresholds; nothing is sent), 3 a threshold failed
(after every report and the result file are written), 130 interrupted.`

// trialFlags are --repeat and --threshold, shared by bench and run.
type trialFlags struct {
	repeat     int
	thresholds []string
}

func addTrialFlags(fl *pflag.FlagSet, f *trialFlags) {
	fl.IntVar(&f.repeat, "repeat", 1, fmt.Sprintf("run every step this many times per deployment (trials, interleaved: A B C, B C A, ...); reports show the trials' median, spread and 95%% interval (3 or more); 1 to %d; replaces a plan's repeat", plan.MaxRepeat))
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "a pass/fail criterion, repeatable: 'p99 < 50ms', 'p50 < 2x baseline', 'errors < 1%', 'throughput > 500/s', 'valid'; any that fails gives exit code 3")
}

// apply checks the flags and sets them on the plan and the session:
// --repeat, when given, replaces every repeat of the plan; --threshold
// adds to the plan's thresholds. Errors are exit code 2.
func (f *trialFlags) apply(p *plan.Plan, o *session.Options, repeatGiven bool) error {
	if repeatGiven {
		if err := plan.CheckRepeat(f.repeat); err != nil {
			return usageError(fmt.Errorf("--repeat: %w", err))
		}
		p.Repeat = f.repeat
		for i := range p.Steps {
			p.Steps[i].Repeat = 0
		}
	}
	for _, t := range p.Thresholds {
		o.Thresholds = append(o.Thresholds, result.Threshold{Expr: t.Expr, Deployment: t.Deployment, Step: t.Step})
	}
	for _, expr := range f.thresholds {
		if _, err := threshold.Parse(expr); err != nil {
			return usageError(fmt.Errorf("--threshold: %w", err))
		}
		o.Thresholds = append(o.Thresholds, result.Threshold{Expr: expr})
	}
	return nil
}

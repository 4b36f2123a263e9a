package session

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// Steps is the scheduler of bench and run: a fixed list of steps, run in
// order. Within a step every deployment runs once, in an order that
// rotates from step to step, so that the drift of a shared machine does
// not always favour the same one. Runs the result file already holds
// (--resume) are skipped.
type Steps struct {
	Steps []plan.Step
	// BeforeRun, if set, is called before each run (step number i of
	// Steps, against d, trial 0 when the step runs once): a loader of a
	// split plan waits there for the coordinator's start (internal/loaders).
	// skip leaves the run out; an error ends the session.
	BeforeRun func(ctx context.Context, i int, step plan.Step, d plan.Deployment, trial int) (skip bool, err error)
}

// MaxInFlight is the highest concurrency, or open-loop bound, of the
// steps that run against d.
func (st Steps) MaxInFlight(d plan.Deployment) int {
	n := 1
	for _, s := range st.Steps {
		if !s.RunsAgainst(d) {
			continue
		}
		switch {
		case s.Open() && s.MaxInFlight > 0:
			n = max(n, s.MaxInFlight)
		case s.Open():
			n = max(n, load.DefaultMaxInFlight)
		case len(s.Stages) > 0:
			n = max(n, int(math.Ceil(load.MaxStageTarget(s.Stages, float64(s.Concurrency)))))
		default:
			n = max(n, s.Concurrency)
		}
	}
	return n
}

// Unmeasured is set when no run measured anything: every run failed or
// got no answer right (a server that died after its check), or there
// was no run at all.
func (Steps) Unmeasured(f *result.File) string {
	for _, r := range f.Runs {
		if r.Status != result.StatusFailed && r.Counts.OK > 0 {
			return ""
		}
	}
	if len(f.Runs) == 0 {
		return "no level could be measured: no step ran against any deployment"
	}
	return "no level could be measured"
}

// Schedule runs the steps: each step K times against each of its
// deployments (the plan's Trials), the trials interleaved so that a
// shared machine's drift hits every deployment alike: A B C, then B C A,
// then C A B.
func (st Steps) Schedule(ctx context.Context, s *Session) error {
	type done struct {
		step, deployment string
		trial            int
	}
	finished := map[done]bool{}
	for _, r := range s.File().Runs {
		finished[done{r.Step, r.Deployment.Name, r.Trial}] = true
	}
	for i, step := range st.Steps {
		targets := s.Plan().Targets(step)
		if len(targets) == 0 {
			s.Logf("Step %s (%s): no deployment to run it against", step.Name, step.Load())
			continue
		}
		trials := s.Plan().Trials(step)
		each := ""
		if trials > 1 {
			each = fmt.Sprintf(", %d trials each, interleaved", trials)
		}
		s.Logf("Step %s: %s against %d deployment(s)%s", step.Name, step.Load(), len(targets), each)
		if w := analyze.ConcurrencyWarning(step.Concurrency); w != "" && !step.Open() && len(step.Stages) == 0 {
			s.Logf("Warning: %s", w)
		}
		for k := range trials {
			shift := (i + k) % len(targets)
			order := slices.Concat(targets[shift:], targets[:shift])
			trial, label := 0, ""
			if trials > 1 {
				trial, label = k+1, fmt.Sprintf(" trial %d/%d", k+1, trials)
			}
			for _, d := range order {
				if ctx.Err() != nil {
					return nil
				}
				if finished[done{step.Name, d.Name, trial}] {
					s.Logf("  %s%s: done in an earlier run, skipped", d.Name, label)
					continue
				}
				if st.BeforeRun != nil {
					skip, err := st.BeforeRun(ctx, i, step, d, trial)
					if err != nil {
						return err
					}
					if skip || ctx.Err() != nil {
						continue
					}
				}
				t, err := s.Target(d.Name)
				if err != nil {
					r := unreachableRun(step, d, err)
					r.Trial = trial
					s.Logf("  %-16s%s %s", d.Name, label, summary(&r))
					if _, err := s.Record(r); err != nil {
						return err
					}
					continue
				}
				m := s.Measure(ctx, t, levelOfStep(step), MeasureOptions{Step: step.Name, Label: d.Name + " " + step.Name + label})
				m.Trial = trial
				r, err := s.Record(m)
				s.Logf("  %-16s%s %s", d.Name, label, summary(&r))
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// levelOfStep is the load level of a plan step.
func levelOfStep(s plan.Step) Level {
	warmup := -1
	if s.Warmup != nil {
		warmup = *s.Warmup
	}
	return Level{Concurrency: s.Concurrency, Rate: s.Rate, Arrival: s.Arrival, Seed: seedOf(s.Seed), MaxInFlight: s.MaxInFlight,
		Requests: s.Requests, Duration: s.Duration, Warmup: warmup,
		Stages: s.Stages, StagedConcurrency: s.StagedConcurrency,
		Schedule: s.Schedule, SchedulePath: s.SchedulePath, ScheduleFormat: s.ScheduleFormat, ScheduleSpeed: s.ScheduleSpeed, ScheduleLoop: s.ScheduleLoop,
		BurstSize: s.BurstSize, BurstIdle: s.BurstIdle, Phase: s.Phase}
}

// unreachableRun records a step that could not run against a deployment.
func unreachableRun(step plan.Step, d plan.Deployment, err error) result.Run {
	return result.Run{
		Step:       step.Name,
		Deployment: resultDeployment(d),
		Load:       result.Load{Mode: result.ModeConcurrency, Concurrency: step.Concurrency, Rate: step.Rate, Requests: step.Requests, DurationS: step.Duration.Seconds()},
		Status:     result.StatusFailed,
		Failure:    fmt.Sprintf("deployment failed its check before the plan: %v", err),
		Errors:     []measure.ErrorGroup{},
	}
}

// summary is one line about a run for the log.
func summary(r *result.Run) string {
	if r.Status == result.StatusFailed {
		return "failed: " + r.Failure
	}
	return fmt.Sprintf("%.1f req/s, p50 %.2f ms, p99 %.2f ms, %.1f%% errors (%s)", r.ThroughputRPS, r.LatencyMs.P50, r.LatencyMs.P99, 100*r.ErrorRate, r.Assessment.ErrorBand)
}

package run

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
)

// PlanOptions shape the execution of a plan.
type PlanOptions struct {
	// File receives the runs; it may hold runs of an earlier, interrupted
	// execution, whose finished (step, deployment) pairs are skipped
	// (--resume).
	File *result.File
	// Save is called after every run with the file as it stands, to
	// checkpoint it; an error stops the plan.
	Save func(*result.File) error
	// Log receives one line per event (preflight, steps); Progress, if
	// set, is handed to the engine.
	Log              io.Writer
	Progress         func(label string) func(load.Progress)
	ProgressInterval time.Duration
	Grace            time.Duration
	DefaultTimeout   time.Duration
	// Kubeconfig is the file for the pod checks of deployments with a
	// kubernetes section; empty: as kubectl finds it. PodWatch, if set,
	// replaces kube.Setup (tests).
	Kubeconfig string
	PodWatch   func(context.Context, kube.Target) (*kube.PodWatch, string)
	// CheckOutputs compares the deployments' answers for the same images
	// before the steps (as the plan's check_outputs); PreprocessPerRequest
	// makes each payload as it is sent, timed apart.
	CheckOutputs         bool
	PreprocessPerRequest bool
}

// Preflight is what checking one deployment before the plan found.
type Preflight struct {
	Deployment plan.Deployment
	Target     *Target // nil when the deployment cannot be measured
	Err        error
	// Watch reads the server's side of each step; nil when it cannot.
	Watch     *ServerWatch
	WatchLine string // what the watch chose, for the log
	// Pods watches the deployment's pods around each step; nil when pod
	// checks are off, and PodsLine says why.
	Pods     *kube.PodWatch
	PodsLine string
}

// deploymentOf describes a plan deployment in result terms.
func deploymentOf(d plan.Deployment) result.Deployment {
	return result.Deployment{Name: d.Name, Protocol: d.Protocol, URL: d.URL, Model: d.Model, ModelVersion: d.Version}
}

// Check prepares one deployment and proves it works: server and model
// ready, metadata read, inputs built, and one request answered and valid.
func Check(ctx context.Context, d plan.Deployment, defaultTimeout time.Duration) Preflight {
	pf := Preflight{Deployment: d}
	timeout := d.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	client, err := protocol.New(protocol.Options{Kind: protocol.Kind(d.Protocol), URL: d.URL, Timeout: timeout, Headers: d.Headers, HTTP: d.HTTP})
	if err != nil {
		pf.Err = err
		return pf
	}
	fail := func(err error) Preflight {
		client.Close()
		pf.Err = err
		return pf
	}
	if ready, err := client.ServerReady(ctx); err != nil {
		return fail(fmt.Errorf("unreachable: %w", err))
	} else if !ready {
		return fail(fmt.Errorf("the server answers but is not ready"))
	}
	if ready, err := client.ModelReady(ctx, d.Model, d.Version); err != nil || !ready {
		return fail(fmt.Errorf("model %q is not ready (%v)", d.Model, err))
	}
	images, err := LoadImages(d.Inputs.Image)
	if err != nil {
		return fail(err)
	}
	target, err := Prepare(ctx, client, deploymentOf(d), InputOptions{Shapes: d.Inputs.Shapes, BatchSize: d.Inputs.BatchSize, DataFile: d.Inputs.Data, Seed: 1, Images: images})
	if err != nil {
		return fail(err)
	}
	resp, err := client.Infer(ctx, target.Payloads[0])
	if err == nil {
		err = target.Validate.Validate(resp)
	}
	if err != nil {
		return fail(fmt.Errorf("a first request failed: %w", err))
	}
	pf.Target = target
	pf.Watch, pf.WatchLine = NewServerWatch(ctx, target.Client, d.URL, d.Model, d.Version, d.MetricsURL)
	return pf
}

// done lists the (step, deployment) pairs a file already has finished.
func done(f *result.File) map[[2]string]bool {
	out := map[[2]string]bool{}
	for _, r := range f.Runs {
		if r.Status != result.StatusInterrupted {
			out[[2]string{r.Step, r.Deployment.Name}] = true
		}
	}
	return out
}

// Execute runs a plan: it checks every deployment first (one that fails
// is reported and skipped, the others go on), then runs the steps in
// order. Within a step every deployment runs once, in an order that
// rotates from step to step, so that the drift of a shared machine does
// not always favour the same one. The file is saved after every run.
func Execute(ctx context.Context, p *plan.Plan, steps []plan.Step, opts PlanOptions) error {
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", args...)
		}
	}
	f := opts.File
	finished := done(f)
	// Drop interrupted runs: they are measured again.
	kept := f.Runs[:0]
	for _, r := range f.Runs {
		if r.Status != result.StatusInterrupted {
			kept = append(kept, r)
		}
	}
	f.Runs = kept
	if err := checkImages(p); err != nil {
		return err
	}

	preflight := map[string]Preflight{}
	for _, d := range p.Deployments {
		pf := Check(ctx, d, opts.DefaultTimeout)
		if pf.Target != nil {
			pf.Pods, pf.PodsLine = opts.podWatch(ctx, d)
			logf("Check %-16s ok: %s %s, %d bytes per request; %s; %s", d.Name, d.Protocol, d.URL, pf.Target.PayloadB, pf.WatchLine, pf.PodsLine)
			defer pf.Target.Client.Close()
		} else {
			logf("Check %-16s FAILED: %v", d.Name, pf.Err)
		}
		preflight[d.Name] = pf
		if ctx.Err() != nil {
			return nil
		}
	}
	if p.CheckOutputs || opts.CheckOutputs {
		f.OutputCheck = checkOutputs(ctx, p, preflight, logf)
	}

	for i, step := range steps {
		targets := p.Targets(step)
		if len(targets) == 0 {
			logf("Step %s (%s): no deployment to run it against", step.Name, step.Load())
			continue
		}
		// Rotate the order: step i starts with deployment i mod n.
		order := slices.Concat(targets[i%len(targets):], targets[:i%len(targets)])
		logf("Step %s: %s against %d deployment(s)", step.Name, step.Load(), len(order))
		for _, d := range order {
			if ctx.Err() != nil {
				return nil
			}
			if finished[[2]string{step.Name, d.Name}] {
				logf("  %s: done in an earlier run, skipped", d.Name)
				continue
			}
			var r result.Run
			pf := preflight[d.Name]
			if pf.Target == nil {
				r = unreachableRun(step, d, pf.Err)
			} else {
				label := fmt.Sprintf("%s %s", d.Name, step.Name)
				var progress func(load.Progress)
				if opts.Progress != nil {
					progress = opts.Progress(label)
				}
				lvl := Level{Concurrency: step.Concurrency, Rate: step.Rate, Arrival: step.Arrival, Seed: 1,
					Requests: step.Requests, Duration: step.Duration, Warmup: -1}
				r = Step(ctx, pf.Target, lvl, StepOptions{Grace: opts.Grace, OnProgress: progress, ProgressInterval: opts.ProgressInterval, Watch: pf.Watch, Pods: pf.Pods,
					PreprocessPerRequest: opts.PreprocessPerRequest})
				logf("  %-16s %s", d.Name, summary(&r))
			}
			r.Step = step.Name
			MarkOutputs(&r, f.OutputCheck)
			f.Runs = append(f.Runs, r)
			Assess(f.Runs)
			if opts.Save != nil {
				if err := opts.Save(f); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// unreachableRun records a step that could not run against a deployment.
func unreachableRun(step plan.Step, d plan.Deployment, err error) result.Run {
	return result.Run{
		Deployment: deploymentOf(d),
		Load:       result.Load{Mode: result.ModeConcurrency, Concurrency: step.Concurrency, Rate: step.Rate, Requests: step.Requests, DurationS: step.Duration.Seconds()},
		Status:     result.StatusFailed,
		Failure:    fmt.Sprintf("deployment failed its check before the plan: %v", err),
		Errors:     []measure.ErrorGroup{},
		Assessment: result.Assessment{Notes: []string{}},
	}
}

// summary is one line about a run for the log.
func summary(r *result.Run) string {
	if r.Status == result.StatusFailed {
		return "failed: " + r.Failure
	}
	return fmt.Sprintf("%.1f req/s, p50 %.2f ms, p99 %.2f ms, %.1f%% errors (%s)", r.ThroughputRPS, r.LatencyMs.P50, r.LatencyMs.P99, 100*r.ErrorRate, r.Assessment.ErrorBand)
}

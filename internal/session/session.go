package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// Options shape a session: where its results and reports go, how it
// talks, and the settings every deployment shares.
type Options struct {
	// Version is the tool's, recorded in the result file.
	Version string
	// ResultsPath is the result file, rewritten after every run; empty
	// keeps none. With Resume the file there is read first, its finished
	// runs kept and its interrupted ones measured again.
	ResultsPath string
	Resume      bool
	// Force replaces an existing result file, and lets Resume take the
	// runs of another plan; without it both are refused (see files.go).
	Force bool
	// Plan describes the plan in the result file.
	Plan *result.PlanInfo
	// Log receives the session's events, one line each, and the
	// progress (a bar on a terminal, plain lines in a log); nil is quiet.
	Log io.Writer
	// Stdout receives the reports that have no path.
	Stdout  io.Writer
	Reports []Report
	// Grace is how long requests in flight may finish after Ctrl-C.
	Grace time.Duration
	// DefaultTimeout is a call's timeout when a deployment sets none.
	DefaultTimeout time.Duration
	// Kubeconfig is the file for the pod checks of deployments with a
	// kubernetes section; empty: as kubectl finds it. PodWatch, if set,
	// replaces kube.Setup (tests).
	Kubeconfig string
	PodWatch   func(context.Context, kube.Target) (*kube.PodWatch, string)
	// CheckOutputs compares the deployments' answers for the same images
	// before the load (as the plan's check_outputs), PreprocessPerRequest
	// makes each payload as it is sent, timed apart.
	CheckOutputs         bool
	PreprocessPerRequest bool
	// MustOpen ends the session before any load when a deployment fails
	// to open (bench and sweep on one endpoint); otherwise the others go
	// on without it (run).
	MustOpen bool
	// InterruptHint is the exit message after Ctrl-C.
	InterruptHint string
	// ExportRequests, if set, is a file that gets one JSON line per
	// measured request (--export-requests; docs/results.md). It is
	// created (or truncated; appended to with Resume) before any request
	// is sent.
	ExportRequests string
	// Thresholds are the pass/fail criteria, kept in the result file and
	// judged on its runs: any that fails makes the exit code 3, once
	// every report and the file are written.
	Thresholds []result.Threshold
	// MetricsAddr, if set, serves the live figures of the measured phases
	// on http://MetricsAddr/metrics (Prometheus text, internal/live) from
	// before the first step to the end of the session. MetricsHook, if
	// set, is called with the address once it listens (final false) and
	// at the end, before it closes (final true).
	MetricsAddr string
	MetricsHook func(addr string, final bool)
}

// Report is one rendering of the result file at the end: to Path, or to
// Stdout when Path is empty (in colour on a terminal).
type Report struct {
	Format string
	Path   string
}

// Scheduler picks the load levels of a session: the one thing bench, run
// and sweep do differently.
type Scheduler interface {
	// MaxInFlight is the most requests the scheduler will have in flight
	// against a deployment, which sizes its connection pool.
	MaxInFlight(d plan.Deployment) int
	// Schedule measures the levels, through Session.Measure and
	// Session.Record. Its error (a result file that cannot be written)
	// ends the session; anything that happens on the wire is in the runs.
	Schedule(ctx context.Context, s *Session) error
	// Unmeasured says why a finished session measured nothing usable
	// (the exit code is then 1), or "".
	Unmeasured(f *result.File) string
}

// ExitError carries a process exit code: 1 for a failure, 2 for a bad
// plan, 3 for a failed threshold, 130 after Ctrl-C.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Session is one benchmark in progress: the only owner of the result
// file, the progress view and the deployments' connections.
type Session struct {
	o       Options
	plan    *plan.Plan
	file    *result.File
	view    *progressView
	targets map[string]*Target
	openErr map[string]error
	images  map[string][]inputs.Image // by deployment, loaded once
	export  *requestExport            // with Options.ExportRequests
	live    *live.Registry            // with Options.MetricsAddr
}

// Run runs a plan under a scheduler from start to end: it opens every
// deployment, compares their outputs when asked, lets the scheduler
// measure, and renders the reports, whatever happened (Ctrl-C, a dead
// server, a bad answer). The file is returned with everything measured,
// also beside an error, except when nothing could start.
func Run(ctx context.Context, p *plan.Plan, sched Scheduler, o Options) (*result.File, error) {
	s, err := newSession(p, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if s.export, err = openExport(o.ExportRequests, o.Resume); err != nil {
		return nil, err
	}
	if err := s.openAll(ctx, sched); err != nil {
		return nil, err
	}
	return s.run(ctx, sched)
}

// newSession checks what can be checked before anything is sent (every
// deployment's images) and makes the result file.
func newSession(p *plan.Plan, o Options) (*Session, error) {
	if err := checkFiles(o); err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	s := &Session{o: o, plan: p, view: newProgressView(o.Log), targets: map[string]*Target{}, openErr: map[string]error{},
		images: map[string][]inputs.Image{}}
	for _, d := range p.Deployments {
		images, err := LoadImages(d.Inputs.Image)
		if err != nil {
			return nil, fmt.Errorf("deployment %q: %w", d.Name, err)
		}
		s.images[d.Name] = images
	}
	return s, s.start()
}

// run compares the opened deployments' outputs when asked, lets the
// scheduler measure, and finishes.
func (s *Session) run(ctx context.Context, sched Scheduler) (*result.File, error) {
	stop, err := s.serveMetrics()
	if err != nil {
		return nil, err
	}
	defer stop()
	if ctx.Err() == nil {
		if s.plan.CheckOutputs || s.o.CheckOutputs {
			s.file.OutputCheck = s.checkOutputs(ctx)
		}
		err = sched.Schedule(ctx, s)
	}
	return s.file, s.finish(ctx, sched, err)
}

// serveMetrics starts the live figures' server (Options.MetricsAddr) and
// returns what stops it.
func (s *Session) serveMetrics() (stop func(), err error) {
	if s.o.MetricsAddr == "" {
		return func() {}, nil
	}
	s.live = live.NewRegistry()
	srv, err := live.Serve(s.o.MetricsAddr, s.live)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	s.Logf("live figures: http://%s/metrics", srv.Addr())
	if s.o.MetricsHook != nil {
		s.o.MetricsHook(srv.Addr(), false)
	}
	return func() {
		if s.o.MetricsHook != nil {
			s.o.MetricsHook(srv.Addr(), true)
		}
		_ = srv.Close()
	}, nil
}

// start makes the result file, or reads it back with Resume.
func (s *Session) start() error {
	s.file = result.New(s.o.Version, time.Now())
	if s.o.Resume {
		prev, err := result.Read(s.o.ResultsPath)
		if err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("--resume: %w", err)}
		}
		if why := otherPlan(prev.Plan, s.o.Plan); why != "" && !s.o.Force {
			return &ExitError{Code: 2, Err: fmt.Errorf("--resume: %s: %s; --force resumes it anyway, or choose another path", s.o.ResultsPath, why)}
		}
		// Interrupted runs are measured again.
		kept := prev.Runs[:0]
		for _, r := range prev.Runs {
			if r.Status != result.StatusInterrupted {
				kept = append(kept, r)
			}
		}
		// A v1 file resumed is written as v2: its runs are valid v2 runs
		// (without histograms), and the new ones have them.
		prev.Runs, prev.Complete, prev.Schema = kept, false, result.Schema
		s.file = prev
	}
	s.file.Environment = result.CurrentEnvironment()
	s.file.Plan = s.o.Plan
	s.file.Thresholds = append([]result.Threshold(nil), s.o.Thresholds...)
	return nil
}

func (s *Session) close() {
	for _, t := range s.targets {
		t.Client.Close()
	}
	_ = s.export.close() // after an early return; finish reports its error
}

// openAll opens every deployment, and its pod checks, and logs the
// outcome of each.
func (s *Session) openAll(ctx context.Context, sched Scheduler) error {
	for _, d := range s.plan.Deployments {
		t, err := Open(ctx, d, OpenOptions{DefaultTimeout: s.o.DefaultTimeout, MaxInFlight: sched.MaxInFlight(d), Images: s.images[d.Name]})
		if ctx.Err() != nil {
			if t != nil {
				t.Client.Close()
			}
			return nil
		}
		if err != nil {
			if s.o.MustOpen {
				return &ExitError{Code: 1, Err: fmt.Errorf("%s: %w (no load was sent)", d.Name, err)}
			}
			s.Logf("Check %-16s FAILED: %v", d.Name, err)
			s.openErr[d.Name] = err
			continue
		}
		t.Pods, t.PodsLine = s.o.podWatch(ctx, d)
		if k := d.Kubernetes; t.Scale == nil && t.Pods != nil && k != nil && k.Deployment != "" {
			t.Scale = &kube.ScaleSource{Clients: t.Pods.Clients, Namespace: t.Pods.Namespace, Deployment: k.Deployment}
			t.PodsLine += "; replicas of deployment " + k.Deployment
		}
		s.targets[d.Name] = t
		s.Logf("Check %-16s ok: %s %s, model %s, %d bytes per request; %s; %s", d.Name, d.Protocol, d.URL, d.Model, t.PayloadB, t.WatchLine, t.PodsLine)
		if d.TLS.InsecureSkipVerify && d.UsesTLS() {
			s.Logf("WARNING %s: %s", d.Name, plan.InsecureNote)
		}
	}
	return nil
}

// Plan is the plan being run.
func (s *Session) Plan() *plan.Plan { return s.plan }

// File is the result file as it stands.
func (s *Session) File() *result.File { return s.file }

// Target is an opened deployment, or the error that kept it from opening.
func (s *Session) Target(name string) (*Target, error) {
	if t, ok := s.targets[name]; ok {
		return t, nil
	}
	if err, ok := s.openErr[name]; ok {
		return nil, err
	}
	return nil, fmt.Errorf("deployment %q was not opened", name)
}

// Logf writes one line to the log, unless quiet. Its control characters
// are quoted (the arguments carry servers' messages), so it stays one line
// and cannot reach the terminal's escape sequences.
func (s *Session) Logf(format string, args ...any) {
	if s.o.Log != nil {
		fmt.Fprintln(s.o.Log, sanitize.Line(plan.RedactURLs(fmt.Sprintf(format, args...))))
	}
}

// MeasureOptions say how a level is labelled and measured.
type MeasureOptions struct {
	// Step names the run in the result file (a plan's step; empty in a
	// search). Label names it in the progress.
	Step, Label string
	// Windowing, if set, measures the level in windows until stable.
	Windowing *Windowing
	// Note is a fact added to the run's notes (a warning given before it
	// ran, from options the file does not keep).
	Note string
}

// liveStep labels a level's live figures: its step, or in a search its
// label without the deployment's name.
func liveStep(t *Target, mo MeasureOptions) string {
	if mo.Step != "" {
		return mo.Step
	}
	return strings.TrimPrefix(mo.Label, t.Deployment.Name+" ")
}

// Measure runs one level against a target, with the server and pod
// observations and the progress view; the scheduler records the run
// (Record) once it has noted what it needs.
func (s *Session) Measure(ctx context.Context, t *Target, lvl Level, mo MeasureOptions) result.Run {
	hooks := levelHooks{Grace: s.o.Grace, Watch: t.Watch, Pods: t.Pods, Scale: t.Scale, PreprocessPerRequest: s.o.PreprocessPerRequest,
		OnProgress: s.view.level(mo.Label), ProgressInterval: s.view.interval(), Export: s.export.log(), ExportStep: mo.Step,
		Live: s.live.Counters(t.Deployment.Name, liveStep(t, mo))}
	var r result.Run
	if mo.Windowing != nil {
		r = measureStable(ctx, t, lvl, *mo.Windowing, hooks)
	} else {
		r = measureLevel(ctx, t, lvl, hooks)
	}
	r.Step = mo.Step
	if mo.Note != "" {
		r.Note(mo.Note)
	}
	if t.Plan.TLS.InsecureSkipVerify && t.Plan.UsesTLS() {
		r.Note(plan.InsecureNote)
	}
	return r
}

// Record adds a run to the file, writes the judgement of every run into it
// (a copy for readers of the JSON: reports recompute it), and rewrites the
// result file. The run is returned as recorded, with its judgement.
func (s *Session) Record(r result.Run) (result.Run, error) {
	s.file.Runs = append(s.file.Runs, r)
	analyze.Record(s.file)
	return s.file.Runs[len(s.file.Runs)-1], s.Save()
}

// Save rewrites the result file, if the session keeps one.
func (s *Session) Save() error {
	if s.o.ResultsPath == "" {
		return nil
	}
	return result.Write(s.o.ResultsPath, s.file)
}

// checkOutputs reads and compares the answers of every opened deployment
// to the same images, and logs the verdict.
func (s *Session) checkOutputs(ctx context.Context) *result.OutputCheck {
	var names []string
	var outputs [][]ImageOutput
	for _, d := range s.plan.Deployments {
		if t := s.targets[d.Name]; t != nil {
			names = append(names, d.Name)
			outputs = append(outputs, ReadOutputs(ctx, t))
		}
	}
	check := CompareOutputs(names, outputs, detect.DefaultTolerance)
	s.Logf("Output check: %s", check.Verdict)
	for i, d := range check.Deployments {
		s.Logf("  %-16s %-10s %s", d.Name, d.Status, d.Detail)
		for j, out := range outputs[i] {
			line := fmt.Sprintf("    %s:", out.Image)
			if j < len(d.Boxes) && d.Boxes[j] >= 0 {
				line += fmt.Sprintf(" %d boxes", d.Boxes[j])
			}
			if j < len(d.Fingerprints) && d.Fingerprints[j] != "" {
				line += " fingerprint " + d.Fingerprints[j]
			}
			s.Logf("%s", line)
		}
	}
	return check
}

// finish marks the file complete or not, saves it, renders the reports,
// and turns the outcome into an exit code.
func (s *Session) finish(ctx context.Context, sched Scheduler, schedErr error) error {
	s.file.Complete = ctx.Err() == nil && schedErr == nil
	errs := []error{schedErr}
	if schedErr == nil {
		errs = append(errs, s.Save())
	}
	if s.export != nil {
		err := s.export.close()
		if err == nil {
			s.Logf("%s", s.export.summary())
		}
		errs = append(errs, err)
	}
	for _, r := range s.o.Reports {
		errs = append(errs, s.render(r))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if ctx.Err() != nil {
		hint := s.o.InterruptHint
		if hint == "" {
			hint = "interrupted; the report covers what was measured"
		}
		return &ExitError{Code: 130, Err: errors.New(hint)}
	}
	if why := sched.Unmeasured(s.file); why != "" {
		return &ExitError{Code: 1, Err: errors.New(why)}
	}
	return ThresholdsExit(analyze.Judged(s.file))
}

// ThresholdsExit is the exit error (code 3) of a judged file whose
// thresholds failed, naming each failure; nil when none did.
func ThresholdsExit(f *result.File) error {
	failed := analyze.FailedThresholds(f)
	if len(failed) == 0 {
		return nil
	}
	return &ExitError{Code: 3, Err: fmt.Errorf("%d %s failed:\n  %s", len(failed), plural(len(failed), "threshold", "thresholds"), strings.Join(failed, "\n  "))}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// render writes one report.
func (s *Session) render(r Report) error {
	return WriteReport(s.o.Stdout, r.Path, r.Format, s.file, report.Options{})
}

// WriteReport renders a file to path, or to stdout when path is empty
// (in colour on a terminal), with opts (its Color is set here).
func WriteReport(stdout io.Writer, path, format string, f *result.File, opts report.Options) error {
	if path == "" {
		opts.Color = isTerminal(stdout)
		return report.Write(stdout, format, f, opts)
	}
	opts.Color = false
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := report.Write(out, format, f, opts); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/clock"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/loaders"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// loaderExe is the binary the local loaders run: this one. Tests set it
// to a binary that runs Main.
var loaderExe = os.Executable

// loaderLogs reads the loader pods' logs, where their results are: the
// API server's pods/log. Tests on an API server without kubelets set it
// to the logs their stand-in kubelet kept.
var loaderLogs = func(core kubernetes.Interface) kube.LogReader { return kube.APILogs{Core: core} }

// runLoaders runs plan p (read from path) split over f.loaders loader
// processes on this machine (--local), merges their results into
// DIR/results.json, keeps each loader's own in DIR/loaders/loader-I.json,
// and renders the reports as for one machine.
func runLoaders(cmd *cobra.Command, path string, p *plan.Plan, f *runFlags) error {
	switch {
	case f.loaders < 1:
		return planError(fmt.Errorf("--loaders %d: want at least 1", f.loaders))
	}
	for _, s := range p.Steps {
		if _, err := loaders.Step(s, 0, f.loaders); err != nil {
			return planError(err)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return planError(err)
	}
	if err := os.MkdirAll(filepath.Join(f.outDir, "loaders"), 0o755); err != nil {
		return err
	}
	resultsPath := filepath.Join(f.outDir, "results.json")
	if _, err := os.Stat(resultsPath); err == nil && !f.force {
		return planError(fmt.Errorf("%s exists: --force replaces it", resultsPath))
	}
	logf := func(format string, args ...any) {
		if !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...)
		}
	}
	var c loaders.Coordinator
	var clockCfg *rest.Config // the API server the loaders' clocks are measured against; nil: this machine's
	heartbeat, lead, poll := time.Second, loaders.Lead, loaders.LocalPoll
	where := ""
	if f.local {
		exe, err := loaderExe()
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "inferbench-loaders-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c = &loaders.Local{Dir: dir, LogDir: filepath.Join(f.outDir, "loaders"), Command: loaders.LoaderCommand(exe, dir)}
		where = fmt.Sprintf("%d processes on this machine (coordination in %s)", f.loaders, dir)
	} else {
		kc, cfg, err := kubeLoaders(p, f)
		if err != nil {
			return err
		}
		c, clockCfg = kc, cfg
		heartbeat, lead, poll = loaders.HeartbeatEvery, loaders.KubeLead, loaders.KubePoll
		where = fmt.Sprintf("%d pods of the Indexed Job %s/%s, image %s", f.loaders, kc.Opts.Namespace, kc.Opts.Name, kc.Opts.Image)
	}
	if !f.quiet {
		session.PrintPlan(cmd.ErrOrStderr(), p, f.quick)
	}
	ctx := cmd.Context()
	// Whatever happens from here, nothing of the run outlives this
	// function: Close deletes the Job (and its pods) and the ConfigMap.
	closed := false
	closeAll := func() {
		if closed {
			return
		}
		closed = true
		if err := c.Close(); err != nil {
			logf("Warning: %v", err)
		}
	}
	defer closeAll()
	if err := c.Publish(ctx, loaders.Job{PlanPath: abs, PlanText: string(text), Loaders: f.loaders, Quick: f.quick, Grace: f.grace}); err != nil {
		return &session.ExitError{Code: 1, Err: err}
	}
	logf("Loaders: %s", where)
	coordClock := make(chan *result.Clock, 1)
	go func() {
		if clockCfg == nil {
			coordClock <- nil
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second) // bounded (3 s); a Ctrl-C meanwhile still wants the check
		defer cancel()
		cl, err := kube.APIServerClock(cctx, clockCfg)
		if err != nil {
			logf("Warning: the loaders' clocks cannot be checked: %v", err)
		}
		coordClock <- cl
	}()
	driveErr := loaders.Drive(ctx, c, p.Steps, f.loaders, heartbeat, lead, poll, logf)
	if driveErr != nil {
		if errors.Is(driveErr, context.Canceled) {
			logf("Interrupted: stopping the loaders, keeping what they measured (at most %v for requests in flight)", f.grace+loaders.StopMargin)
		} else {
			logf("Stopping the loaders: %v", driveErr)
		}
		if err := c.Stop(f.grace); err != nil {
			logf("Warning: %v", err)
		}
	}
	files := make([]*result.File, f.loaders)
	failed := c.Finished()
	for i := range files {
		file, err := c.Collect(context.WithoutCancel(ctx), i)
		if err != nil {
			logf("Loader %d: no results: %v", i, err)
			continue
		}
		files[i] = file
		if err := result.Write(filepath.Join(f.outDir, "loaders", fmt.Sprintf("loader-%d.json", i)), file); err != nil {
			return err
		}
		if failed[i] != nil && !file.Complete {
			failed[i] = nil // interrupted: what it saved is named incomplete below
		}
	}
	for i, err := range failed {
		if err != nil && files[i] != nil && files[i].Complete {
			failed[i] = nil // it measured everything; its exit code is its verdict (thresholds, nothing usable)
		}
	}
	closeAll() // the loaders have ended and their results are read: the Job and ConfigMap go
	m, err := loaders.Merge(p.Steps, files, failed, Version, time.Now())
	if err != nil {
		for i := range f.loaders {
			if failed[i] != nil {
				err = fmt.Errorf("%w; %v", err, failed[i]) // the first loader's failure says why
				break
			}
		}
		if errors.Is(driveErr, context.Canceled) {
			return &session.ExitError{Code: 130, Err: fmt.Errorf("interrupted before any loader's results: %w", err)}
		}
		if driveErr != nil {
			err = fmt.Errorf("%w (%v)", err, driveErr)
		}
		return &session.ExitError{Code: 1, Err: err}
	}
	m.File.Plan = &result.PlanInfo{Path: path, Text: p.RedactText(string(text)), Quick: f.quick}
	warnings, clocks := loaders.ClockCheck(<-coordClock, files, clock.SkewThreshold)
	if clocks != "" {
		logf("%s", clocks)
	}
	for _, w := range warnings {
		logf("Warning: %s", w)
		for i := range m.File.Runs {
			m.File.Runs[i].Note("clock: " + w)
		}
	}
	if len(warnings) > 0 {
		analyze.Record(m.File)
	}
	for _, line := range m.Lines {
		logf("  %s", line)
	}
	for _, line := range m.Lost {
		logf("LOST %s", line)
	}
	if err := result.Write(resultsPath, m.File); err != nil {
		return err
	}
	reports := []session.Report{{Format: f.format}}
	for _, format := range []string{"md", "csv", "html"} {
		reports = append(reports, session.Report{Format: format, Path: filepath.Join(f.outDir, "report."+format)})
	}
	for _, r := range reports {
		if err := session.WriteReport(cmd.OutOrStdout(), r.Path, r.Format, m.File, report.Options{}); err != nil {
			return err
		}
	}
	logf("\nResults: %s (each loader's results and log: %s); report: %s", resultsPath, filepath.Join(f.outDir, "loaders"), filepath.Join(f.outDir, "report.html"))
	switch {
	case driveErr != nil && errors.Is(driveErr, context.Canceled):
		return &session.ExitError{Code: 130, Err: errors.New("interrupted; results.json holds what the loaders measured")}
	case driveErr != nil:
		return &session.ExitError{Code: 1, Err: driveErr}
	case len(m.Lost) > 0:
		return &session.ExitError{Code: 1, Err: fmt.Errorf("%d of %d loaders lost: %s", len(m.Lost), f.loaders, m.Lost[0])}
	}
	return session.ThresholdsExit(m.File)
}

// kubeLoaders is the coordinator of loaders run as an Indexed Job, and
// the configuration of the API server it talks to.
func kubeLoaders(p *plan.Plan, f *runFlags) (*kube.JobCoordinator, *rest.Config, error) {
	clients, err := kube.Connect(kube.ConnectOptions{Kubeconfig: f.kubeconfig})
	if err != nil {
		return nil, nil, &session.ExitError{Code: 1, Err: fmt.Errorf("--loaders without --local runs a Kubernetes Job: %w (or add --local)", err)}
	}
	ns := f.namespace
	if ns == "" {
		ns = clients.Namespace
	}
	image := f.image
	if image == "" {
		image = "inferbench:" + Version
	}
	nodes := map[string]string{}
	for _, kv := range f.nodeSelector {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, nil, planError(fmt.Errorf("--node-selector %q: want KEY=VALUE", kv))
		}
		nodes[k] = v
	}
	var lengths []time.Duration
	for _, s := range p.Steps {
		lengths = append(lengths, time.Duration(p.Trials(s)*len(p.Targets(s)))*stepLength(s))
	}
	opts := kube.JobOptions{Namespace: ns, Name: fmt.Sprintf("inferbench-loaders-%d", time.Now().Unix()), Image: image,
		ServiceAccount: f.serviceAccount, CPU: f.loaderCPU, Memory: f.loaderMemory, NodeSelector: nodes,
		Deadline: kube.ExpectedDeadline(lengths), TTL: 24 * time.Hour}
	if _, err := kube.LoaderJob(opts, f.loaders); err != nil {
		return nil, nil, planError(err)
	}
	return &kube.JobCoordinator{Core: clients.Core, Logs: loaderLogs(clients.Core), Opts: opts}, clients.Config, nil
}

// stepLength is a step's expected length for the Job's deadline: its
// duration, or its requests at its rate, or for a closed loop at 10 a
// second per worker.
func stepLength(s plan.Step) time.Duration {
	switch {
	case s.Duration > 0:
		return s.Duration
	case s.Rate > 0:
		return time.Duration(float64(s.Requests) / s.Rate * float64(time.Second))
	default:
		return time.Duration(s.Requests) * 100 * time.Millisecond / time.Duration(max(1, s.Concurrency))
	}
}

// newLoaderCommand is the hidden loader subcommand that --loaders starts:
// one share of a plan, each run started when the coordinator says; the
// coordinator in a folder of this machine (--dir) or a Kubernetes
// ConfigMap (--kube, the index from JOB_COMPLETION_INDEX).
func newLoaderCommand() *cobra.Command {
	var dir, namespace, configMap string
	var index int
	var inKube bool
	cmd := &cobra.Command{
		Use:    "loader",
		Short:  "Run one loader's share of a split plan (started by run --loaders)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if !inKube {
				j, err := loaders.ReadJob(dir)
				if err != nil {
					return err
				}
				_, err = runLoader(ctx, j, index, loaders.LocalStation{Dir: dir, Index: index}, loaders.LocalPoll, loaders.ResultsPath(dir, index), cmd.ErrOrStderr())
				return err
			}
			i, err := strconv.Atoi(os.Getenv("JOB_COMPLETION_INDEX"))
			if err != nil {
				return fmt.Errorf("JOB_COMPLETION_INDEX %q: not an Indexed Job's pod", os.Getenv("JOB_COMPLETION_INDEX"))
			}
			clients, err := kube.Connect(kube.ConnectOptions{})
			if err != nil {
				return err
			}
			return kubeLoader(ctx, clients.Config, namespace, configMap, i, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the local coordinator's folder")
	cmd.Flags().IntVar(&index, "index", 0, "this loader's number, from 0 (with --dir)")
	cmd.Flags().BoolVar(&inKube, "kube", false, "the coordinator is a ConfigMap: --namespace, --configmap")
	cmd.Flags().StringVar(&namespace, "namespace", "", "the ConfigMap's namespace")
	cmd.Flags().StringVar(&configMap, "configmap", "", "the ConfigMap's name")
	return cmd
}

// kubeLoader is loader index of an Indexed Job: it reads the job from the
// ConfigMap, runs its share meeting the coordinator at the ConfigMap's
// annotations, and writes its results to stdout, its log, where the
// coordinator reads them (kube.WriteResult), even when it was stopped.
// Meanwhile it measures its clock against the API server's, which the
// coordinator compares with its own (the results file keeps it).
func kubeLoader(ctx context.Context, cfg *rest.Config, namespace, configMap string, index int, stdout, stderr io.Writer) error {
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	j, err := kube.ReadJob(ctx, core, namespace, configMap)
	if err != nil {
		return err
	}
	clk := make(chan *result.Clock, 1)
	go func() {
		c, err := kube.APIServerClock(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "Loader %d: Warning: %v\n", index, err)
		}
		clk <- c
	}()
	tmp, err := os.MkdirTemp("", "loader-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	j.PlanPath = filepath.Join(tmp, "plan.yaml")
	if err := os.WriteFile(j.PlanPath, []byte(j.PlanText), 0o600); err != nil {
		return err
	}
	st := kube.JobStation{Core: core, Namespace: namespace, Name: configMap, Index: index}
	file, err := runLoader(ctx, j, index, st, loaders.KubePoll, filepath.Join(tmp, "results.json"), stderr)
	if file != nil {
		if c := <-clk; c != nil {
			if file.Environment == nil {
				file.Environment = &result.Environment{}
			}
			file.Environment.Clock = c
		}
		if werr := kube.WriteResult(stdout, file); werr != nil {
			return werr
		}
	}
	return err
}

// runLoader runs loader index's share of job j, meeting the coordinator
// at st, its results written to out; it returns them as far as they got.
func runLoader(ctx context.Context, j loaders.Job, index int, st loaders.Station, poll time.Duration, out string, log io.Writer) (*result.File, error) {
	if index < 0 || index >= j.Loaders {
		return nil, fmt.Errorf("loader %d: want 0 to %d", index, j.Loaders-1)
	}
	p, err := plan.LoadFile(j.PlanPath, nil)
	if err != nil {
		return nil, err
	}
	if j.Quick {
		p.Steps = plan.Quick(p.Steps)
	}
	shares, err := loaders.Steps(p.Steps, index, j.Loaders)
	if err != nil {
		return nil, err
	}
	steps := make([]plan.Step, len(shares))
	for k, sh := range shares {
		steps[k] = sh.Step
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go loaders.Watch(ctx, st, loaders.CoordinatorGone, time.Second, cancel)
	sched := session.Steps{Steps: steps, BeforeRun: func(ctx context.Context, i int, _ plan.Step, d plan.Deployment, trial int) (bool, error) {
		if shares[i].Skip {
			return true, nil
		}
		di := slices.IndexFunc(p.Deployments, func(x plan.Deployment) bool { return x.Name == d.Name })
		if _, err := loaders.Wait(ctx, st, loaders.Unit{Step: i, Trial: trial, Deployment: di}, poll); err != nil && ctx.Err() == nil {
			return false, err
		}
		return false, nil
	}}
	o := session.Options{Version: Version, ResultsPath: out, Force: true, Stdout: io.Discard, Log: log,
		Plan: &result.PlanInfo{Path: j.PlanPath, Text: p.RedactText(j.PlanText), Quick: j.Quick}, Grace: j.Grace}
	file, err := session.Run(ctx, p, sched, o)
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, loaders.ErrCoordinatorGone):
		return file, fmt.Errorf("loader %d stopped: %w", index, cause)
	case errors.Is(cause, loaders.ErrStopped) && file != nil:
		fmt.Fprintf(log, "Loader %d: %v; its results are kept\n", index, cause)
		return file, nil // what it measured is saved, marked incomplete: the coordinator reads it
	}
	return file, err
}

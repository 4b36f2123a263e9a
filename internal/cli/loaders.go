package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/loaders"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// loaderExe is the binary the local loaders run: this one. Tests set it
// to a binary that runs Main.
var loaderExe = os.Executable

// runLoaders runs plan p (read from path) split over f.loaders loader
// processes on this machine (--local), merges their results into
// DIR/results.json, keeps each loader's own in DIR/loaders/loader-I.json,
// and renders the reports as for one machine.
func runLoaders(cmd *cobra.Command, path string, p *plan.Plan, f *runFlags) error {
	switch {
	case f.loaders < 1:
		return planError(fmt.Errorf("--loaders %d: want at least 1", f.loaders))
	case !f.local:
		return planError(errors.New("--loaders runs the loaders as a Kubernetes Job, which this build cannot do yet: add --local to run them as processes on this machine"))
	case f.resume:
		return planError(errors.New("--resume does not work with --loaders: run the plan again"))
	case f.exportRequests != "":
		return planError(errors.New("--export-requests does not work with --loaders"))
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
	exe, err := loaderExe()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "inferbench-loaders-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf := func(format string, args ...any) {
		if !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...)
		}
	}
	if !f.quiet {
		session.PrintPlan(cmd.ErrOrStderr(), p, f.quick)
	}
	c := &loaders.Local{Dir: dir, Command: loaders.LoaderCommand(exe, dir)}
	ctx := cmd.Context()
	if err := c.Publish(ctx, loaders.Job{PlanPath: abs, PlanText: string(text), Loaders: f.loaders, Quick: f.quick, Grace: f.grace}); err != nil {
		_ = c.Stop(f.grace)
		return err
	}
	logf("Loaders: %d processes on this machine (coordination in %s)", f.loaders, dir)
	driveErr := loaders.Drive(ctx, c, p.Steps, f.loaders, time.Second, logf)
	if driveErr != nil {
		if errors.Is(driveErr, context.Canceled) {
			logf("Interrupted: stopping the loaders (at most %v for requests in flight)", f.grace)
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
	m, err := loaders.Merge(p.Steps, files, failed, Version, time.Now())
	if err != nil {
		return errors.Join(driveErr, err)
	}
	m.File.Plan = &result.PlanInfo{Path: path, Text: p.RedactText(string(text)), Quick: f.quick}
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
	logf("\nResults: %s (each loader's: %s); report: %s", resultsPath, filepath.Join(f.outDir, "loaders"), filepath.Join(f.outDir, "report.html"))
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

// newLoaderCommand is the hidden loader subcommand that --loaders --local
// starts: one share of a plan, each run started when the coordinator says.
func newLoaderCommand() *cobra.Command {
	var dir string
	var index int
	cmd := &cobra.Command{
		Use:    "loader",
		Short:  "Run one loader's share of a split plan (started by run --loaders)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLoader(cmd.Context(), dir, index, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the coordinator's folder")
	cmd.Flags().IntVar(&index, "index", 0, "this loader's number, from 0")
	return cmd
}

func runLoader(ctx context.Context, dir string, index int, log io.Writer) error {
	j, err := loaders.ReadJob(dir)
	if err != nil {
		return err
	}
	if index < 0 || index >= j.Loaders {
		return fmt.Errorf("--index %d: want 0 to %d", index, j.Loaders-1)
	}
	p, err := plan.LoadFile(j.PlanPath, nil)
	if err != nil {
		return err
	}
	if j.Quick {
		p.Steps = plan.Quick(p.Steps)
	}
	shares, err := loaders.Steps(p.Steps, index, j.Loaders)
	if err != nil {
		return err
	}
	steps := make([]plan.Step, len(shares))
	for k, sh := range shares {
		steps[k] = sh.Step
	}
	st := loaders.LocalStation{Dir: dir, Index: index}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go loaders.Watch(ctx, st, loaders.CoordinatorGone, time.Second, cancel)
	sched := session.Steps{Steps: steps, BeforeRun: func(ctx context.Context, i int, _ plan.Step, d plan.Deployment, trial int) (bool, error) {
		if shares[i].Skip {
			return true, nil
		}
		di := slices.IndexFunc(p.Deployments, func(x plan.Deployment) bool { return x.Name == d.Name })
		if _, err := loaders.Wait(ctx, st, loaders.Unit{Step: i, Trial: trial, Deployment: di}); err != nil && ctx.Err() == nil {
			return false, err
		}
		return false, nil
	}}
	o := session.Options{Version: Version, ResultsPath: loaders.ResultsPath(dir, index), Force: true, Stdout: io.Discard, Log: log,
		Plan: &result.PlanInfo{Path: j.PlanPath, Text: p.RedactText(j.PlanText), Quick: j.Quick}, Grace: j.Grace}
	_, err = session.Run(ctx, p, sched, o)
	if cause := context.Cause(ctx); errors.Is(cause, loaders.ErrCoordinatorGone) {
		return fmt.Errorf("loader %d stopped: %w", index, cause)
	}
	return err
}

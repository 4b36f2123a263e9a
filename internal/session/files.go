package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/inferbench/inferbench/internal/result"
)

// The files a session writes are checked before anything is sent, so
// that a load is never run only to lose its measurements at the end:
//
//   - a missing folder is created (as run's -o DIR always was);
//   - symbolic links are followed: the file they name is written, the
//     link stays;
//   - the result file must be a regular file, or not exist yet, and be
//     writable: a folder, a device, a pipe or a read-only file is refused
//     (it is replaced by a rename, which would replace a device rather
//     than write through it);
//   - an existing result file is never replaced without Resume (which
//     keeps its runs) or Force;
//   - a report may be written through a device or a pipe (-o /dev/stdout),
//     not into a folder or a read-only file.
//
// A refusal is exit code 2, as a bad plan: nothing was run.

// checkFiles applies those rules to the session's result file and
// reports.
func checkFiles(o Options) error {
	if o.ResultsPath != "" {
		if err := checkResultsPath(o.ResultsPath, o.Resume, o.Force); err != nil {
			return err
		}
	}
	for _, r := range o.Reports {
		if r.Path != "" {
			if err := checkReportPath(r.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkResultsPath checks the result file's path: its folder made and
// writable, and what is there (nothing, or results that --resume or
// --force may take).
func checkResultsPath(path string, resume, force bool) error {
	target, info, err := result.WritableTarget(path)
	if err != nil {
		return err
	}
	if err := writableFolder(filepath.Dir(target)); err != nil {
		return err
	}
	switch {
	case resume && info == nil:
		return fmt.Errorf("--resume: %s does not exist: there is nothing to resume (run without --resume)", path)
	case info == nil || resume || force:
		return nil
	}
	what := "a file that is not a result file"
	if f, err := result.Read(target); err == nil {
		what = fmt.Sprintf("results (%d runs", len(f.Runs))
		if f.Plan != nil && f.Plan.Path != "" {
			what += " of " + f.Plan.Path
		}
		what += ")"
	}
	return fmt.Errorf("%s already holds %s: --resume finishes those runs, --force replaces them, or choose another path", path, what)
}

// checkReportPath checks a report's path: its folder made, and what is
// there neither a folder nor a read-only file.
func checkReportPath(path string) error {
	target, err := result.ResolveLinks(path)
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	info, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writableFolder(filepath.Dir(target))
	case err != nil:
		return fmt.Errorf("report: %w", err)
	case info.IsDir():
		return fmt.Errorf("report %s is a folder: give a file name", path)
	case !info.Mode().IsRegular():
		return nil // written through: a device, a pipe
	case info.Mode().Perm()&0o222 == 0:
		return fmt.Errorf("report %s is read-only: make it writable (chmod u+w) or choose another path", path)
	}
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("report %s cannot be written: %w", path, err)
	}
	return f.Close()
}

// writableFolder makes a folder if it is missing and checks that a file
// can be made in it.
func writableFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot make the folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".inferbench-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in the folder %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// otherPlan says how the plan a result file was written for differs from
// the plan being run (empty when they are the same): --resume must not
// mix the runs of two plans.
func otherPlan(stored, current *result.PlanInfo) string {
	switch {
	case stored == nil || current == nil:
		if stored == current {
			return ""
		}
		return "it does not record its plan"
	case stored.Text != current.Text:
		return fmt.Sprintf("it holds the runs of another plan (%s, whose text differs from %s's)", stored.Path, current.Path)
	case stored.Quick != current.Quick:
		return fmt.Sprintf("its runs were made with quick=%v, this run has quick=%v", stored.Quick, current.Quick)
	}
	return ""
}

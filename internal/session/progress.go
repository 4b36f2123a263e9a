package session

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/sanitize"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	if w == nil {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressView shows the engine's progress: a bar on a terminal, plain
// lines "Progress: 100/1000 - Errors: 150" at most once a second in a log,
// nothing when quiet.
type progressView struct {
	w        io.Writer
	terminal bool
	quiet    bool
	label    string
	bar      *progressbar.ProgressBar
}

// newProgressView shows progress on w; nil is quiet.
func newProgressView(w io.Writer) *progressView {
	return &progressView{w: w, terminal: w != nil && isTerminal(w), quiet: w == nil}
}

// interval is how often the engine should report.
func (v *progressView) interval() time.Duration {
	if v.terminal {
		return 150 * time.Millisecond
	}
	return time.Second
}

// level starts a new load level and returns its progress callback.
func (v *progressView) level(label string) func(load.Progress) {
	v.label = sanitize.Line(label)
	return v.update
}

// update is the engine's progress callback.
func (v *progressView) update(p load.Progress) {
	if v.quiet {
		return
	}
	if p.Phase == load.PhaseWarmup {
		if p.Final {
			fmt.Fprintf(v.w, "Warmup complete (%d/%d successful)\n", p.Done-p.Errors, p.Done)
		}
		return
	}
	if !v.terminal {
		if p.Total > 0 {
			fmt.Fprintf(v.w, "Progress: %d/%d - Errors: %d\n", p.Done, p.Total, p.Errors)
		} else {
			fmt.Fprintf(v.w, "Progress: %d (%.0fs/%.0fs) - Errors: %d\n", p.Done, p.Elapsed.Seconds(), p.Duration.Seconds(), p.Errors)
		}
		return
	}
	if v.bar == nil {
		max := p.Total
		if max == 0 {
			max = p.Duration.Milliseconds()
		}
		v.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionSetDescription(v.label),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	v.bar.Describe(fmt.Sprintf("%s  %d done, %d errors", v.label, p.Done, p.Errors))
	if p.Total > 0 {
		_ = v.bar.Set64(p.Done)
	} else {
		_ = v.bar.Set64(min(p.Elapsed.Milliseconds(), p.Duration.Milliseconds()))
	}
	if p.Final {
		_ = v.bar.Finish()
		v.bar = nil
	}
}

// Package cli builds inferbench's command tree: one file per command, each
// turning flags into options for the packages that do the work.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/sanitize"
	"github.com/inferbench/inferbench/internal/session"
)

// Version is the tool's version.
const Version = "0.1.0-dev"

// stopSignals end a command as Ctrl-C does: what was measured is written,
// the exit code is 130. SIGHUP (a closed terminal or SSH session) is one of
// them: by default it would kill the process with nothing written.
// Windows delivers only os.Interrupt; the others compile and never fire.
func stopSignals() []os.Signal { return []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} }

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	defer stop()
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		// An error may carry a server's words: quoted, they cannot reach
		// the terminal's escape sequences.
		fmt.Fprintf(stderr, "inferbench: %s\n", sanitize.Lines(err.Error()))
		var ee *session.ExitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		return 1
	}
	return 0
}

// NewRootCommand builds the command tree.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "inferbench",
		Short:         "Benchmark ML inference deployments (KServe v2 / Triton / NIM) and tell which is best at which load",
		Long:          "Benchmark ML inference deployments (KServe v2 / Triton / NIM) and tell which is best at which load.\n\n" + exitCodes,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// A flag that cannot be parsed or makes no sense is refused with
	// exit code 2, before anything is connected to.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.PersistentPreRunE = checkNumberFlags
	root.AddCommand(newDemoCommand(), newRunCommand(), newBenchCommand(), newSweepCommand(), newServeCommand(), newCheckCommand(), newReportCommand(), newSchemaCommand(), newMergeCommand(), newCompareCommand(), newLoaderCommand())
	return root
}

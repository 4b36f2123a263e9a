package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

func newCompareCommand() *cobra.Command {
	var format, output, failOn string
	cmd := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
		Short: "Compare two result files step by step, each change with its 95% interval; --fail-on-regression gates CI",
		Long: `Compare two result files: the steps measured in both are matched by deployment, step and
load, and each figure (throughput, p50, p90, p95, p99, p99.9) of NEW is compared with BASE's:
"p99 +18% (+9 to +27%), regression". The interval is that of the ratio NEW/BASE, from the
trials of each (--repeat 3 or more) or from each run's per-second timeline (runs of 10 s or
more); a change whose interval holds no change is not significant. Throughput down or latency
up is a regression. With --fail-on-regression 10%, any significant change worse by more than
10% gives exit code 3. A v1 file, which keeps no timeline, is compared without intervals.
See docs/statistics.md.

` + exitCodes,
		Example: `  inferbench compare last-week/results.json results/results.json
  inferbench compare base.json new.json --format md >> "$GITHUB_STEP_SUMMARY"
  inferbench compare base.json new.json --fail-on-regression 10% --format junit -o compare.xml`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(report.CompareFormats, format) {
				return usageError(fmt.Errorf("--format %q: want one of %s", format, strings.Join(report.CompareFormats, ", ")))
			}
			c := report.Comparison{BaseName: args[0], NewName: args[1]}
			if cmd.Flags().Changed("fail-on-regression") {
				tol, err := parseTolerance(failOn)
				if err != nil {
					return usageError(fmt.Errorf("--fail-on-regression: %w", err))
				}
				c.Tolerance, c.Gate = tol, true
			}
			base, err := result.Read(args[0])
			if err != nil {
				return usageError(err)
			}
			next, err := result.Read(args[1])
			if err != nil {
				return usageError(err)
			}
			c.New = analyze.Judged(next)
			c.Result = analyze.CompareFiles(base, next, analyze.ReportedPercentiles)
			if len(c.Result.Matched) == 0 {
				return usageError(fmt.Errorf("%s and %s have no runs in common (the same deployment, step and load): %s has %s; %s has %s",
					args[0], args[1], args[0], listOrNone(c.Result.OnlyBase), args[1], listOrNone(c.Result.OnlyNew)))
			}
			var v1 []string
			for _, p := range []struct {
				name string
				f    *result.File
			}{{args[0], base}, {args[1], next}} {
				if p.f.Schema == result.SchemaV1 {
					v1 = append(v1, p.name)
				}
			}
			if len(v1) > 0 {
				c.WhyNoIntervals = fmt.Sprintf("No intervals for %s: an %s file keeps no per-second timeline (and runs of one trial), so its changes are shown without one and never count as significant.",
					strings.Join(v1, " and "), result.SchemaV1)
			}
			out := cmd.OutOrStdout()
			var file *os.File
			if output != "" {
				if file, err = os.Create(output); err != nil {
					return fmt.Errorf("compare: %w", err)
				}
				out = file
			}
			err = report.WriteComparison(out, format, c)
			if file != nil {
				err = errors.Join(err, file.Close())
			}
			if err != nil {
				return err
			}
			if failing := c.Result.Failing(c.Tolerance); c.Gate && len(failing) > 0 {
				return &session.ExitError{Code: 3, Err: fmt.Errorf("%d %s worse by more than %g%%:\n  %s", len(failing), plural(len(failing), "change", "changes"), 100*c.Tolerance, strings.Join(failing, "\n  "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(report.CompareFormats, "|")+" (md for a CI job summary or a pull-request comment; junit: one test case per compared step and per threshold of NEW)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&failOn, "fail-on-regression", "", "exit code 3 when a significant change is worse than this: 10% (or 0.1)")
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// parseTolerance reads "10%" or "0.1" as 0.1.
func parseTolerance(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage such as 10%%", s)
	}
	if pct || v > 1 {
		v /= 100
	}
	if !(v >= 0 && v < 10) {
		return 0, fmt.Errorf("%q: want a percentage from 0%% up", s)
	}
	return v, nil
}

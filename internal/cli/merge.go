package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/merge"
	"github.com/inferbench/inferbench/internal/result"
)

func newMergeCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "merge A.json B.json... -o MERGED.json",
		Short: "Merge result files exactly: the shards of one load run from several loaders, or repeated trials",
		Long: `Merge result files. Runs that measured the same deployment (name, protocol, URL,
model and version) at the same step and load (mode, concurrency, rate, arrival, duration;
the request counts may differ and are added) become one run: their histograms, counts,
errors, warmups and timelines are added exactly, their latency percentiles recomputed from
the merged histogram, and their throughput is the successes over the union of their measured
phases. Runs that do not match, and runs that keep no histograms (v1 files, failed runs,
sweep levels), are kept as they were, side by side. The command says which runs it merged
and why it kept the others apart.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				return errors.New("-o MERGED.json is required")
			}
			inputs := make([]merge.Input, 0, len(args))
			for _, path := range args {
				f, err := result.Read(path)
				if err != nil {
					return err
				}
				inputs = append(inputs, merge.Input{Name: path, File: f})
			}
			out, err := merge.Files(inputs, Version, time.Now())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, l := range out.Lines {
				fmt.Fprintln(w, l)
			}
			if err := result.Write(output, out.File); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s: %d runs, %d merged, %d kept as they were\n", output, len(out.File.Runs), out.Merged, out.Kept)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "the merged result file to write")
	return cmd
}

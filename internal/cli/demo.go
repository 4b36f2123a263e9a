package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/report"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/sandbox"
	"github.com/inferbench/inferbench/internal/session"
)

func newDemoCommand() *cobra.Command {
	var outDir string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Compare the field guide's four deployments, emulated on this machine, in under a minute",
		Long: `Start the reference server's field-guide preset in this process on free loopback
ports (base-yolo, a GIL-bound PyTorch service; nim-binary and nim-grpc, single-instance
NIMs over HTTP and gRPC; nim-batching, a NIM with dynamic batching), run the guide's
recommended sequence against them (with two more levels, c=4 and c=24, so that each
deployment's plateau shows), print the comparison, and write results.json, report.html
and plan.yaml (the same plan, to edit for your own endpoints). All four are sent the
same built-in picture (base-yolo as a base64 JSON body over plain HTTP, the NIMs as
letterboxed tensors), and their answers are compared before the load.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, outDir, quiet) },
	}
	cmd.Flags().StringVarP(&outDir, "output", "o", "inferbench-demo", "folder for results.json, report.html and plan.yaml")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// planYAML writes a plan as the YAML a user edits.
func planYAML(p *plan.Plan) string {
	var b strings.Builder
	b.WriteString("# The demo's plan: replace the URLs with your own endpoints.\n")
	text, err := p.YAML()
	if err != nil {
		fmt.Fprintf(&b, "# inferbench could not write it: %v\n", err)
		return b.String()
	}
	b.Write(text)
	return b.String()
}

func runDemo(cmd *cobra.Command, outDir string, quiet bool) error {
	box, err := sandbox.Start("field-guide")
	if err != nil {
		return err
	}
	defer box.Stop()
	p, yaml := box.Plan, planYAML(box.Plan)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	resultsPath := filepath.Join(outDir, "results.json")
	htmlPath := filepath.Join(outDir, "report.html")
	planPath := filepath.Join(outDir, "plan.yaml")
	if err := os.WriteFile(planPath, []byte(yaml), 0o644); err != nil {
		return err
	}
	// The demo's folder is its own: a demo run again replaces its files.
	o := session.Options{Version: Version, ResultsPath: resultsPath, Force: true, Stdout: cmd.OutOrStdout(),
		Plan:          &result.PlanInfo{Path: "inferbench demo (the field-guide preset, in-process)", Text: yaml},
		Reports:       []session.Report{{Format: "html", Path: htmlPath}},
		InterruptHint: "interrupted; the files hold what was measured"}
	if !quiet {
		o.Log = cmd.ErrOrStderr()
		session.PrintDeployments(o.Log, "Started the field guide's deployments on loopback (emulated: no GPU needed):", p)
		session.PrintPlan(o.Log, p, false)
	}
	start := time.Now()
	file, err := session.Run(cmd.Context(), p, session.Steps{Steps: p.Steps}, o)
	if file == nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out)
	if rerr := session.WriteReport(out, "", "text", file, report.Options{}); rerr != nil {
		return rerr
	}
	printDemoEnd(out, time.Since(start), resultsPath, htmlPath, planPath, yaml)
	return err
}

func printDemoEnd(w io.Writer, took time.Duration, results, html, planPath, yaml string) {
	fmt.Fprintf(w, "\nDone in %s. Wrote %s, %s and %s.\n", took.Round(time.Second), results, html, planPath)
	fmt.Fprintf(w, "\nTo run the same against your own deployments, edit this plan (%s) and run\n  inferbench run %s -o results/\n\n%s", planPath, planPath, yaml)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/run"
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

// demoPlan is the plan the demo runs against the preset's pods.
func demoPlan(pods []*refserver.Pod) (*plan.Plan, string) {
	addr := map[string]*refserver.Pod{}
	for _, p := range pods {
		addr[p.Server.Name()] = p
	}
	var deps []plan.Deployment
	if p := addr[refserver.PodBaseYOLO]; p != nil {
		// A plain FastAPI service: http-json with its default preset
		// (POST /predict {"image": "<base64>"}), the refserver's plain API.
		deps = append(deps, plan.Deployment{Name: refserver.PodBaseYOLO, Protocol: string(protocol.HTTPJSON), URL: "http://" + p.HTTPAddr, Model: "yolov8n",
			MetricsURL: metricsOf(p), HTTP: protocol.HTTPOptions{Preset: "fastapi"}})
	}
	if p := addr[refserver.PodNIMBinary]; p != nil {
		deps = append(deps, plan.Deployment{Name: refserver.PodNIMBinary, Protocol: string(protocol.KServeHTTP), URL: "http://" + p.HTTPAddr, Model: "yolov8n", MetricsURL: metricsOf(p)})
	}
	if p := addr[refserver.PodNIMGRPC]; p != nil {
		deps = append(deps, plan.Deployment{Name: refserver.PodNIMGRPC, Protocol: string(protocol.KServeGRPC), URL: p.GRPCAddr, Model: "yolov8n", MetricsURL: metricsOf(p)})
	}
	if p := addr[refserver.PodNIMBatching]; p != nil {
		deps = append(deps, plan.Deployment{Name: refserver.PodNIMBatching, Protocol: string(protocol.KServeGRPC), URL: p.GRPCAddr, Model: "yolov8n", Batching: true, MetricsURL: metricsOf(p)})
	}
	// Every deployment gets the same picture (the built-in street scene),
	// and their answers are compared before the load.
	for i := range deps {
		deps[i].Inputs.Image = inputs.BuiltinImage
	}
	p := &plan.Plan{Path: "demo", Deployments: deps, Steps: demoSteps(), CheckOutputs: true}
	return p, planYAML(p)
}

// demoSteps is the field guide's recommended sequence (baseline, realistic,
// heavy, stress on the batching deployment) with two levels added, light
// (c=4) and peak (c=24), so that every deployment has the five levels the
// operating-point analysis needs to find its plateau. It takes under a
// minute on 2 cores.
func demoSteps() []plan.Step {
	seq, _ := plan.Builtin("recommended")
	baseline, realistic, heavy, stress := seq.Steps[0], seq.Steps[1], seq.Steps[2], seq.Steps[3]
	return []plan.Step{
		baseline,
		{Name: "light", Concurrency: 4, Requests: 100},
		realistic,
		heavy,
		{Name: "peak", Concurrency: 24, Requests: 500},
		stress,
	}
}

// metricsOf is a pod's metrics URL.
func metricsOf(p *refserver.Pod) string {
	if p.MetricsAddr == "" {
		return ""
	}
	return "http://" + p.MetricsAddr + "/metrics"
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
	log := cmd.ErrOrStderr()
	specs, err := refserver.FieldGuide(0).Build()
	if err != nil {
		return err
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		return fmt.Errorf("starting the field-guide preset: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = refserver.ShutdownPods(ctx, pods)
	}()
	p, yaml := demoPlan(pods)
	if !quiet {
		fmt.Fprintln(log, "Started the field guide's deployments on loopback (emulated: no GPU needed):")
		for _, d := range p.Deployments {
			fmt.Fprintf(log, "  %-13s %-17s %s\n", d.Name, d.Protocol, d.URL)
		}
		printPlanIntro(log, p, p.Steps, false)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	resultsPath := filepath.Join(outDir, "results.json")
	file := result.New(Version, time.Now())
	file.Environment = result.CurrentEnvironment()
	file.Plan = &result.PlanInfo{Path: "inferbench demo (the field-guide preset, in-process)", Text: yaml}
	view := newProgressView(log, quiet)
	ctx := cmd.Context()
	start := time.Now()
	err = run.Execute(ctx, p, p.Steps, run.PlanOptions{
		File: file, Save: func(f *result.File) error { return result.Write(resultsPath, f) },
		Log: logWriter(log, quiet), DefaultTimeout: protocol.DefaultTimeout, Grace: load.DefaultGrace,
		Progress:         func(label string) func(load.Progress) { view.level(label); return view.update },
		ProgressInterval: view.interval(),
	})
	if err != nil {
		return err
	}
	file.Complete = ctx.Err() == nil
	if err := result.Write(resultsPath, file); err != nil {
		return err
	}
	htmlPath := filepath.Join(outDir, "report.html")
	planPath := filepath.Join(outDir, "plan.yaml")
	if err := writeReport(nil, htmlPath, "html", file); err != nil {
		return err
	}
	if err := os.WriteFile(planPath, []byte(yaml), 0o644); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out)
	if err := writeReport(out, "", "text", file); err != nil {
		return err
	}
	printDemoEnd(out, time.Since(start), resultsPath, htmlPath, planPath, yaml)
	if !file.Complete {
		return &exitError{code: 130, err: errors.New("interrupted; the files hold what was measured")}
	}
	return nil
}

func printDemoEnd(w io.Writer, took time.Duration, results, html, planPath, yaml string) {
	fmt.Fprintf(w, "\nDone in %s. Wrote %s, %s and %s.\n", took.Round(time.Second), results, html, planPath)
	fmt.Fprintf(w, "\nTo run the same against your own deployments, edit this plan (%s) and run\n  inferbench run %s -o results/\n\n%s", planPath, planPath, yaml)
}

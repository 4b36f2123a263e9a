package refserver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Serve starts the pods the options describe, writes their banner to out,
// serves until ctx is done, then lets requests in flight finish (5 s at
// most).
func (o ServeOptions) Serve(ctx context.Context, out io.Writer) error {
	c, source, err := o.Resolve()
	if err != nil {
		return err
	}
	specs, err := c.Build()
	if err != nil {
		return err
	}
	pods, err := StartPods(specs)
	if err != nil {
		return err
	}
	WriteBanner(out, pods, source, o.TimeScale)
	fmt.Fprintln(out, "Serving; Ctrl-C to stop.")

	<-ctx.Done()
	fmt.Fprintln(out, "Stopping: letting requests in flight finish (5 s at most).")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return ShutdownPods(sctx, pods)
}

// WriteBanner describes started pods: with source "" the one pod of a
// single-model server (scripts read the address lines: "  gRPC
// host:port"), else each pod with its models and endpoints, the source
// (--config FILE or --preset NAME) and the time scale in the title.
func WriteBanner(out io.Writer, pods []*Pod, source string, scale float64) {
	if source == "" && len(pods) == 1 {
		fmt.Fprintf(out, "inferbench reference server %s\n", ServerVersion)
		for _, line := range pods[0].Server.Describe() {
			fmt.Fprintf(out, "  %s\n", line)
		}
		pods[0].WriteAddrs(out, "  ")
		return
	}
	note := ""
	if scale != 1 {
		note = fmt.Sprintf(", every time x %g", scale)
	}
	fmt.Fprintf(out, "inferbench reference server %s: %d pods (%s%s)\n", ServerVersion, len(pods), source, note)
	for _, p := range pods {
		fmt.Fprintf(out, "\npod %s\n", p.Server.Name())
		for _, line := range p.Server.Describe() {
			fmt.Fprintf(out, "    %s\n", strings.TrimSpace(line))
		}
		p.WriteAddrs(out, "    ")
	}
	fmt.Fprintln(out)
}

// WriteAddrs writes a line per endpoint of the pod, each after indent.
func (p *Pod) WriteAddrs(out io.Writer, indent string) {
	line := func(what, addr, url, note string) {
		if addr != "" {
			fmt.Fprintf(out, "%s%-8s %s%s\n", indent, what, url, note)
		}
	}
	httpScheme, grpcScheme, note := "http://", "", ""
	if p.Server.tls != nil {
		httpScheme, grpcScheme, note = "https://", "grpcs://", "   (TLS)"
		if p.Server.tls.ClientCAs != nil {
			note = "   (TLS, client certificates required)"
		}
	}
	if p.API == APIPlain {
		line("HTTP", p.HTTPAddr, httpScheme+p.HTTPAddr, "   (plain API: POST /predict, GET /health)"+note)
	} else {
		line("HTTP", p.HTTPAddr, httpScheme+p.HTTPAddr, note)
	}
	line("gRPC", p.GRPCAddr, grpcScheme+p.GRPCAddr, note)
	line("metrics", p.MetricsAddr, "http://"+p.MetricsAddr+"/metrics", "")
}

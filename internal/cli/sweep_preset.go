package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// presetTargets starts a preset's pods in this process on free loopback
// ports and checks each deployment as the demo plan names it (base-yolo
// over http-json, its plain FastAPI-style API; the NIMs over KServe), in
// the field guide's order, each pod with its own memory limit for the
// guide's memory check. The returned function shuts the pods down.
func presetTargets(ctx context.Context, name string, log io.Writer) ([]sweepTarget, func(), error) {
	cfg, err := refserver.Preset(name, 0)
	if err != nil {
		return nil, nil, err
	}
	specs, err := cfg.Build()
	if err != nil {
		return nil, nil, err
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		return nil, nil, fmt.Errorf("starting the %s preset: %w", name, err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = refserver.ShutdownPods(ctx, pods)
	}
	limits := map[string]int64{}
	for _, p := range cfg.Pods {
		limits[p.Name] = p.MemoryLimit
	}
	p, _ := demoPlan(pods)
	if log != nil {
		fmt.Fprintf(log, "Started the %s preset on loopback (emulated: no GPU needed):\n", name)
		for _, d := range p.Deployments {
			fmt.Fprintf(log, "  %-13s %-12s %s\n", d.Name, d.Protocol, d.URL)
		}
	}
	targets := planTargets(ctx, p.Deployments, protocol.DefaultTimeout)
	for i := range targets {
		targets[i].memoryLimit = limits[targets[i].dep.Name]
	}
	return targets, stop, nil
}

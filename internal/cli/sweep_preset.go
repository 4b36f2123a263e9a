package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// presetTargets starts a preset's pods in this process on free loopback
// ports and checks each deployment, in the field guide's order. The
// returned function shuts the pods down.
//
// base-yolo serves the plain HTTP API (POST /predict), which inferbench's
// load clients do not speak yet: the sweep serves the same emulator (a
// GIL-bound service of 23 ms, queue limit 15) over KServe HTTP with the
// NIMs' tensors instead. Its curve is the preset's; its protocol cost is
// KServe's, not FastAPI's.
func presetTargets(ctx context.Context, name string, maxConcurrency int, log io.Writer) ([]sweepTarget, func(), error) {
	cfg, err := refserver.Preset(name, 0)
	if err != nil {
		return nil, nil, err
	}
	cfg = kserveBaseYOLO(cfg)
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
	deps := p.Deployments
	for _, pod := range pods {
		if pod.Server.Name() == refserver.PodBaseYOLO {
			deps = append([]plan.Deployment{{Name: refserver.PodBaseYOLO, Protocol: string(protocol.KServeHTTP), URL: "http://" + pod.HTTPAddr,
				Model: "yolov8n", MetricsURL: metricsOf(pod)}}, deps...)
		}
	}
	if log != nil {
		fmt.Fprintf(log, "Started the %s preset on loopback (emulated: no GPU needed); base-yolo's emulator over KServe HTTP:\n", name)
		for _, d := range deps {
			fmt.Fprintf(log, "  %-13s %-12s %s\n", d.Name, d.Protocol, d.URL)
		}
	}
	targets := planTargets(ctx, deps, protocol.DefaultTimeout)
	for i := range targets {
		targets[i].memoryLimit = limits[targets[i].dep.Name]
	}
	return targets, stop, nil
}

// kserveBaseYOLO serves base-yolo's model over KServe HTTP, with the
// NIMs' image tensors, keeping its emulator and faults.
func kserveBaseYOLO(cfg refserver.Config) refserver.Config {
	var nim *refserver.ModelConfig
	for i := range cfg.Pods {
		if cfg.Pods[i].Name == refserver.PodNIMBinary && len(cfg.Pods[i].Models) > 0 {
			nim = &cfg.Pods[i].Models[0]
		}
	}
	for i := range cfg.Pods {
		p := &cfg.Pods[i]
		if p.Name != refserver.PodBaseYOLO || nim == nil {
			continue
		}
		p.HTTPAPI = refserver.APIKServe
		models := append([]refserver.ModelConfig(nil), p.Models...)
		for j := range models {
			models[j].Inputs, models[j].Outputs, models[j].MaxBatchSize = nim.Inputs, nim.Outputs, 0
		}
		p.Models = models
	}
	return cfg
}

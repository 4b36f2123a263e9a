// Package sandbox starts a preset of the reference server in this
// process, on free loopback ports, and describes its deployments as a
// plan: what the demo and `sweep --preset` measure.
package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// Sandbox is a running preset.
type Sandbox struct {
	// Plan names the preset's deployments as a user's plan would, with
	// the demo's steps.
	Plan *plan.Plan
	// MemoryLimits are the pods' memory limits by deployment name.
	MemoryLimits map[string]int64
	pods         []*refserver.Pod
}

// Start starts the named preset (field-guide).
func Start(name string) (*Sandbox, error) {
	cfg, err := refserver.Preset(name, 0)
	if err != nil {
		return nil, err
	}
	specs, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		return nil, fmt.Errorf("starting the %s preset: %w", name, err)
	}
	s := &Sandbox{Plan: Plan(pods), MemoryLimits: map[string]int64{}, pods: pods}
	for _, p := range cfg.Pods {
		s.MemoryLimits[p.Name] = p.MemoryLimit
	}
	return s, nil
}

// Stop shuts the pods down.
func (s *Sandbox) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = refserver.ShutdownPods(ctx, s.pods)
}

// Plan names the field guide's deployments served by pods as a user's
// plan would: base-yolo over http-json with its FastAPI preset (POST
// /predict {"image": "<base64>"}, the reference server's plain API), the
// NIMs over KServe, all sent the same built-in picture and their answers
// compared before the load; with the demo's steps.
func Plan(pods []*refserver.Pod) *plan.Plan {
	addr := map[string]*refserver.Pod{}
	for _, p := range pods {
		addr[p.Server.Name()] = p
	}
	var deps []plan.Deployment
	if p := addr[refserver.PodBaseYOLO]; p != nil {
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
	for i := range deps {
		deps[i].Inputs.Image = inputs.BuiltinImage
	}
	return &plan.Plan{Path: "demo", Deployments: deps, Steps: Steps(), CheckOutputs: true}
}

// Steps is the field guide's recommended sequence (baseline, realistic,
// heavy, stress on the batching deployment) with two levels added, light
// (c=4) and peak (c=24), so that every deployment has the five levels the
// operating-point analysis needs to find its plateau. It takes under a
// minute on 2 cores.
func Steps() []plan.Step {
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

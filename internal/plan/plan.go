// Package plan is the plan file: the deployments to compare and the
// sequence of load steps to run against them, loaded from YAML with every
// error placed at its file, line and column, and the field guide's
// built-in sequences.
package plan

import (
	"fmt"
	"slices"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/threshold"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// Plan is a checked plan.
type Plan struct {
	Path        string
	Deployments []Deployment
	Steps       []Step
	// Sequence names the built-in sequence the steps come from, if any.
	Sequence string
	// CheckOutputs compares the deployments' answers for the same images
	// before the load (check_outputs: true).
	CheckOutputs bool
	// Repeat is how many trials each step runs per deployment, unless the
	// step sets its own (0: one).
	Repeat int
	// Thresholds are the plan's pass/fail criteria.
	Thresholds []Threshold
	// Loaders, when set, splits the load over several loaders (run
	// --loaders); nil: one, this process.
	Loaders *Loaders
	// passwords are those the deployments' URLs carried (RedactText).
	passwords []string
}

// Deployment is one way the model is deployed.
type Deployment struct {
	Name     string
	Protocol string
	URL      string
	Model    string
	Version  string
	Timeout  time.Duration // 0: the tool's default
	// Headers are sent with every call, ${NAME} replaced by the
	// environment variable's value.
	Headers map[string]string
	// HeadersAsWritten are the headers as the file gives them, ${NAME}
	// unreplaced: what YAML writes, so that tokens stay out of files.
	HeadersAsWritten map[string]string
	Inputs           Inputs
	// Batching marks a deployment with dynamic batching: the field guide
	// runs its stress step against those only.
	Batching bool
	// MetricsURL is the server's Prometheus metrics: a URL, "auto" (the
	// default: Triton's port 8002, else the statistics API) or "off".
	MetricsURL string
	// Kubernetes names the deployment's pods for the pod checks; nil: off.
	Kubernetes *Kubernetes
	// HTTP shapes the requests of the image kinds (nim-http, http-json);
	// its preset's defaults apply to what it leaves empty.
	HTTP protocol.HTTPOptions
	// ConnectTimeout bounds establishing a connection (0: the tool's
	// default); Connections is how many gRPC channels the calls are
	// spread over (0: the tool's default).
	ConnectTimeout time.Duration
	Connections    int
	// MaxResponseSize bounds a response body or gRPC message, in bytes
	// (0: the tool's default, protocol.DefaultMaxResponseSize): a larger
	// one is a malformed response, and no buffer grows past it.
	MaxResponseSize int64
	// GRPCTransport chooses kserve-grpc's implementation:
	// protocol.GRPCTransportFast (also when empty) or GRPCTransportGo.
	GRPCTransport string
	// TLS are the TLS settings (UsesTLS says whether TLS is on).
	TLS tlsconf.Client
	// Authority is gRPC's :authority (and the HTTP Host header) when it
	// is not the URL's host:port, as grpcurl's -authority.
	Authority string
	// Compression compresses the request bodies or gRPC messages: "gzip",
	// "deflate", "none", or "" when not given (none; run's --compression
	// applies to it) (protocol.Options.Compression).
	Compression string
	// SharedMemory is Triton's system shared-memory extension (the KServe
	// protocols): "system",
	// or "" (none) (protocol.Options.SharedMemory).
	SharedMemory string
}

// Inputs say what a deployment is sent.
type Inputs struct {
	Shapes    map[string][]int64 `yaml:"shapes,omitempty,flow"`
	BatchSize int                `yaml:"batch_size,omitempty"`
	Data      string             `yaml:"data,omitempty"`  // perf_analyzer JSON file
	Image     string             `yaml:"image,omitempty"` // image file, folder or glob
	Seed      uint64             `yaml:"seed,omitempty"`  // of random input data; 0: 1
}

// Step is one load level, run against some or all deployments.
type Step struct {
	Name        string
	Concurrency int
	Rate        float64 // above 0: open loop
	Arrival     string
	Requests    int
	Duration    time.Duration
	// Deployments names the deployments the step runs against; empty
	// means all of them.
	Deployments []string
	// BatchingOnly runs the step against batching deployments only (the
	// guide's stress step), unless Deployments names others.
	BatchingOnly bool
	// Warmup is the requests sent before the measured phase; nil: the
	// field guide's default, min(10, max(5, requests/20)).
	Warmup *int
	// MaxInFlight bounds an open-loop step's requests awaiting answers
	// (0: the engine's default); Seed seeds its Poisson arrivals (0: 1).
	MaxInFlight int
	Seed        uint64
	// Repeat is the step's trials per deployment (0: the plan's).
	Repeat int
	// Stages change the load over the step, whose Duration is their
	// length: open loop, rates ramping from Rate (0 allowed); or with
	// StagedConcurrency closed loop, workers from Concurrency.
	Stages            []load.Stage
	StagedConcurrency bool
	// Schedule is a trace to replay (open loop), read from SchedulePath
	// (as written) in ScheduleFormat, at ScheduleSpeed, looping with
	// ScheduleLoop.
	Schedule       *load.Schedule
	SchedulePath   string
	ScheduleFormat string
	ScheduleSpeed  float64
	ScheduleLoop   bool
	// BurstSize and BurstIdle shape Arrival load.ArrivalBursty.
	BurstSize int
	BurstIdle time.Duration
	// Phase delays a constant open-loop schedule: one loader's offset
	// among several sharing a rate (internal/loaders). Never in a plan
	// file.
	Phase time.Duration
}

// Open reports whether the step's load is open loop.
func (s Step) Open() bool {
	return s.Rate > 0 || s.Schedule != nil || s.Arrival == load.ArrivalBursty || (len(s.Stages) > 0 && !s.StagedConcurrency)
}

// Threshold is a pass/fail criterion, limited to a deployment or a step
// when they are named.
type Threshold struct {
	Expr             string
	Deployment, Step string
	Parsed           threshold.Threshold
}

// Trials is how many times a step runs against each deployment: its own
// repeat, else the plan's, else once.
func (p *Plan) Trials(s Step) int {
	switch {
	case s.Repeat > 0:
		return s.Repeat
	case p.Repeat > 0:
		return p.Repeat
	}
	return 1
}

// Load describes the step's load for people: "c=8, 200 requests".
func (s Step) Load() string {
	level := fmt.Sprintf("c=%d", s.Concurrency)
	switch {
	case len(s.Stages) > 0:
		if s.StagedConcurrency {
			level = fmt.Sprintf("%d stages up to c=%g", len(s.Stages), load.MaxStageTarget(s.Stages, float64(s.Concurrency)))
		} else {
			level = fmt.Sprintf("%d stages up to %g/s", len(s.Stages), load.MaxStageTarget(s.Stages, s.Rate))
		}
	case s.Schedule != nil:
		level = fmt.Sprintf("schedule %s at %gx", s.SchedulePath, s.ScheduleSpeed)
	case s.Arrival == load.ArrivalBursty:
		level = fmt.Sprintf("bursts of %d every %v", s.BurstSize, s.BurstIdle)
	case s.Rate > 0:
		level = fmt.Sprintf("%g/s %s", s.Rate, s.Arrival)
	}
	if s.Duration > 0 {
		return fmt.Sprintf("%s for %v", level, s.Duration)
	}
	return fmt.Sprintf("%s, %d requests", level, s.Requests)
}

// Targets lists the deployments a step runs against, in the plan's order.
func (p *Plan) Targets(s Step) []Deployment {
	var out []Deployment
	for _, d := range p.Deployments {
		if s.RunsAgainst(d) {
			out = append(out, d)
		}
	}
	return out
}

// RunsAgainst reports whether the step runs against d: the deployments it
// names, or else the batching ones for a batching-only step, or else all.
func (s Step) RunsAgainst(d Deployment) bool {
	switch {
	case len(s.Deployments) > 0:
		return slices.Contains(s.Deployments, d.Name)
	case s.BatchingOnly:
		return d.Batching
	}
	return true
}

package plan

import (
	"bytes"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inferbench/inferbench/internal/bytesize"
	"github.com/inferbench/inferbench/internal/load"
)

// yamlHeader opens a written plan.
const yamlHeader = `# inferbench plan: inferbench run FILE -o results/ runs it
# (inferbench schema prints the format for editors)
`

// YAML writes the plan as the file a user edits: a short header, then the
// format's keys (format.go), leaving out what is empty or the default.
// Steps from a built-in sequence are written as sequence: NAME; a step
// for batching deployments only as the list of their names. Headers are
// written as the file gave them, ${NAME} unreplaced.
func (p *Plan) YAML() ([]byte, error) {
	f := planFile{CheckOutputs: p.CheckOutputs, Sequence: p.Sequence, Repeat: p.Repeat, Loaders: p.Loaders}
	for _, t := range p.Thresholds {
		f.Thresholds = append(f.Thresholds, fileThreshold{Expr: t.Expr, Deployment: t.Deployment, Step: t.Step})
	}
	for _, d := range p.Deployments {
		headers := d.HeadersAsWritten
		if headers == nil {
			headers = d.Headers
		}
		f.Deployments = append(f.Deployments, fileDeployment{Name: d.Name, Protocol: d.Protocol, URL: d.URL, Model: d.Model,
			Version: d.Version, Timeout: durationOf(d.Timeout), Headers: headers, Batching: d.Batching, MetricsURL: d.MetricsURL,
			Inputs: d.Inputs, HTTP: fileHTTP(d.HTTP), Kubernetes: d.Kubernetes, ConnectTimeout: durationOf(d.ConnectTimeout), Connections: d.Connections,
			MaxResponseSize: sizeOf(d.MaxResponseSize), GRPCTransport: d.GRPCTransport, TLS: fileTLS(d.TLS), Authority: d.Authority, Compression: d.Compression, SharedMemory: d.SharedMemory})
	}
	if p.Sequence == "" {
		for _, s := range p.Steps {
			fs := fileStep{Name: s.Name, Concurrency: s.Concurrency, Rate: s.Rate, Requests: s.Requests,
				Duration: durationOf(s.Duration), Deployments: s.Deployments, Warmup: s.Warmup, MaxInFlight: s.MaxInFlight, Seed: s.Seed, Repeat: s.Repeat}
			if s.Open() && s.Arrival != load.ArrivalConstant && s.Arrival != "" && s.Schedule == nil {
				fs.Arrival = s.Arrival
			}
			if len(s.Stages) > 0 {
				fs.Duration = ""
				for _, st := range s.Stages {
					target := st.Target
					fst := fileStage{Duration: durationOf(st.Duration), Target: &target}
					if st.Hold {
						fst.Ramp = new(bool)
					}
					fs.Stages = append(fs.Stages, fst)
				}
			}
			if s.Schedule != nil {
				fs.Schedule, fs.ScheduleFormat, fs.ScheduleLoop = s.SchedulePath, s.ScheduleFormat, s.ScheduleLoop
				if s.ScheduleSpeed != 1 {
					fs.ScheduleSpeed = fmt.Sprintf("%gx", s.ScheduleSpeed)
				}
			}
			if s.Arrival == load.ArrivalBursty {
				fs.BurstSize, fs.BurstIdle = s.BurstSize, durationOf(s.BurstIdle)
			}
			if len(s.Deployments) == 0 && s.BatchingOnly {
				for _, d := range p.Targets(s) {
					fs.Deployments = append(fs.Deployments, d.Name)
				}
				if len(fs.Deployments) == 0 {
					return nil, fmt.Errorf("step %q runs against batching deployments only, and the plan has none", s.Name)
				}
			}
			f.Steps = append(f.Steps, fs)
		}
	}
	b := bytes.NewBufferString(yamlHeader)
	e := yaml.NewEncoder(b)
	e.SetIndent(2)
	if err := e.Encode(&f); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func sizeOf(n int64) size {
	if n == 0 {
		return ""
	}
	return size(bytesize.Format(n))
}

func durationOf(d time.Duration) duration {
	if d == 0 {
		return ""
	}
	return duration(d.String())
}

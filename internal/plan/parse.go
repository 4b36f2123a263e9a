package plan

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inferbench/inferbench/internal/bytesize"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/threshold"
	"github.com/inferbench/inferbench/internal/tlsconf"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Error is a problem in a plan file, placed at its line and column.
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// LoadFile reads and checks a plan file. Header values may name
// environment variables as ${NAME}, looked up with getenv (os.LookupEnv
// when nil), so that tokens stay out of the file.
func LoadFile(path string, getenv func(string) (string, bool)) (*Plan, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, getenv)
}

// MaxSize is the most bytes a plan file may have: a plan is a few
// deployments and steps, and its text is copied into every result file
// and HTML report.
const MaxSize = 1 << 20

// ReadFile reads a plan file's text, refusing one of more than MaxSize
// bytes without reading it all.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if len(data) > MaxSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(file string) error {
	return &Error{File: file, Msg: fmt.Sprintf("the plan is larger than %d KiB: a plan is deployments and steps, a few KiB", MaxSize>>10)}
}

// Parse checks a plan held in memory; file names it in errors.
func Parse(file string, data []byte, getenv func(string) (string, bool)) (*Plan, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if len(data) > MaxSize {
		return nil, tooLarge(file)
	}
	p := &parser{file: file, getenv: getenv, nodes: map[any]*yaml.Node{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.syntaxError(data, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "the plan is empty: it needs deployments and a sequence or steps"}
	}
	var f planFile
	if err := p.decode(doc.Content[0], reflect.ValueOf(&f).Elem(), label{}); err != nil {
		return nil, err
	}
	return p.plan(&f)
}

// plan checks a decoded file.
func (p *parser) plan(f *planFile) (*Plan, error) {
	plan := &Plan{Path: p.file, CheckOutputs: f.CheckOutputs}
	first := map[string]*yaml.Node{}
	for i := range f.Deployments {
		fd := &f.Deployments[i]
		if prev, dup := first[fd.Name]; dup {
			return nil, p.errorf(p.node(&fd.Name), "deployment name %q is used twice (first at line %d)", fd.Name, prev.Line)
		}
		first[fd.Name] = p.node(&fd.Name)
		d, err := p.deployment(fd)
		if err != nil {
			return nil, err
		}
		pw, err := p.endpoint(fd, &d)
		if err != nil {
			return nil, err
		}
		if pw != "" {
			plan.passwords = append(plan.passwords, pw)
		}
		plan.Deployments = append(plan.Deployments, d)
	}
	seqNode, stepsNode := p.node(&f.Sequence), p.node(&f.Steps)
	switch {
	case seqNode != nil && stepsNode != nil:
		return nil, p.errorf(stepsNode, "give either sequence (a built-in) or steps, not both")
	case seqNode != nil:
		seq, err := Builtin(f.Sequence)
		if err != nil {
			return nil, p.errorf(seqNode, "sequence: %v", err)
		}
		plan.Steps = seq.Steps
		plan.Sequence = seq.Name
	case stepsNode != nil:
		var err error
		if plan.Steps, err = p.steps(f.Steps, plan.Deployments); err != nil {
			return nil, err
		}
	default:
		return nil, p.errorf(p.node(f), "the plan has no sequence (one of %s) and no steps", strings.Join(BuiltinNames(), ", "))
	}
	if n := p.node(&f.Repeat); n != nil {
		if err := checkRepeat(f.Repeat); err != nil {
			return nil, p.errorf(n, "repeat: %v", err)
		}
		plan.Repeat = f.Repeat
	}
	var err error
	if plan.Thresholds, err = p.thresholds(f.Thresholds, plan); err != nil {
		return nil, err
	}
	if f.Loaders != nil {
		if err := p.loaders(f.Loaders); err != nil {
			return nil, err
		}
		plan.Loaders = f.Loaders
	}
	return plan, nil
}

// MaxRepeat is the most trials a step may run.
const MaxRepeat = 100

// checkRepeat checks a number of trials (a plan's repeat, --repeat).
func checkRepeat(n int) error {
	if n < 1 || n > MaxRepeat {
		return fmt.Errorf("%d trials: want 1 to %d", n, MaxRepeat)
	}
	return nil
}

// CheckRepeat checks --repeat.
func CheckRepeat(n int) error { return checkRepeat(n) }

// thresholds checks the plan's thresholds: each expression, placed at
// its line and the column of the fault within it, and the deployment and
// step each names.
func (p *parser) thresholds(fs []fileThreshold, plan *Plan) ([]Threshold, error) {
	var out []Threshold
	for i := range fs {
		f := &fs[i]
		t, err := threshold.Parse(f.Expr)
		if err != nil {
			n := p.node(&f.Expr)
			var te *threshold.Error
			if errors.As(err, &te) && n != nil {
				col := n.Column + te.Column - 1
				if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
					col++
				}
				return nil, &Error{File: p.file, Line: n.Line, Column: col, Msg: err.Error()}
			}
			return nil, p.errorf(n, "%v", err)
		}
		if n := p.node(&f.Deployment); n != nil && !slices.ContainsFunc(plan.Deployments, func(d Deployment) bool { return d.Name == f.Deployment }) {
			return nil, p.errorf(n, "threshold %q: no deployment is named %q", f.Expr, f.Deployment)
		}
		if n := p.node(&f.Step); n != nil && !slices.ContainsFunc(plan.Steps, func(s Step) bool { return s.Name == f.Step }) {
			names := make([]string, len(plan.Steps))
			for j, s := range plan.Steps {
				names[j] = s.Name
			}
			return nil, p.errorf(n, "threshold %q: no step is named %q (have %s)", f.Expr, f.Step, strings.Join(names, ", "))
		}
		out = append(out, Threshold{Expr: f.Expr, Deployment: f.Deployment, Step: f.Step, Parsed: t})
	}
	return out, nil
}

// duration checks a duration the file gives.
func (p *parser) duration(d *duration, what string) (time.Duration, error) {
	v, err := time.ParseDuration(string(*d))
	if err != nil {
		return 0, p.errorf(p.node(d), "%s: %q is not a duration (for example 30s, 500ms, 2m)", what, *d)
	}
	if v <= 0 {
		return 0, p.errorf(p.node(d), "%s: %q must be positive", what, *d)
	}
	return v, nil
}

// MinResponseSize is the smallest max_response_size accepted: a smaller
// one is a unit left out ("64" for 64MiB), not a limit.
const MinResponseSize = 1 << 10

// CheckResponseSize checks a max_response_size (or --max-response-size):
// a size that bytesize.Parse reads, at least MinResponseSize.
func CheckResponseSize(s string) (int64, error) {
	n, err := bytesize.Parse(s)
	if err != nil {
		return 0, err
	}
	if n < MinResponseSize {
		return 0, fmt.Errorf("%d bytes is below 1 KiB: give a unit, for example 64MiB", n)
	}
	return n, nil
}

// CheckGRPCTransport checks a grpc_transport (or --grpc-transport) for a
// deployment of protocol kind: one of protocol.GRPCTransports, and only
// for kserve-grpc.
func CheckGRPCTransport(kind protocol.Kind, transport string) error {
	if !slices.Contains(protocol.GRPCTransports, transport) {
		return fmt.Errorf("%q: want one of %s", transport, strings.Join(protocol.GRPCTransports, ", "))
	}
	if kind != protocol.KServeGRPC && transport != protocol.GRPCTransportFast {
		return fmt.Errorf("%s applies to protocol %s, not %s", transport, protocol.KServeGRPC, kind)
	}
	return nil
}

// CheckSharedMemory checks a shared-memory mode (or --shared-memory) for a
// protocol: "system" (the KServe protocols) or "none"; "cuda" is refused
// (it needs a GPU). It returns "" for none.
func CheckSharedMemory(kind protocol.Kind, s string) (string, error) {
	if err := protocol.CheckSharedMemory(s, kind); err != nil {
		return "", err
	}
	if s == protocol.SharedMemoryNone {
		return "", nil
	}
	return s, nil
}

// CheckCompression checks a compression (or --compression): gzip,
// deflate or none, whatever their case; it returns the name
// protocol.Options takes: "gzip", "deflate", "none", or "" for nothing
// given (none, unless run's --compression applies).
func CheckCompression(s string) (string, error) {
	e, err := compress.Parse(s)
	switch {
	case err != nil:
		return "", err
	case strings.TrimSpace(s) == "":
		return "", nil
	case e == compress.None:
		return "none", nil
	}
	return e.String(), nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// deployment checks one deployment.
func (p *parser) deployment(f *fileDeployment) (Deployment, error) {
	what := fmt.Sprintf("deployment %q", f.Name)
	d := Deployment{Name: f.Name, Protocol: f.Protocol, URL: f.URL, Model: f.Model, Version: f.Version, Batching: f.Batching,
		MetricsURL: f.MetricsURL, Inputs: f.Inputs, Kubernetes: f.Kubernetes, HTTP: protocol.HTTPOptions(f.HTTP),
		TLS: tlsconf.Client(f.TLS), Authority: f.Authority}
	kind := protocol.Kind(d.Protocol)
	if !slices.Contains(protocol.Kinds, kind) {
		return d, p.errorf(p.node(&f.Protocol), "%s: unknown protocol %q (want one of %s)", what, d.Protocol, kindsList())
	}
	var err error
	if p.node(&f.Timeout) != nil {
		if d.Timeout, err = p.duration(&f.Timeout, what+" timeout"); err != nil {
			return d, err
		}
	}
	if p.node(&f.ConnectTimeout) != nil {
		if d.ConnectTimeout, err = p.duration(&f.ConnectTimeout, what+" connect_timeout"); err != nil {
			return d, err
		}
	}
	if n := p.node(&f.Connections); n != nil {
		if f.Connections < 1 {
			return d, p.errorf(n, "%s: connections %d must be at least 1", what, f.Connections)
		}
		d.Connections = f.Connections
	}
	if n := p.node(&f.MaxResponseSize); n != nil {
		if d.MaxResponseSize, err = CheckResponseSize(string(f.MaxResponseSize)); err != nil {
			return d, p.errorf(n, "%s: max_response_size %q: %v", what, f.MaxResponseSize, err)
		}
	}
	if n := p.node(&f.GRPCTransport); n != nil {
		if err := CheckGRPCTransport(kind, f.GRPCTransport); err != nil {
			return d, p.errorf(n, "%s: grpc_transport %v", what, err)
		}
		d.GRPCTransport = f.GRPCTransport
	}
	if n := p.node(&f.Compression); n != nil {
		if d.Compression, err = CheckCompression(f.Compression); err != nil {
			return d, p.errorf(n, "%s: %v", what, err)
		}
	}
	if n := p.node(&f.SharedMemory); n != nil {
		if d.SharedMemory, err = CheckSharedMemory(kind, f.SharedMemory); err != nil {
			return d, p.errorf(n, "%s: shared_memory: %v", what, err)
		}
	}
	if f.Headers != nil {
		d.HeadersAsWritten = f.Headers
		if d.Headers, err = p.headers(f, what); err != nil {
			return d, err
		}
	}
	if err := p.inputs(&f.Inputs, what); err != nil {
		return d, err
	}
	if f.Kubernetes != nil {
		if err := p.kubernetes(f.Kubernetes, what); err != nil {
			return d, err
		}
	}
	if n := p.node(&f.HTTP); n != nil {
		if err := p.http(&f.HTTP, n, what, kind); err != nil {
			return d, err
		}
	}
	if n := p.node(&f.TLS); n != nil {
		if err := CheckTLS(kind, f.URL, d.TLS); err != nil {
			return d, p.errorf(n, "%s tls: %v", what, err)
		}
	}
	if n := p.node(&f.Authority); n != nil && (strings.TrimSpace(f.Authority) == "" || strings.ContainsAny(f.Authority, " /\t")) {
		return d, p.errorf(n, "%s authority %q: want host or host:port", what, f.Authority)
	}
	return d, nil
}

// http checks a deployment's http section: how an image kind sends the
// image and checks the answer.
func (p *parser) http(h *fileHTTP, n *yaml.Node, what string, kind protocol.Kind) error {
	if !kind.SendsImages() {
		return p.errorf(n, "%s: http applies to protocols %s and %s, not %s", what, protocol.NIMHTTP, protocol.HTTPJSON, kind)
	}
	_, err := protocol.HTTPOptions(*h).Resolve(kind)
	if err == nil {
		return nil
	}
	// Place the error at the key it is about, when there is one.
	at := n
	v := reflect.ValueOf(h).Elem()
	for _, f := range formatFields(v.Type()) {
		if key := p.node(v.Field(f.index).Addr().Interface()); key != nil && strings.Contains(err.Error(), strings.ReplaceAll(f.key, "_", " ")) {
			at = key
			break
		}
	}
	return p.errorf(at, "%s http: %v", what, err)
}

func kindsList() string {
	names := make([]string, len(protocol.Kinds))
	for i, k := range protocol.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// headers replaces each ${NAME} in the header values with the
// environment variable's value.
func (p *parser) headers(f *fileDeployment, what string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(f.Headers)) {
		var missing []string
		value := envRef.ReplaceAllStringFunc(f.Headers[name], func(ref string) string {
			v := envRef.FindStringSubmatch(ref)[1]
			got, ok := p.getenv(v)
			if !ok {
				missing = append(missing, v)
			}
			return got
		})
		if len(missing) > 0 {
			return nil, p.errorf(p.node(entry{&f.Headers, name}), "%s header %q uses environment variable %s, which is not set", what, name, strings.Join(missing, ", "))
		}
		out[name] = value
	}
	return out, nil
}

// inputs checks what a deployment is sent.
func (p *parser) inputs(in *Inputs, what string) error {
	for _, name := range slices.Sorted(maps.Keys(in.Shapes)) {
		for _, d := range in.Shapes[name] {
			if d < 1 {
				return p.errorf(p.node(entry{&in.Shapes, name}), "%s inputs.shapes.%s: dimension %d must be at least 1", what, name, d)
			}
		}
	}
	if n := p.node(&in.BatchSize); n != nil && in.BatchSize < 1 {
		return p.errorf(n, "%s inputs.batch_size %d must be at least 1", what, in.BatchSize)
	}
	if in.Data != "" && in.Image != "" {
		return p.errorf(p.node(in), "%s inputs: give data or image, not both", what)
	}
	return nil
}

// steps checks the plan's own steps.
func (p *parser) steps(fs []fileStep, deps []Deployment) ([]Step, error) {
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.Name
	}
	var out []Step
	first := map[string]*yaml.Node{}
	for i := range fs {
		f := &fs[i]
		item := p.node(f)
		s := Step{Name: f.Name, Concurrency: f.Concurrency, Rate: f.Rate, Requests: f.Requests, Deployments: f.Deployments,
			Warmup: f.Warmup, MaxInFlight: f.MaxInFlight, Seed: f.Seed, Repeat: f.Repeat}
		if p.node(&f.Name) == nil {
			s.Name = fmt.Sprintf("step-%d", i+1)
		}
		if prev, dup := first[s.Name]; dup {
			return nil, p.errorf(item, "step name %q is used twice (first at line %d)", s.Name, prev.Line)
		}
		first[s.Name] = item
		what := fmt.Sprintf("step %q", s.Name)
		if err := p.stepLoad(f, &s, item, what); err != nil {
			return nil, err
		}
		if f.Warmup != nil && *f.Warmup < 0 {
			return nil, p.errorf(p.node(f.Warmup), "%s: warmup %d must not be negative (0: none)", what, *f.Warmup)
		}
		nNode, dNode := p.node(&f.Requests), p.node(&f.Duration)
		switch {
		case len(s.Stages) > 0:
			if n := cmp.Or(nNode, dNode); n != nil {
				return nil, p.errorf(n, "%s: the stages set the step's length (%v): give no requests or duration", what, s.Duration)
			}
		case s.Schedule != nil && nNode == nil && dNode == nil && !s.ScheduleLoop:
			s.Requests = len(s.Schedule.Offsets) // one pass of the trace
		default:
			if err := p.oneOf(item, what, nNode, dNode, "requests or duration", "requests or duration"); err != nil {
				return nil, err
			}
		}
		if s.Schedule != nil && nNode != nil && !s.ScheduleLoop && s.Requests > len(s.Schedule.Offsets) {
			return nil, p.errorf(nNode, "%s: requests %d: the schedule sends %d (add schedule_loop: true to repeat it)", what, s.Requests, len(s.Schedule.Offsets))
		}
		if nNode != nil && s.Requests < 1 {
			return nil, p.errorf(nNode, "%s: requests %d must be at least 1", what, s.Requests)
		}
		if dNode != nil {
			var err error
			if s.Duration, err = p.duration(&f.Duration, what+" duration"); err != nil {
				return nil, err
			}
		}
		if n := p.node(&f.Repeat); n != nil {
			if err := checkRepeat(f.Repeat); err != nil {
				return nil, p.errorf(n, "%s: repeat: %v", what, err)
			}
		}
		for j, name := range f.Deployments {
			if !slices.Contains(names, name) {
				return nil, p.errorf(p.node(&f.Deployments[j]), "%s: no deployment is named %q (have %s)", what, name, strings.Join(slices.Sorted(slices.Values(names)), ", "))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// oneOf checks that a step gives one of two keys, a or b: give says
// them when both are given, need when neither is.
func (p *parser) oneOf(item *yaml.Node, what string, a, b *yaml.Node, give, need string) error {
	switch {
	case a != nil && b != nil:
		return p.errorf(b, "%s: give %s, not both", what, give)
	case a == nil && b == nil:
		return p.errorf(item, "%s needs %s", what, need)
	}
	return nil
}

// IsPlanError reports whether err is a problem in the plan (exit code 2).
func IsPlanError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// stepLoad checks how a step drives its load: a concurrency (closed
// loop), a rate (open loop), stages of either, a schedule file or bursts.
func (p *parser) stepLoad(f *fileStep, s *Step, item *yaml.Node, what string) error {
	cNode, rNode := p.node(&f.Concurrency), p.node(&f.Rate)
	stNode, schNode := p.node(&f.Stages), p.node(&f.Schedule)
	aNode := p.node(&f.Arrival)
	bursty := f.Arrival == load.ArrivalBursty
	for _, k := range []struct {
		n    *yaml.Node
		key  string
		with bool
	}{
		{p.node(&f.BurstSize), "burst_size", bursty}, {p.node(&f.BurstIdle), "burst_idle", bursty},
		{p.node(&f.ScheduleFormat), "schedule_format", schNode != nil}, {p.node(&f.ScheduleSpeed), "schedule_speed", schNode != nil},
		{p.node(&f.ScheduleLoop), "schedule_loop", schNode != nil},
	} {
		if k.n != nil && !k.with {
			return p.errorf(k.n, "%s: %s applies to a step with %s only", what, k.key, map[bool]string{true: "arrival: bursty", false: "a schedule"}[strings.HasPrefix(k.key, "burst")])
		}
	}
	switch {
	case stNode != nil:
		if err := p.oneOfAtMost(what, cNode, rNode, "concurrency (closed-loop stages from it) or rate (open-loop stages from it)"); err != nil {
			return err
		}
		if schNode != nil {
			return p.errorf(schNode, "%s: give stages or a schedule, not both", what)
		}
		if bursty {
			return p.errorf(aNode, "%s: stages ramp a constant or poisson rate: arrival bursty does not combine with them", what)
		}
		if cNode != nil {
			if f.Concurrency < 1 {
				return p.errorf(cNode, "%s: concurrency %d (the closed-loop stages' start) must be at least 1", what, f.Concurrency)
			}
			s.StagedConcurrency = true
			if aNode != nil {
				return p.errorf(aNode, "%s: arrival applies to open-loop stages (from a rate) only", what)
			}
		}
		if rNode != nil && (!(f.Rate >= 0) || math.IsInf(f.Rate, 0)) {
			return p.errorf(rNode, "%s: rate %v must be a finite number not below 0 (the stages' start)", what, f.Rate)
		}
		for i := range f.Stages {
			st := &f.Stages[i]
			at := fmt.Sprintf("%s stage %d", what, i+1)
			d, err := p.duration(&st.Duration, at+" duration")
			if err != nil {
				return err
			}
			if !(*st.Target >= 0) || math.IsInf(*st.Target, 0) {
				return p.errorf(p.node(st.Target), "%s: target %v must be a finite number not below 0", at, *st.Target)
			}
			s.Stages = append(s.Stages, load.Stage{Duration: d, Target: *st.Target, Hold: st.Ramp != nil && !*st.Ramp})
		}
		if err := load.CheckStages(s.Stages, s.Rate+float64(s.Concurrency)); err != nil {
			return p.errorf(stNode, "%s: stages: %v", what, err)
		}
		s.Duration = load.StagesDuration(s.Stages)
		if !s.StagedConcurrency {
			s.Arrival = load.ArrivalConstant
		}
	case schNode != nil:
		if n := cmp.Or(cNode, rNode, aNode); n != nil {
			return p.errorf(n, "%s: a schedule sets the send times: give no concurrency, rate or arrival", what)
		}
		path := f.Schedule
		if !filepath.IsAbs(path) && p.file != "" {
			path = filepath.Join(filepath.Dir(p.file), path)
		}
		sch, err := load.ReadSchedule(path, f.ScheduleFormat)
		if err != nil {
			return p.errorf(schNode, "%s: %v", what, err)
		}
		s.Schedule, s.SchedulePath, s.ScheduleFormat, s.ScheduleLoop, s.ScheduleSpeed = sch, f.Schedule, f.ScheduleFormat, f.ScheduleLoop, 1
		if f.ScheduleSpeed != "" {
			if s.ScheduleSpeed, err = load.ParseSpeed(f.ScheduleSpeed); err != nil {
				return p.errorf(p.node(&f.ScheduleSpeed), "%s: %v", what, err)
			}
		}
	case bursty:
		if n := cmp.Or(cNode, rNode); n != nil {
			return p.errorf(n, "%s: bursty arrivals send burst_size requests every burst_idle on average: give no concurrency or rate", what)
		}
		if f.BurstSize < 1 {
			return p.errorf(cmp.Or(p.node(&f.BurstSize), item), "%s: arrival bursty needs burst_size, at least 1", what)
		}
		if p.node(&f.BurstIdle) == nil {
			return p.errorf(item, "%s: arrival bursty needs burst_idle (the mean time between bursts, as 500ms)", what)
		}
		idle, err := p.duration(&f.BurstIdle, what+" burst_idle")
		if err != nil {
			return err
		}
		s.Arrival, s.BurstSize, s.BurstIdle = load.ArrivalBursty, f.BurstSize, idle
		return p.checkMaxInFlight(f, what, true)
	default:
		if err := p.oneOf(item, what, cNode, rNode, "concurrency (closed loop) or rate (open loop)", "concurrency or rate"); err != nil {
			return err
		}
		if cNode != nil && s.Concurrency < 1 {
			return p.errorf(cNode, "%s: concurrency %d must be at least 1", what, s.Concurrency)
		}
		if rNode != nil {
			if !(s.Rate > 0) || math.IsInf(s.Rate, 0) { // NaN fails the first
				return p.errorf(rNode, "%s: rate %v must be a finite number above 0 requests per second", what, s.Rate)
			}
			s.Arrival = load.ArrivalConstant
		}
	}
	if aNode != nil {
		if !s.Open() || s.Schedule != nil {
			return p.errorf(aNode, "%s: arrival applies to a rate step only", what)
		}
		if f.Arrival != load.ArrivalConstant && f.Arrival != load.ArrivalPoisson {
			return p.errorf(aNode, "%s: arrival %q (want %s, %s or %s)", what, f.Arrival, load.ArrivalConstant, load.ArrivalPoisson, load.ArrivalBursty)
		}
		s.Arrival = f.Arrival
	}
	return p.checkMaxInFlight(f, what, s.Open())
}

func (p *parser) checkMaxInFlight(f *fileStep, what string, open bool) error {
	if n := p.node(&f.MaxInFlight); n != nil && (!open || f.MaxInFlight < 1) {
		return p.errorf(n, "%s: max_inflight %d applies to a rate step and must be at least 1", what, f.MaxInFlight)
	}
	return nil
}

// oneOfAtMost checks that a step gives at most one of two keys.
func (p *parser) oneOfAtMost(what string, a, b *yaml.Node, give string) error {
	if a != nil && b != nil {
		return p.errorf(b, "%s: give %s, not both", what, give)
	}
	return nil
}

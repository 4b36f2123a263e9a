package plan

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
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

// The keys each part of a plan accepts. The JSON Schema (schema.json)
// lists the same; a test keeps them in step.
var (
	planKeys       = []string{"deployments", "sequence", "steps", "check_outputs"}
	deploymentKeys = []string{"name", "protocol", "url", "model", "version", "timeout", "headers", "inputs", "batching", "metrics_url", "kubernetes", "http"}
	httpKeys       = []string{"preset", "method", "path", "body", "content_type", "multipart_field", "form", "raw", "check_path", "health", "detections"}
	inputKeys      = []string{"shapes", "batch_size", "data", "image"}
	stepKeys       = []string{"name", "concurrency", "rate", "arrival", "requests", "duration", "deployments"}
)

// LoadFile reads and checks a plan file. Header values may name
// environment variables as ${NAME}, looked up with getenv (os.LookupEnv
// when nil), so that tokens stay out of the file.
func LoadFile(path string, getenv func(string) (string, bool)) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return Parse(path, data, getenv)
}

// parser carries the file name into every error.
type parser struct {
	file   string
	getenv func(string) (string, bool)
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Parse checks a plan held in memory; file names it in errors.
func Parse(file string, data []byte, getenv func(string) (string, bool)) (*Plan, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	p := &parser{file: file, getenv: getenv}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "the plan is empty: it needs deployments and a sequence or steps"}
	}
	root := doc.Content[0]
	fields, err := p.mapping(root, "the plan", planKeys)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Path: file}
	if v, ok := fields["check_outputs"]; ok {
		if err := p.scalar(v, "check_outputs", &plan.CheckOutputs); err != nil {
			return nil, err
		}
	}
	depNode, ok := fields["deployments"]
	if !ok {
		return nil, p.errorf(root, "the plan has no deployments")
	}
	if plan.Deployments, err = p.deployments(depNode); err != nil {
		return nil, err
	}
	seqNode, hasSeq := fields["sequence"]
	stepsNode, hasSteps := fields["steps"]
	switch {
	case hasSeq && hasSteps:
		return nil, p.errorf(stepsNode, "give either sequence (a built-in) or steps, not both")
	case hasSeq:
		var name string
		if err := p.scalar(seqNode, "sequence", &name); err != nil {
			return nil, err
		}
		seq, err := Builtin(name)
		if err != nil {
			return nil, p.errorf(seqNode, "sequence: %v", err)
		}
		plan.Steps = seq.Steps
		plan.Sequence = seq.Name
	case hasSteps:
		if plan.Steps, err = p.steps(stepsNode, plan.Deployments); err != nil {
			return nil, err
		}
	default:
		return nil, p.errorf(root, "the plan has no sequence (one of %s) and no steps", strings.Join(BuiltinNames(), ", "))
	}
	return plan, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// syntaxError places a YAML syntax error at its line.
func (p *parser) syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: p.file, Msg: "YAML syntax: " + msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = 1
	}
	return e
}

// mapping checks that n is a mapping with only allowed keys, each once.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "%s must be a mapping of keys to values", what)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, p.errorf(k, "unknown key %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errorf(k, "key %q given twice in %s", k.Value, what)
		}
		out[k.Value] = v
	}
	return out, nil
}

// scalar decodes a scalar value into v.
func (p *parser) scalar(n *yaml.Node, what string, v any) error {
	if n.Kind != yaml.ScalarNode {
		return p.errorf(n, "%s must be a single value", what)
	}
	if err := n.Decode(v); err != nil {
		return p.errorf(n, "%s: %q is not a %s", what, n.Value, kindName(v))
	}
	return nil
}

func kindName(v any) string {
	switch v.(type) {
	case *int:
		return "whole number"
	case *float64:
		return "number"
	case *bool:
		return "boolean (true or false)"
	}
	return "string"
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, error) {
	var s string
	if err := p.scalar(n, what, &s); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.errorf(n, "%s: %q is not a duration (for example 30s, 500ms, 2m)", what, s)
	}
	if d <= 0 {
		return 0, p.errorf(n, "%s: %q must be positive", what, s)
	}
	return d, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (p *parser) deployments(n *yaml.Node) ([]Deployment, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errorf(n, "deployments must be a non-empty list")
	}
	var out []Deployment
	where := map[string]*yaml.Node{}
	for i, item := range n.Content {
		what := fmt.Sprintf("deployments[%d]", i)
		f, err := p.mapping(item, what, deploymentKeys)
		if err != nil {
			return nil, err
		}
		d := Deployment{Headers: map[string]string{}}
		strs := []struct {
			key      string
			dst      *string
			required bool
		}{{"name", &d.Name, true}, {"protocol", &d.Protocol, true}, {"url", &d.URL, true}, {"model", &d.Model, true}, {"version", &d.Version, false}, {"metrics_url", &d.MetricsURL, false}}
		for _, s := range strs {
			v, ok := f[s.key]
			if !ok {
				if s.required {
					return nil, p.errorf(item, "%s has no %s", what, s.key)
				}
				continue
			}
			if err := p.scalar(v, what+"."+s.key, s.dst); err != nil {
				return nil, err
			}
			if s.required && strings.TrimSpace(*s.dst) == "" {
				return nil, p.errorf(v, "%s.%s is empty", what, s.key)
			}
		}
		what = fmt.Sprintf("deployment %q", d.Name)
		if prev, dup := where[d.Name]; dup {
			return nil, p.errorf(f["name"], "deployment name %q is used twice (first at line %d)", d.Name, prev.Line)
		}
		where[d.Name] = f["name"]
		if !slices.Contains(protocol.Kinds, protocol.Kind(d.Protocol)) {
			return nil, p.errorf(f["protocol"], "%s: unknown protocol %q (want one of %s)", what, d.Protocol, kindsList())
		}
		if v, ok := f["timeout"]; ok {
			if d.Timeout, err = p.duration(v, what+" timeout"); err != nil {
				return nil, err
			}
		}
		if v, ok := f["batching"]; ok {
			if err := p.scalar(v, what+" batching", &d.Batching); err != nil {
				return nil, err
			}
		}
		if v, ok := f["headers"]; ok {
			if err := p.headers(v, what, d.Headers); err != nil {
				return nil, err
			}
		}
		if v, ok := f["inputs"]; ok {
			if d.Inputs, err = p.inputs(v, what); err != nil {
				return nil, err
			}
		}
		if v, ok := f["kubernetes"]; ok {
			if d.Kubernetes, err = p.kubernetes(v, what); err != nil {
				return nil, err
			}
		}
		if v, ok := f["http"]; ok {
			if d.HTTP, err = p.http(v, what, protocol.Kind(d.Protocol)); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// http reads a deployment's http section: how an image kind sends the
// image and checks the answer.
func (p *parser) http(n *yaml.Node, what string, kind protocol.Kind) (protocol.HTTPOptions, error) {
	var o protocol.HTTPOptions
	if !kind.SendsImages() {
		return o, p.errorf(n, "%s: http applies to protocols %s and %s, not %s", what, protocol.NIMHTTP, protocol.HTTPJSON, kind)
	}
	f, err := p.mapping(n, what+" http", httpKeys)
	if err != nil {
		return o, err
	}
	for key, dst := range map[string]*string{"preset": &o.Preset, "method": &o.Method, "path": &o.Path, "body": &o.Body,
		"content_type": &o.ContentType, "multipart_field": &o.MultipartField, "check_path": &o.CheckPath, "health": &o.Health, "detections": &o.Detections} {
		if v, ok := f[key]; ok {
			if err := p.scalar(v, what+" http."+key, dst); err != nil {
				return o, err
			}
		}
	}
	if v, ok := f["raw"]; ok {
		if err := p.scalar(v, what+" http.raw", &o.Raw); err != nil {
			return o, err
		}
	}
	if v, ok := f["form"]; ok {
		if v.Kind != yaml.MappingNode {
			return o, p.errorf(v, "%s http.form must map field names to values", what)
		}
		o.Form = map[string]string{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			var value string
			if err := p.scalar(v.Content[i+1], fmt.Sprintf("%s http.form.%s", what, v.Content[i].Value), &value); err != nil {
				return o, err
			}
			o.Form[v.Content[i].Value] = value
		}
	}
	if _, err := o.Resolve(kind); err != nil {
		// Place the error at the key it is about, when there is one.
		at := n
		for _, key := range httpKeys {
			if v, ok := f[key]; ok && strings.Contains(err.Error(), strings.ReplaceAll(key, "_", " ")) {
				at = v
				break
			}
		}
		return o, p.errorf(at, "%s http: %v", what, err)
	}
	return o, nil
}

func kindsList() string {
	names := make([]string, len(protocol.Kinds))
	for i, k := range protocol.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func (p *parser) headers(n *yaml.Node, what string, out map[string]string) error {
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, "%s headers must be a mapping of names to values", what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var value string
		if err := p.scalar(v, fmt.Sprintf("%s header %q", what, k.Value), &value); err != nil {
			return err
		}
		var missing []string
		value = envRef.ReplaceAllStringFunc(value, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			got, ok := p.getenv(name)
			if !ok {
				missing = append(missing, name)
			}
			return got
		})
		if len(missing) > 0 {
			return p.errorf(v, "%s header %q uses environment variable %s, which is not set", what, k.Value, strings.Join(missing, ", "))
		}
		out[k.Value] = value
	}
	return nil
}

func (p *parser) inputs(n *yaml.Node, what string) (Inputs, error) {
	var in Inputs
	f, err := p.mapping(n, what+" inputs", inputKeys)
	if err != nil {
		return in, err
	}
	if v, ok := f["shapes"]; ok {
		if v.Kind != yaml.MappingNode {
			return in, p.errorf(v, "%s inputs.shapes must map input names to dimension lists, e.g. images: [1, 3, 640, 640]", what)
		}
		in.Shapes = map[string][]int64{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, dims := v.Content[i], v.Content[i+1]
			var shape []int64
			if err := dims.Decode(&shape); err != nil || dims.Kind != yaml.SequenceNode {
				return in, p.errorf(dims, "%s inputs.shapes.%s must be a list of whole numbers", what, k.Value)
			}
			for _, d := range shape {
				if d < 1 {
					return in, p.errorf(dims, "%s inputs.shapes.%s: dimension %d must be at least 1", what, k.Value, d)
				}
			}
			in.Shapes[k.Value] = shape
		}
	}
	if v, ok := f["batch_size"]; ok {
		if err := p.scalar(v, what+" inputs.batch_size", &in.BatchSize); err != nil {
			return in, err
		}
		if in.BatchSize < 1 {
			return in, p.errorf(v, "%s inputs.batch_size %d must be at least 1", what, in.BatchSize)
		}
	}
	for key, dst := range map[string]*string{"data": &in.Data, "image": &in.Image} {
		if v, ok := f[key]; ok {
			if err := p.scalar(v, what+" inputs."+key, dst); err != nil {
				return in, err
			}
		}
	}
	if in.Data != "" && in.Image != "" {
		return in, p.errorf(n, "%s inputs: give data or image, not both", what)
	}
	return in, nil
}

func (p *parser) steps(n *yaml.Node, deps []Deployment) ([]Step, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errorf(n, "steps must be a non-empty list")
	}
	names := map[string]bool{}
	for _, d := range deps {
		names[d.Name] = true
	}
	var out []Step
	seen := map[string]int{}
	for i, item := range n.Content {
		what := fmt.Sprintf("steps[%d]", i)
		f, err := p.mapping(item, what, stepKeys)
		if err != nil {
			return nil, err
		}
		s := Step{Name: fmt.Sprintf("step-%d", i+1)}
		if v, ok := f["name"]; ok {
			if err := p.scalar(v, what+".name", &s.Name); err != nil {
				return nil, err
			}
		}
		if line, dup := seen[s.Name]; dup {
			return nil, p.errorf(item, "step name %q is used twice (first at line %d)", s.Name, line)
		}
		seen[s.Name] = item.Line
		what = fmt.Sprintf("step %q", s.Name)
		cNode, hasC := f["concurrency"]
		rNode, hasR := f["rate"]
		switch {
		case hasC && hasR:
			return nil, p.errorf(rNode, "%s: give concurrency (closed loop) or rate (open loop), not both", what)
		case hasC:
			if err := p.scalar(cNode, what+" concurrency", &s.Concurrency); err != nil {
				return nil, err
			}
			if s.Concurrency < 1 {
				return nil, p.errorf(cNode, "%s: concurrency %d must be at least 1", what, s.Concurrency)
			}
		case hasR:
			if err := p.scalar(rNode, what+" rate", &s.Rate); err != nil {
				return nil, err
			}
			if s.Rate <= 0 {
				return nil, p.errorf(rNode, "%s: rate %v must be above 0 requests per second", what, s.Rate)
			}
			s.Arrival = load.ArrivalConstant
		default:
			return nil, p.errorf(item, "%s needs concurrency or rate", what)
		}
		if v, ok := f["arrival"]; ok {
			if !hasR {
				return nil, p.errorf(v, "%s: arrival applies to a rate step only", what)
			}
			if err := p.scalar(v, what+" arrival", &s.Arrival); err != nil {
				return nil, err
			}
			if s.Arrival != load.ArrivalConstant && s.Arrival != load.ArrivalPoisson {
				return nil, p.errorf(v, "%s: arrival %q (want %s or %s)", what, s.Arrival, load.ArrivalConstant, load.ArrivalPoisson)
			}
		}
		nNode, hasN := f["requests"]
		dNode, hasD := f["duration"]
		switch {
		case hasN && hasD:
			return nil, p.errorf(dNode, "%s: give requests or duration, not both", what)
		case hasN:
			if err := p.scalar(nNode, what+" requests", &s.Requests); err != nil {
				return nil, err
			}
			if s.Requests < 1 {
				return nil, p.errorf(nNode, "%s: requests %d must be at least 1", what, s.Requests)
			}
		case hasD:
			if s.Duration, err = p.duration(dNode, what+" duration"); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf(item, "%s needs requests or duration", what)
		}
		if v, ok := f["deployments"]; ok {
			if err := v.Decode(&s.Deployments); err != nil || v.Kind != yaml.SequenceNode {
				return nil, p.errorf(v, "%s: deployments must be a list of deployment names", what)
			}
			for j, name := range s.Deployments {
				if !names[name] {
					known := make([]string, 0, len(names))
					for k := range names {
						known = append(known, k)
					}
					sort.Strings(known)
					return nil, p.errorf(v.Content[j], "%s: no deployment is named %q (have %s)", what, name, strings.Join(known, ", "))
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// IsPlanError reports whether err is a problem in the plan (exit code 2).
func IsPlanError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

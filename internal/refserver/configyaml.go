package refserver

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inferbench/inferbench/internal/kserve"
)

// LoadConfig reads a YAML configuration file (see examples/refserver.yaml
// for every key). Every error names the file, line and column.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading the configuration: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig reads a YAML configuration; file names it in errors. It
// refuses unknown keys, values of the wrong type, negative times and
// sizes, unknown emulators, datatypes and distributions, and bad
// dimensions, each with file:line:column and the offending key or value,
// and then whatever Build would refuse, at the model or pod it concerns.
func ParseConfig(file string, data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%s: %w", file, err)
	}
	d := &yamlDecoder{file: file}
	var c Config
	if len(doc.Content) == 0 {
		return Config{}, fmt.Errorf("%s: the configuration is empty: want a mapping with a pods list", file)
	}
	root := d.resolve(doc.Content[0])
	var podsNode *yaml.Node
	d.mapping(root, "the configuration", fields{
		"pods": func(n *yaml.Node) { podsNode = n; c.Pods = decodeList(d, n, "pods", d.pod) },
	})
	if podsNode == nil && len(d.errs) == 0 {
		d.errorf(root, "no pods: the configuration needs a pods: list")
	}
	if len(d.errs) == 0 {
		// Build's checks, at the pod they concern: each pod alone, then
		// the pods together (names and addresses are unique).
		for i, p := range c.Pods {
			if _, err := (Config{Pods: []PodConfig{p}}).Build(); err != nil {
				d.errorf(d.podNodes[i], "%v", err)
			} else if _, err := (Config{Pods: c.Pods[:i+1]}).Build(); err != nil {
				d.errorf(d.podNodes[i], "%v", err)
			}
		}
	}
	if len(d.errs) > 0 {
		return Config{}, errors.Join(d.errs...)
	}
	return c, nil
}

// yamlDecoder walks a YAML node tree, collecting positioned errors.
type yamlDecoder struct {
	file     string
	errs     []error
	podNodes []*yaml.Node
}

// fields maps a mapping's keys to their decoders.
type fields map[string]func(*yaml.Node)

func (d *yamlDecoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("%s:%d:%d: %s", d.file, n.Line, n.Column, fmt.Sprintf(format, args...)))
}

func (d *yamlDecoder) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// mapping decodes a mapping node key by key; a key not in fs, or given
// twice, is an error.
func (d *yamlDecoder) mapping(n *yaml.Node, what string, fs fields) {
	n = d.resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping of keys to values", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], d.resolve(n.Content[i+1])
		f, ok := fs[k.Value]
		switch {
		case !ok:
			known := make([]string, 0, len(fs))
			for key := range fs {
				known = append(known, key)
			}
			slices.Sort(known)
			d.errorf(k, "unknown key %q in %s (known keys: %s)", k.Value, what, strings.Join(known, ", "))
		case seen[k.Value]:
			d.errorf(k, "key %q given twice in %s", k.Value, what)
		default:
			seen[k.Value] = true
			f(v)
		}
	}
}

// decodeList decodes a sequence with one decoder per element.
func decodeList[T any](d *yamlDecoder, n *yaml.Node, what string, one func(*yaml.Node) T) []T {
	n = d.resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list", what)
		return nil
	}
	out := make([]T, 0, len(n.Content))
	for _, e := range n.Content {
		out = append(out, one(d.resolve(e)))
	}
	return out
}

func (d *yamlDecoder) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be a single value", what)
		return "", false
	}
	return n.Value, true
}

func (d *yamlDecoder) str(dst *string, what string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.scalar(n, what); ok {
			*dst = v
		}
	}
}

// count decodes a whole number >= lo.
func (d *yamlDecoder) count(dst *int, what string, lo int) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(n, what)
		if !ok {
			return
		}
		i, err := strconv.Atoi(v)
		if err != nil || n.Tag != "!!int" {
			d.errorf(n, "%s %q is not a whole number", what, v)
			return
		}
		if i < lo {
			d.errorf(n, "%s %d must be at least %d", what, i, lo)
			return
		}
		*dst = i
	}
}

func (d *yamlDecoder) seed(dst *uint64) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.scalar(n, "seed"); ok {
			s, err := strconv.ParseUint(v, 0, 64)
			if err != nil {
				d.errorf(n, "seed %q is not a whole number >= 0", v)
				return
			}
			*dst = s
		}
	}
}

// fraction decodes a number in [lo, hi], as 0.2 or 20%.
func (d *yamlDecoder) fraction(dst *float64, what string, lo, hi float64) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(n, what)
		if !ok {
			return
		}
		f, err := parseFraction(v)
		if err != nil {
			d.errorf(n, "%s %q is not a number", what, v)
			return
		}
		if f < lo || f > hi || math.IsNaN(f) {
			d.errorf(n, "%s %v is outside %v..%v", what, f, lo, hi)
			return
		}
		*dst = f
	}
}

// duration decodes a Go duration string ("8ms", "1.5s") >= 0.
func (d *yamlDecoder) duration(dst *time.Duration, what string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(n, what)
		if !ok {
			return
		}
		t, err := time.ParseDuration(v)
		if err != nil {
			d.errorf(n, "%s %q is not a duration: write it as Go does, for example 8ms, 1.5s, 250us", what, v)
			return
		}
		if t < 0 {
			d.errorf(n, "%s %s is negative", what, v)
			return
		}
		*dst = t
	}
}

func (d *yamlDecoder) size(dst *int64, what string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(n, what)
		if !ok {
			return
		}
		b, err := ParseBytes(v)
		if err != nil {
			d.errorf(n, "%s: %v", what, err)
			return
		}
		*dst = b
	}
}

func (d *yamlDecoder) pod(n *yaml.Node) PodConfig {
	var p PodConfig
	d.podNodes = append(d.podNodes, n)
	d.mapping(n, "a pod", fields{
		"name":             d.str(&p.Name, "the pod's name"),
		"http":             d.str(&p.HTTP, "http (address)"),
		"grpc":             d.str(&p.GRPC, "grpc (address)"),
		"metrics":          d.str(&p.Metrics, "metrics (address)"),
		"http_api":         d.oneOf(&p.HTTPAPI, "http_api", []string{APIKServe, APIPlain}),
		"max_request_size": d.size(&p.MaxRequestSize, "max_request_size"),
		"memory_limit":     d.size(&p.MemoryLimit, "memory_limit"),
		"restart_time":     d.duration(&p.RestartTime, "restart_time"),
		"models":           func(m *yaml.Node) { p.Models = decodeList(d, m, "models", d.model) },
		"autoscaling": func(m *yaml.Node) {
			a := &AutoscaleConfig{}
			p.Autoscaling = a
			d.mapping(m, "a pod's autoscaling", fields{
				"target_inflight":  d.fraction(&a.TargetInFlight, "target_inflight", 0, math.Inf(1)),
				"target_rps":       d.fraction(&a.TargetRPS, "target_rps", 0, math.Inf(1)),
				"min_replicas":     d.count(&a.MinReplicas, "min_replicas", 0),
				"max_replicas":     d.count(&a.MaxReplicas, "max_replicas", 1),
				"initial_replicas": d.count(&a.InitialReplicas, "initial_replicas", 0),
				"scale_up_delay":   d.duration(&a.ScaleUpDelay, "scale_up_delay"),
				"scale_down_delay": d.duration(&a.ScaleDownDelay, "scale_down_delay"),
				"cold_start":       d.duration(&a.ColdStart, "cold_start"),
				"window":           d.duration(&a.Window, "window"),
				"tick":             d.duration(&a.Tick, "tick"),
			})
		},
		"tls": func(m *yaml.Node) {
			d.mapping(m, "a pod's tls", fields{
				"cert":      d.str(&p.TLS.Cert, "tls cert (file)"),
				"key":       d.str(&p.TLS.Key, "tls key (file)"),
				"client_ca": d.str(&p.TLS.ClientCA, "tls client_ca (file)"),
			})
		},
	})
	if p.Name == "" {
		d.errorf(n, "a pod needs a name")
	}
	return p
}

func (d *yamlDecoder) oneOf(dst *string, what string, allowed []string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(n, what)
		if !ok {
			return
		}
		if !slices.Contains(allowed, v) {
			d.errorf(n, "%s %q is not one of %s", what, v, strings.Join(allowed, ", "))
			return
		}
		*dst = v
	}
}

func (d *yamlDecoder) model(n *yaml.Node) ModelConfig {
	var m ModelConfig
	hasEmulator := false
	errsBefore := len(d.errs)
	d.mapping(n, "a model", fields{
		"name":           d.str(&m.Name, "the model's name"),
		"version":        d.version(&m.Version),
		"platform":       d.str(&m.Platform, "platform"),
		"max_batch_size": d.count(&m.MaxBatchSize, "max_batch_size", 0),
		"inputs":         func(t *yaml.Node) { m.Inputs = decodeList(d, t, "inputs", d.tensor) },
		"outputs":        func(t *yaml.Node) { m.Outputs = decodeList(d, t, "outputs", d.tensor) },
		"emulator":       func(e *yaml.Node) { hasEmulator = true; m.Emulator = d.emulator(e) },
		"faults":         func(f *yaml.Node) { d.faults(f, &m) },
		"seed":           d.seed(&m.Seed),
	})
	if !hasEmulator && len(d.errs) == errsBefore {
		d.errorf(n, "model %q has no emulator: add emulator: {kind: ...} (one of %s)", m.Name, strings.Join(EmulatorKinds, ", "))
	}
	if len(d.errs) == errsBefore {
		if err := m.Validate(); err != nil {
			d.errorf(n, "model %q: %v", m.Name, strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	}
	return m
}

func (d *yamlDecoder) version(dst *string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(n, "version")
		if !ok {
			return
		}
		if v == "" || strings.Trim(v, "0123456789") != "" {
			d.errorf(n, "version %q is not all digits, as Triton requires", v)
			return
		}
		*dst = v
	}
}

func (d *yamlDecoder) tensor(n *yaml.Node) kserve.TensorMetadata {
	var t kserve.TensorMetadata
	errsBefore := len(d.errs)
	d.mapping(n, "a tensor", fields{
		"name": d.str(&t.Name, "the tensor's name"),
		"datatype": func(v *yaml.Node) {
			s, ok := d.scalar(v, "datatype")
			if !ok {
				return
			}
			dt, err := kserve.ParseDataType(strings.ToUpper(s))
			if err != nil {
				d.errorf(v, "datatype %q: %v", s, err)
				return
			}
			t.Datatype = dt
		},
		"dims": func(v *yaml.Node) {
			t.Shape = []int64{}
			for _, e := range decodeList(d, v, "dims", func(e *yaml.Node) *yaml.Node { return e }) {
				s, ok := d.scalar(e, "a dimension")
				if !ok {
					continue
				}
				dim, err := strconv.ParseInt(s, 10, 64)
				if err != nil || e.Tag != "!!int" || dim < -1 || dim == 0 {
					d.errorf(e, "dimension %q is invalid: want a whole number >= 1, or -1 for a variable dimension", s)
					continue
				}
				t.Shape = append(t.Shape, dim)
			}
		},
	})
	if len(d.errs) == errsBefore && (t.Name == "" || t.Datatype == "" || t.Shape == nil) {
		d.errorf(n, "a tensor needs a name, a datatype and dims")
	}
	return t
}

func (d *yamlDecoder) emulator(n *yaml.Node) EmulatorConfig {
	var e EmulatorConfig
	hasKind := false
	d.mapping(n, "the emulator", fields{
		"kind": func(k *yaml.Node) {
			hasKind = true
			d.oneOf(&e.Kind, "emulator kind", EmulatorKinds)(k)
		},
		"service_time":    d.duration(&e.ServiceTime, "service_time"),
		"instances":       d.count(&e.Instances, "instances", 1),
		"max_queue_delay": d.duration(&e.MaxQueueDelay, "max_queue_delay"),
		"preferred_batch_sizes": func(v *yaml.Node) {
			for _, p := range decodeList(d, v, "preferred_batch_sizes", func(p *yaml.Node) int {
				var size int
				d.count(&size, "a preferred batch size", 1)(p)
				return size
			}) {
				if p > 0 {
					e.PreferredBatchSizes = append(e.PreferredBatchSizes, p)
				}
			}
		},
		"batch_fixed":    d.duration(&e.BatchFixed, "batch_fixed"),
		"batch_per_item": d.duration(&e.BatchPerItem, "batch_per_item"),
		"gil_held":       d.fraction(&e.GILHeld, "gil_held", 0.01, 1),
		"gil_switch":     d.duration(&e.GILSwitch, "gil_switch"),
		"per_inflight":   d.duration(&e.PerInflight, "per_inflight"),
		"max_inflight":   d.count(&e.MaxInflight, "max_inflight", 1),
		"jitter": func(v *yaml.Node) {
			s, ok := d.scalar(v, "jitter")
			if !ok {
				return
			}
			j, err := ParseJitter(s)
			if err != nil {
				d.errorf(v, "%v", err)
				return
			}
			e.Jitter = j
		},
		"seed": d.seed(&e.Seed),
	})
	if !hasKind {
		d.errorf(n, "the emulator needs a kind: one of %s", strings.Join(EmulatorKinds, ", "))
	}
	return e
}

func (d *yamlDecoder) faults(n *yaml.Node, m *ModelConfig) {
	f := &m.Faults
	d.mapping(n, "faults", fields{
		"error_rate":  d.fraction(&m.ErrorRate, "error_rate", 0, 1),
		"queue_limit": d.count(&m.Emulator.QueueLimit, "queue_limit", 0),
		"spike": func(v *yaml.Node) {
			d.mapping(v, "spike", fields{
				"probability": d.fraction(&f.SpikeProbability, "spike probability", 0, 1),
				"duration":    d.duration(&f.SpikeDuration, "spike duration"),
			})
		},
		"stall": func(v *yaml.Node) {
			d.mapping(v, "stall", fields{
				"at":       d.duration(&f.StallAt, "stall at"),
				"duration": d.duration(&f.StallFor, "stall duration"),
				"every":    d.duration(&f.StallEvery, "stall every"),
			})
		},
		"drop_probability":   d.fraction(&f.DropProbability, "drop_probability", 0, 1),
		"memory_per_request": d.size(&f.MemoryPerRequest, "memory_per_request"),
	})
}

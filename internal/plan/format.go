package plan

import (
	"reflect"
	"strings"
)

// The plan file's format, defined once: these structs' yaml tags are the
// keys a plan file may hold. Parse decodes into them (refusing any other
// key), YAML writes them, and the JSON Schema (schema.json) is generated
// from them. A field tagged plan:"required" must be given and not be
// empty; plan:"nonempty" must not be empty when given.

// planFile is a plan file's document.
type planFile struct {
	Deployments  []fileDeployment `yaml:"deployments" plan:"required"`
	CheckOutputs bool             `yaml:"check_outputs,omitempty"`
	Sequence     string           `yaml:"sequence,omitempty"`
	Steps        []fileStep       `yaml:"steps,omitempty" plan:"nonempty"`
	// Repeat runs every step this many times per deployment (trials),
	// interleaved; a step's own repeat wins.
	Repeat int `yaml:"repeat,omitempty"`
	// Thresholds are pass/fail criteria: any failed one gives exit code 3.
	Thresholds []fileThreshold `yaml:"thresholds,omitempty" plan:"nonempty"`
	// Loaders splits the load over several loaders (run --loaders).
	Loaders *Loaders `yaml:"loaders,omitempty"`
}

// fileThreshold is a threshold as written: the expression, and the
// deployment and step it is limited to, if any.
type fileThreshold struct {
	Expr       string `yaml:"expr" plan:"required"`
	Deployment string `yaml:"deployment,omitempty"`
	Step       string `yaml:"step,omitempty"`
}

// fileDeployment is a deployment as written; Deployment is it checked.
type fileDeployment struct {
	Name       string            `yaml:"name" plan:"required"`
	Protocol   string            `yaml:"protocol" plan:"required"`
	URL        string            `yaml:"url" plan:"required"`
	Model      string            `yaml:"model" plan:"required"`
	Version    string            `yaml:"version,omitempty"`
	Timeout    duration          `yaml:"timeout,omitempty"`
	Headers    map[string]string `yaml:"headers,omitempty"`
	Batching   bool              `yaml:"batching,omitempty"`
	MetricsURL string            `yaml:"metrics_url,omitempty"`
	Inputs     Inputs            `yaml:"inputs,omitempty"`
	HTTP       fileHTTP          `yaml:"http,omitempty"`
	Kubernetes *Kubernetes       `yaml:"kubernetes,omitempty"`
	// ConnectTimeout and Connections are the connection settings.
	ConnectTimeout duration `yaml:"connect_timeout,omitempty"`
	Connections    int      `yaml:"connections,omitempty"`
	// MaxResponseSize bounds a response body or gRPC message.
	MaxResponseSize size `yaml:"max_response_size,omitempty"`
	// GRPCTransport chooses kserve-grpc's implementation: fast or grpc-go.
	GRPCTransport string `yaml:"grpc_transport,omitempty"`
	// TLS and Authority: how the server is reached and named.
	TLS       fileTLS `yaml:"tls,omitempty"`
	Authority string  `yaml:"authority,omitempty"`
	// Compression compresses the requests: gzip, deflate or none.
	Compression string `yaml:"compression,omitempty"`
	// SharedMemory is Triton's shared-memory extension: system or none.
	SharedMemory string `yaml:"shared_memory,omitempty"`
}

// fileHTTP is protocol.HTTPOptions with the file's keys. Its fields are
// HTTPOptions' own, in the same order and of the same types, so that one
// converts to the other: a field added there fails to compile here until
// the file format has it too.
type fileHTTP struct {
	Preset         string            `yaml:"preset,omitempty"`
	Method         string            `yaml:"method,omitempty"`
	Path           string            `yaml:"path,omitempty"`
	Body           string            `yaml:"body,omitempty"`
	ContentType    string            `yaml:"content_type,omitempty"`
	MultipartField string            `yaml:"multipart_field,omitempty"`
	Form           map[string]string `yaml:"form,omitempty"`
	Raw            bool              `yaml:"raw,omitempty"`
	CheckPath      string            `yaml:"check_path,omitempty"`
	Health         string            `yaml:"health,omitempty"`
	Detections     string            `yaml:"detections,omitempty"`
}

// fileStep is a step as written; Step is it checked.
type fileStep struct {
	Name        string   `yaml:"name,omitempty"`
	Concurrency int      `yaml:"concurrency,omitempty"`
	Rate        float64  `yaml:"rate,omitempty"`
	Arrival     string   `yaml:"arrival,omitempty"`
	Requests    int      `yaml:"requests,omitempty"`
	Duration    duration `yaml:"duration,omitempty"`
	Deployments []string `yaml:"deployments,omitempty,flow"`
	Warmup      *int     `yaml:"warmup,omitempty"`
	MaxInFlight int      `yaml:"max_inflight,omitempty"`
	Seed        uint64   `yaml:"seed,omitempty"`
	Repeat      int      `yaml:"repeat,omitempty"`
	// Stages change the load over the step (its length is theirs): rates
	// from rate (0 if absent), or workers from concurrency when given.
	Stages []fileStage `yaml:"stages,omitempty" plan:"nonempty"`
	// Schedule replays a trace file (a path relative to the plan).
	Schedule       string `yaml:"schedule,omitempty"`
	ScheduleFormat string `yaml:"schedule_format,omitempty"`
	ScheduleSpeed  string `yaml:"schedule_speed,omitempty"`
	ScheduleLoop   bool   `yaml:"schedule_loop,omitempty"`
	// BurstSize and BurstIdle shape arrival: bursty.
	BurstSize int      `yaml:"burst_size,omitempty"`
	BurstIdle duration `yaml:"burst_idle,omitempty"`
}

// fileStage is one stage as written: k6's {duration, target}, ramping
// from the previous target unless ramp: false.
type fileStage struct {
	Duration duration `yaml:"duration" plan:"required"`
	Target   *float64 `yaml:"target" plan:"required"`
	Ramp     *bool    `yaml:"ramp,omitempty"`
}

// duration is a Go duration as written: 30s, 500ms, 2m.
type duration string

// size is a size in bytes as written: 64MiB, 100MB, 4096 (bytesize.Parse).
type size string

// formatField is one key of a format struct.
type formatField struct {
	key      string
	index    int
	required bool // given, and not empty
	nonempty bool // not empty when given
}

// formatFields lists a format struct's keys in the order of its fields.
func formatFields(t reflect.Type) []formatField {
	var out []formatField
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		rule := f.Tag.Get("plan")
		out = append(out, formatField{key: key, index: i, required: rule == "required", nonempty: rule == "required" || rule == "nonempty"})
	}
	return out
}

func formatKeys(fields []formatField) []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

// typeWords names a format type: its JSON Schema type, and how errors
// say one value of it and many.
func typeWords(t reflect.Type) (schema, one, many string) {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "integer", "a whole number", "whole numbers"
	case reflect.Float64:
		return "number", "a number", "numbers"
	case reflect.Bool:
		return "boolean", "a boolean (true or false)", "booleans"
	case reflect.Slice:
		_, _, elems := typeWords(t.Elem())
		return "array", "a list of " + elems, "lists of " + elems
	case reflect.Map:
		_, _, elems := typeWords(t.Elem())
		return "object", "a mapping of names to " + elems, "mappings"
	case reflect.Struct, reflect.Pointer:
		return "object", "a mapping of keys to values", "mappings"
	}
	return "string", "a string", "strings"
}

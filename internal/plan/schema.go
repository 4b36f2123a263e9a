package plan

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
)

// Schema is the plan file's JSON Schema, for editors (`inferbench schema`).
// It is generated from the format's structs (format.go) and the
// descriptions in schemaDocs; TestSchemaFile fails when it is stale.
//
//go:generate go test -run ^TestSchemaFile$ -update .
//go:embed schema.json
var Schema []byte

// fieldDoc is what the structs do not say about a key.
type fieldDoc struct {
	description string
	enum        []string
	rules       object // constraints beyond the type's
}

// schemaDocs describes the keys, by path: a list's items add [], a
// mapping's values .*; "" is the plan.
func schemaDocs() map[string]fieldDoc {
	kinds := make([]string, len(protocol.Kinds))
	for i, k := range protocol.Kinds {
		kinds[i] = string(k)
	}
	atLeast1 := object{{"minimum", 1}}
	return map[string]fieldDoc{
		"": {description: "Deployments of one model to compare, and the load steps to run against them. Give either a built-in sequence or your own steps.",
			rules: object{{"oneOf", []object{{{"required", []string{"sequence"}}}, {{"required", []string{"steps"}}}}}}},
		"deployments[].name":                     {description: "A unique name, used in reports."},
		"deployments[].protocol":                 {enum: kinds, description: "kserve-http sends Triton binary tensors; kserve-http-json pure JSON; kserve-grpc raw_input_contents; nim-http NIM's POST /v1/infer with base64 images; http-json any HTTP model service (see http)."},
		"deployments[].version":                  {description: "Model version; empty lets the server choose."},
		"deployments[].timeout":                  {description: "Per-request timeout, a Go duration such as 60s."},
		"deployments[].headers":                  {description: "Sent with every call; ${NAME} is replaced by the environment variable NAME."},
		"deployments[].connect_timeout":          {description: "Timeout of establishing a connection, a Go duration such as 10s."},
		"deployments[].connections":              {description: "gRPC: connections (HTTP/2 channels) the calls are spread over, round robin.", rules: atLeast1},
		"deployments[].max_response_size":        {description: "The largest response body or gRPC message accepted, in bytes or with a unit (64MiB, 100MB); a larger one is a malformed_response and no buffer grows past it. Default 64MiB; at least 1KiB."},
		"deployments[].grpc_transport":           {enum: protocol.GRPCTransports, description: "kserve-grpc's implementation: fast (the default: our own HTTP/2 client, about half grpc-go's CPU per call, no allocation per call) or grpc-go (Google's, as most Go clients use it: to compare with, or to fall back on)."},
		"deployments[].shared_memory":            {enum: []string{"system", "none"}, description: "Triton's system shared-memory extension (as perf_analyzer's --shared-memory): every distinct input is written once into POSIX shared memory registered with the server, outputs are written by the server into regions of the client's, and requests carry only their names. kserve-http, kserve-http-json and kserve-grpc; the client must run on the server's host. Default none."},
		"deployments[].compression":              {enum: []string{"gzip", "deflate", "none"}, description: "Compress the requests: HTTP bodies with Content-Encoding, gRPC messages with grpc-encoding (as perf_analyzer's --grpc-compression-algorithm); the payload bytes reported are the compressed ones. Answers in gzip or deflate are decoded whatever this says. Default none."},
		"deployments[].batching":                 {description: "The deployment batches dynamically: the stress step runs against such deployments only."},
		"deployments[].metrics_url":              {description: "The server's Prometheus metrics: a URL, auto (default: Triton's port 8002 on the server's host, else its statistics API) or off."},
		"deployments[].url":                      {description: "http://host:port or https://host:port for HTTP; host:port, grpc://host:port or grpcs://host:port (TLS) for gRPC."},
		"deployments[].authority":                {description: "gRPC's :authority (and the HTTP Host header) when it is not the URL's host:port, e.g. for an ingress that routes by host (grpcurl's -authority). A Host header does the same unless this is given."},
		"deployments[].tls":                      {description: "TLS settings. TLS is on for https:// and grpcs:// URLs, and for a host:port with any of these keys; refused with http:// and grpc://."},
		"deployments[].tls.enabled":              {description: "TLS for a host:port address, with the system's CAs when nothing else is given."},
		"deployments[].tls.ca_cert":              {description: "A PEM file of the CA certificates to trust instead of the system's."},
		"deployments[].tls.cert":                 {description: "The client's certificate (PEM), for servers that require one (mutual TLS); needs key."},
		"deployments[].tls.key":                  {description: "The client certificate's private key (PEM)."},
		"deployments[].tls.insecure_skip_verify": {description: "Accept any server certificate: encrypted, but the server is not authenticated. Every report says so."},
		"deployments[].tls.server_name":          {description: "The name sent (SNI) and checked against the server's certificate instead of the URL's host."},
		"deployments[].kubernetes": {description: "The deployment's pods, watched around each step: restarts and OOM kills make a step invalid; CPU and memory from metrics.k8s.io.",
			rules: object{{"anyOf", []object{{{"required", []string{"selector"}}}, {{"required", []string{"deployment"}}}, {{"required", []string{"service"}}}}}}},
		"deployments[].kubernetes.namespace":  {description: "Default: the context's namespace."},
		"deployments[].kubernetes.selector":   {description: "A label selector, as kubectl -l takes it, e.g. app=triton."},
		"deployments[].kubernetes.deployment": {description: "A Deployment whose selector finds the pods."},
		"deployments[].kubernetes.service":    {description: "A Service whose selector finds the pods."},
		"deployments[].kubernetes.context":    {description: "A kubeconfig context; default: the current one."},
		"deployments[].http":                  {description: "For nim-http and http-json: how the image is sent and the answer checked. Keys left out come from the preset (fastapi for http-json, nim for nim-http)."},
		"deployments[].http.preset":           {enum: protocol.HTTPPresetNames(), description: `fastapi: POST /predict {"image": "<base64>"}, Ultralytics detections, GET /health (the reference server's base-yolo); fastapi-multipart: the image as multipart field file; fastapi-raw: the image as the body; nim: POST /v1/infer with data URLs.`},
		"deployments[].http.method":           {description: "HTTP method; POST by default."},
		"deployments[].http.path":             {description: "Appended to the URL, e.g. /predict.", rules: object{{"pattern", "^/"}}},
		"deployments[].http.body":             {description: "A Go text/template of the body: {{.Image}} is the image in base64, {{.DataURL}} as a data URL, {{.Images}} and {{.DataURLs}} every image of a batch, {{.MediaType}}, {{.Model}}; {{json .Model}} quotes."},
		"deployments[].http.content_type":     {description: "Of a body; application/json by default."},
		"deployments[].http.multipart_field":  {description: "Upload the image as multipart/form-data in this field instead of a body."},
		"deployments[].http.form":             {description: `Other fields of a multipart upload, e.g. conf: "0.25".`},
		"deployments[].http.raw":              {description: "Send the image's bytes as the body (Content-Type image/png or image/jpeg)."},
		"deployments[].http.check_path":       {description: "A dot-separated JSON path that must exist in a 200 answer, e.g. 0.box or data.0."},
		"deployments[].http.health":           {description: "GET path answering 200 when ready, or none."},
		"deployments[].http.detections": {enum: []string{protocol.DetectionsUltralytics, protocol.DetectionsNIM, protocol.DetectionsNone},
			description: "The answer's format, checked on every answer and read by check_outputs."},
		"deployments[].inputs.shapes":     {description: "Shapes for inputs with variable dimensions, e.g. images: [1, 3, 640, 640]."},
		"deployments[].inputs.shapes.*[]": {rules: atLeast1},
		"deployments[].inputs.batch_size": {rules: atLeast1},
		"deployments[].inputs.data":       {description: "Input samples in perf_analyzer's JSON format."},
		"deployments[].inputs.seed":       {description: "Seed of random input data; 1 by default."},
		"deployments[].inputs.image":      {description: "An image file, folder or glob (JPEG, PNG), or builtin (a generated street scene): letterboxed into the model's image input over KServe, sent as the file over nim-http and http-json."},
		"check_outputs":                   {description: "Before the load, send each deployment's images once and compare the answers across deployments (same boxes within a tolerance; the reference server's fingerprints equal): a deployment that answers differently has its runs marked invalid."},
		"sequence":                        {enum: BuiltinNames(), description: "A built-in sequence from the field guide."},
		"steps[]":                         {rules: object{{"oneOf", []object{{{"required", []string{"concurrency"}}}, {{"required", []string{"rate"}}}}}}},
		"steps[].concurrency":             {description: "Closed loop: workers each with one request in flight.", rules: atLeast1},
		"steps[].rate":                    {description: "Open loop: requests per second.", rules: object{{"exclusiveMinimum", 0}}},
		"steps[].arrival":                 {enum: []string{load.ArrivalConstant, load.ArrivalPoisson}, description: "How an open loop spaces its requests; constant by default."},
		"steps[].requests":                {rules: atLeast1},
		"steps[].duration":                {description: "A Go duration such as 30s."},
		"steps[].deployments":             {description: "Names of the deployments this step runs against; all if absent."},
		"steps[].warmup":                  {description: "Warmup requests before the measured phase (0: none); default the field guide's min(10, max(5, requests/20))."},
		"steps[].max_inflight":            {description: "Open loop: requests awaiting answers at most; further sends wait and count as late.", rules: atLeast1},
		"steps[].seed":                    {description: "Seed of a Poisson schedule; 1 by default."},
	}
}

// generateSchema writes the JSON Schema of planFile.
func generateSchema() ([]byte, error) {
	g := schemaGen{docs: schemaDocs(), used: map[string]bool{}}
	root := object{
		{"$schema", "http://json-schema.org/draft-07/schema#"},
		{"$id", "https://inferbench.dev/schema/plan.json"},
		{"title", "inferbench plan"},
	}
	root = append(root, g.schema(reflect.TypeFor[planFile](), "", formatField{})...)
	var stale []string
	for path := range g.docs {
		if !g.used[path] {
			stale = append(stale, path)
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		return nil, fmt.Errorf("schemaDocs describes keys the format lacks: %s", strings.Join(stale, ", "))
	}
	var b bytes.Buffer
	writeJSON(&b, root, "", true)
	b.WriteByte('\n')
	return b.Bytes(), nil
}

type schemaGen struct {
	docs map[string]fieldDoc
	used map[string]bool
}

// schema is the schema of a value of type t at path.
func (g *schemaGen) schema(t reflect.Type, path string, f formatField) object {
	doc := g.docs[path]
	g.used[path] = true
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var o object
	switch {
	case doc.enum != nil:
		o = object{{"enum", doc.enum}}
	case t == reflect.TypeFor[duration]():
		o = object{{"type", "string"}, {"pattern", "^[0-9.]+(ns|us|µs|ms|s|m|h)"}}
	case t == reflect.TypeFor[size]():
		o = object{{"type", []string{"string", "integer"}}, {"pattern", "^ *[0-9.]+ *([KkMmGgTt][Ii]?)?[Bb]? *$"}}
	default:
		schemaType, _, _ := typeWords(t)
		o = object{{"type", schemaType}}
	}
	switch {
	case f.nonempty && t.Kind() == reflect.String && doc.enum == nil:
		o = append(o, member{"minLength", 1})
	case f.nonempty && t.Kind() == reflect.Slice:
		o = append(o, member{"minItems", 1})
	}
	var properties object
	switch t.Kind() {
	case reflect.Slice:
		o = append(o, member{"items", g.schema(t.Elem(), path+"[]", formatField{})})
	case reflect.Map:
		o = append(o, member{"additionalProperties", g.schema(t.Elem(), path+".*", formatField{})})
	case reflect.Struct:
		o = append(o, member{"additionalProperties", false})
		var required []string
		for _, f := range formatFields(t) {
			if f.required {
				required = append(required, f.key)
			}
			key := f.key
			if path != "" {
				key = path + "." + f.key
			}
			properties = append(properties, member{f.key, g.schema(t.Field(f.index).Type, key, f)})
		}
		if required != nil {
			o = append(o, member{"required", required})
		}
	}
	o = append(o, doc.rules...)
	if doc.description != "" {
		o = append(o, member{"description", doc.description})
	}
	if properties != nil {
		o = append(o, member{"properties", properties})
	}
	return o
}

// object is a JSON object that keeps its keys' order.
type object []member

type member struct {
	key   string
	value any
}

// expands reports whether o is written over several lines: when it has
// properties, itself or in a value.
func (o object) expands() bool {
	for _, m := range o {
		if c, ok := m.value.(object); m.key == "properties" || ok && c.expands() {
			return true
		}
	}
	return false
}

// writeJSON writes v as JSON: an object with properties one key a line,
// any other value on one line.
func writeJSON(b *bytes.Buffer, v any, indent string, expand bool) {
	switch v := v.(type) {
	case object:
		if !expand && !v.expands() {
			b.WriteByte('{')
			for i, m := range v {
				if i > 0 {
					b.WriteString(", ")
				}
				writeJSON(b, m.key, "", false)
				b.WriteString(": ")
				writeJSON(b, m.value, "", false)
			}
			b.WriteByte('}')
			return
		}
		b.WriteString("{\n")
		for i, m := range v {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(indent + "  ")
			writeJSON(b, m.key, "", false)
			b.WriteString(": ")
			writeJSON(b, m.value, indent+"  ", m.key == "properties")
		}
		b.WriteString("\n" + indent + "}")
	case []object, []string:
		list := reflect.ValueOf(v)
		b.WriteByte('[')
		for i := range list.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, list.Index(i).Interface(), indent, false)
		}
		b.WriteByte(']')
	default:
		e := json.NewEncoder(b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err == nil { // strings, numbers and booleans only
			b.Truncate(b.Len() - 1) // Encode's newline
		}
	}
}

package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/inferbench/inferbench/internal/transport"
)

// HTTPOptions shape the requests of the image kinds (nim-http,
// http-json): where the image goes, how it is encoded, and what makes an
// answer right. Fields left empty come from the preset.
type HTTPOptions struct {
	// Preset names the defaults (HTTPPresets): "fastapi" unless set for
	// http-json, "nim" for nim-http.
	Preset string
	Method string // POST unless set
	Path   string // appended to the URL
	// The image goes in exactly one of three ways: Body, a Go
	// text/template of the body (see BodyData); MultipartField, a
	// multipart/form-data upload in that field (with Form's other
	// fields); or Raw, the image's bytes as the body (Content-Type
	// image/png or image/jpeg). Setting one replaces the preset's way.
	Body           string
	ContentType    string // of a Body; application/json unless set
	MultipartField string
	Form           map[string]string
	Raw            bool
	// CheckPath is a dot-separated JSON path ("0.box", "data.0") that
	// must exist in a 200 answer; empty checks nothing more.
	CheckPath string
	// Health is the path of a GET health check answering 200 when ready;
	// "none" for a service without one.
	Health string
	// Detections is the answer's format: "ultralytics" (a list of
	// detections, Ultralytics' or the common FastAPI shape), "nim"
	// (/v1/infer's) or "none". A known format is checked on every answer
	// and read to compare deployments.
	Detections string
}

// Detection formats.
const (
	DetectionsUltralytics = "ultralytics"
	DetectionsNIM         = "nim"
	DetectionsNone        = "none"
)

// nimBody is NIM's /v1/infer request: every image as a base64 data URL.
const nimBody = `{"input": [{{range $i, $u := .DataURLs}}{{if $i}}, {{end}}{"type": "image_url", "url": "{{$u}}"}{{end}}]}`

// HTTPPresets are the built-in request shapes of the image kinds.
var HTTPPresets = map[string]HTTPOptions{
	// The reference server's plain API (base-yolo) and the common
	// FastAPI pattern: POST /predict {"image": "<base64>"}, an Ultralytics
	// list of detections, GET /health.
	"fastapi": {Method: http.MethodPost, Path: "/predict", Body: `{"image": "{{.Image}}"}`, ContentType: "application/json",
		Health: "/health", Detections: DetectionsUltralytics},
	// The same service, the image uploaded as multipart field "file".
	"fastapi-multipart": {Method: http.MethodPost, Path: "/predict", MultipartField: "file", Health: "/health", Detections: DetectionsUltralytics},
	// The same service, the image as the raw body.
	"fastapi-raw": {Method: http.MethodPost, Path: "/predict", Raw: true, Health: "/health", Detections: DetectionsUltralytics},
	// NIM for object detection: POST /v1/infer with data URLs.
	"nim": {Method: http.MethodPost, Path: "/v1/infer", Body: nimBody, ContentType: "application/json",
		Health: "/v1/health/ready", Detections: DetectionsNIM},
}

// HTTPPresetNames lists the presets, sorted.
func HTTPPresetNames() []string {
	names := make([]string, 0, len(HTTPPresets))
	for n := range HTTPPresets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BodyData is what a Body template sees: the images of one request,
// base64-encoded (standard alphabet, padded).
type BodyData struct {
	Image     string   // the first image
	DataURL   string   // the first image as data:image/png;base64,...
	MediaType string   // the first image's: image/png or image/jpeg
	Images    []string // every image of the request (--batch-size)
	DataURLs  []string
	Model     string
	Version   string
}

// templateFuncs are the Body template's functions: json writes a value as
// JSON ({{json .Model}} gives "yolov8n" with its quotes).
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// resolved is HTTPOptions with the preset applied and checked.
type resolved struct {
	HTTPOptions
	body *template.Template
}

// Resolve applies the preset for kind to o and checks the result.
func (o HTTPOptions) Resolve(kind Kind) (HTTPOptions, error) {
	r, err := o.resolve(kind)
	return r.HTTPOptions, err
}

func (o HTTPOptions) resolve(kind Kind) (resolved, error) {
	name := o.Preset
	if name == "" {
		name = "fastapi"
		if kind == NIMHTTP {
			name = "nim"
		}
	}
	p, ok := HTTPPresets[name]
	if !ok {
		return resolved{}, fmt.Errorf("unknown HTTP preset %q (want one of %s)", name, strings.Join(HTTPPresetNames(), ", "))
	}
	p.Preset = name
	ways := 0
	for _, set := range []bool{o.Body != "", o.MultipartField != "", o.Raw} {
		if set {
			ways++
		}
	}
	if ways > 1 {
		return resolved{}, fmt.Errorf("give one way to send the image: a body template, a multipart field, or raw")
	}
	if ways == 1 {
		p.Body, p.ContentType, p.MultipartField, p.Raw, p.Form = o.Body, "", o.MultipartField, o.Raw, nil
	}
	for _, f := range []struct{ dst, src *string }{
		{&p.Method, &o.Method}, {&p.Path, &o.Path}, {&p.ContentType, &o.ContentType},
		{&p.CheckPath, &o.CheckPath}, {&p.Health, &o.Health}, {&p.Detections, &o.Detections},
	} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	if o.Form != nil {
		p.Form = o.Form
	}
	if p.Method == "" {
		p.Method = http.MethodPost
	}
	p.Method = strings.ToUpper(p.Method)
	if !transport.ValidHeader(p.Method, "") || strings.ContainsAny(p.Method, "/:") {
		return resolved{}, fmt.Errorf("method %q is not an HTTP method", p.Method)
	}
	if !strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, " \r\n") {
		return resolved{}, fmt.Errorf("path %q must start with / and hold no spaces", p.Path)
	}
	if p.Health != "none" && p.Health != "" && !strings.HasPrefix(p.Health, "/") {
		return resolved{}, fmt.Errorf("health %q must be a path starting with /, or none", p.Health)
	}
	if p.Body != "" && p.ContentType == "" {
		p.ContentType = "application/json"
	}
	if p.ContentType != "" && !transport.ValidHeader("Content-Type", p.ContentType) {
		return resolved{}, fmt.Errorf("content type %q is not a valid header value", p.ContentType)
	}
	if len(p.Form) > 0 && p.MultipartField == "" {
		return resolved{}, fmt.Errorf("form fields go with a multipart upload: set the multipart field too")
	}
	if !slices.Contains([]string{DetectionsUltralytics, DetectionsNIM, DetectionsNone}, p.Detections) {
		return resolved{}, fmt.Errorf("detections %q: want %s, %s or %s", p.Detections, DetectionsUltralytics, DetectionsNIM, DetectionsNone)
	}
	r := resolved{HTTPOptions: p}
	if p.Body != "" {
		t, err := template.New("body").Funcs(templateFuncs).Option("missingkey=error").Parse(p.Body)
		if err != nil {
			return resolved{}, fmt.Errorf("body template: %w", err)
		}
		sample := BodyData{Image: "aGk=", DataURL: "data:image/png;base64,aGk=", MediaType: "image/png",
			Images: []string{"aGk="}, DataURLs: []string{"data:image/png;base64,aGk="}, Model: "m"}
		if err := t.Execute(&bytes.Buffer{}, sample); err != nil {
			return resolved{}, fmt.Errorf("body template: %w", err)
		}
		r.body = t
	}
	return r, nil
}

package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/run"
)

// imageFlags are the flags of images and of the image kinds (nim-http,
// http-json).
type imageFlags struct {
	image        string
	perRequest   bool
	checkOutputs bool
	http         protocol.HTTPOptions
	form         []string
}

// addImageFlags registers --image and the --http-* flags (bench, sweep).
func addImageFlags(fl *pflag.FlagSet, f *imageFlags) {
	fl.StringVar(&f.image, "image", "", "images to send in rotation: a JPEG/PNG file, a folder, a glob, or builtin (a generated street scene); letterboxed into the model's image input over KServe, sent as files over nim-http and http-json")
	fl.StringVar(&f.http.Preset, "http-preset", "", "nim-http/http-json request shape: "+strings.Join(protocol.HTTPPresetNames(), "|")+" (default fastapi for http-json, nim for nim-http)")
	fl.StringVar(&f.http.Method, "http-method", "", "HTTP method (default POST)")
	fl.StringVar(&f.http.Path, "http-path", "", "path of the request, after the URL (default the preset's: /predict, /v1/infer)")
	fl.StringVar(&f.http.Body, "http-body", "", `body as a Go text/template: {{.Image}} the image in base64, {{.DataURL}}, {{.Images}}/{{.DataURLs}} for a batch, {{.Model}}; e.g. '{"image": "{{.Image}}"}'`)
	fl.StringVar(&f.http.ContentType, "http-content-type", "", "Content-Type of --http-body (default application/json)")
	fl.StringVar(&f.http.MultipartField, "http-multipart-field", "", "send the image as a multipart/form-data upload in this field (e.g. file)")
	fl.StringArrayVar(&f.form, "http-form", nil, "another field of the multipart upload, name=value (repeatable), e.g. conf=0.25")
	fl.BoolVar(&f.http.Raw, "http-raw", false, "send the image's bytes as the body (Content-Type image/png or image/jpeg)")
	fl.StringVar(&f.http.CheckPath, "http-check-path", "", "a dot-separated JSON path that must exist in every 200 answer, e.g. 0.box or data.0")
	fl.StringVar(&f.http.Health, "http-health", "", "GET path of the service's health check, or none (default the preset's: /health, /v1/health/ready)")
	fl.StringVar(&f.http.Detections, "http-detections", "", "format of the answer: ultralytics|nim|none (default the preset's), checked on every answer")
}

// addImageRunFlags registers the flags of how images are sent (bench).
func addImageRunFlags(fl *pflag.FlagSet, f *imageFlags) {
	fl.BoolVar(&f.perRequest, "preprocess-per-request", false, "decode, letterbox and encode the image for every request (base64 and the body for nim-http/http-json), timed apart and reported as client.preprocess_ms: what a client pays per frame")
	fl.BoolVar(&f.checkOutputs, "check-outputs", false, "before the load, send each image once and report the detections (box counts, the reference server's fingerprints) in output_check")
}

// httpSet reports whether any --http-* flag was given.
func (f *imageFlags) httpSet() bool {
	h := f.http
	return h.Preset != "" || h.Method != "" || h.Path != "" || h.Body != "" || h.ContentType != "" || h.MultipartField != "" ||
		h.Raw || h.CheckPath != "" || h.Health != "" || h.Detections != "" || len(f.form) > 0
}

// apply checks the flags for a protocol kind and puts them in the plan:
// the images are read and decoded here, so that a corrupt file is named
// before anything is sent.
func (f *imageFlags) apply(kind protocol.Kind, p *benchPlan) error {
	if f.httpSet() && !kind.SendsImages() {
		return fmt.Errorf("the --http-* flags shape requests of --protocol %s or %s, not %s", protocol.NIMHTTP, protocol.HTTPJSON, kind)
	}
	if len(f.form) > 0 {
		f.http.Form = map[string]string{}
		for _, kv := range f.form {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("--http-form %q: want name=value", kv)
			}
			f.http.Form[k] = v
		}
	}
	if kind.SendsImages() {
		if _, err := f.http.Resolve(kind); err != nil {
			return fmt.Errorf("--http-*: %w", err)
		}
		if p.inputs.DataFile != "" {
			return fmt.Errorf("--input-data gives tensors: %s sends images (--image)", kind)
		}
	}
	p.opts.HTTP = f.http
	if f.image != "" && p.inputs.DataFile != "" {
		return fmt.Errorf("give --image or --input-data, not both")
	}
	images, err := run.LoadImages(f.image)
	if err != nil {
		return err
	}
	p.inputs.Images = images
	if f.perRequest && images == nil && !kind.SendsImages() {
		return fmt.Errorf("--preprocess-per-request preprocesses images: give --image (%s for the built-in one)", inputs.BuiltinImage)
	}
	return nil
}

// outputCheck reads the answer to each image (--check-outputs) and
// prints what it holds; nil when not asked.
func (f *imageFlags) outputCheck(ctx context.Context, t *run.Target, name string, log io.Writer, quiet bool) *result.OutputCheck {
	if !f.checkOutputs {
		return nil
	}
	check := run.CompareOutputs([]string{name}, [][]run.ImageOutput{run.ReadOutputs(ctx, t)}, detect.DefaultTolerance)
	if !quiet {
		d := check.Deployments[0]
		fmt.Fprintf(log, "Outputs: %s", d.Status)
		if d.Detail != "" {
			fmt.Fprintf(log, " (%s)", d.Detail)
		}
		fmt.Fprintln(log)
		for i, img := range t.Images {
			line := fmt.Sprintf("  %s:", img.Path)
			if i < len(d.Boxes) && d.Boxes[i] >= 0 {
				line += fmt.Sprintf(" %d boxes", d.Boxes[i])
			}
			if i < len(d.Fingerprints) && d.Fingerprints[i] != "" {
				line += " fingerprint " + d.Fingerprints[i]
			}
			fmt.Fprintln(log, line)
		}
	}
	return check
}

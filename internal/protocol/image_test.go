package protocol_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// imageRequest is a request of an image kind: the images as a BYTES input.
func imageRequest(images ...[]byte) *kserve.InferRequest {
	var data []byte
	for _, img := range images {
		data = kserve.AppendBytesElement(data, img)
	}
	return &kserve.InferRequest{Inputs: []kserve.Tensor{{Name: protocol.ImageInput, Datatype: kserve.BYTES, Shape: []int64{int64(len(images))}, Data: data}}}
}

func newClient(t *testing.T, opts protocol.Options) protocol.Client {
	t.Helper()
	c, err := protocol.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSameImageSameAnswerOverEveryKind is the acceptance test of the
// reference server's convention (refserver/vision.go): each example image
// sent over kserve-grpc, kserve-http, kserve-http-json (letterboxed by the
// client), nim-http and http-json (the file itself, base64, multipart or
// raw) gets the same fingerprint and the same boxes, with requests and
// answers compressed (gzip, deflate) or not.
func TestSameImageSameAnswerOverEveryKind(t *testing.T) {
	spec := func() refserver.ModelSpec {
		return refserver.ModelSpec{Name: "yolov8n", Emulator: refserver.NewFIFO(0),
			Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}},
			Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 84}}}}
	}
	kserveServer := serve(t, spec())
	plainSrv, err := refserver.New(refserver.Options{HTTPAPI: refserver.APIPlain, Models: []refserver.ModelSpec{spec()}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := plainSrv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		plain.Shutdown(ctx)
	})
	images, err := inputs.LoadImages(filepath.Join("..", "..", "examples", "images"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kserveURL := "http://" + kserveServer.HTTPAddr
	plainURL := "http://" + plain.HTTPAddr
	type route struct {
		name string
		opts protocol.Options
	}
	routes := []route{
		{"kserve-grpc", protocol.Options{Kind: protocol.KServeGRPC, URL: kserveServer.GRPCAddr}},
		{"kserve-http", protocol.Options{Kind: protocol.KServeHTTP, URL: kserveURL}},
		{"kserve-http-json", protocol.Options{Kind: protocol.KServeHTTPJSON, URL: kserveURL}},
		{"nim-http", protocol.Options{Kind: protocol.NIMHTTP, URL: kserveURL}},
		{"http-json base64", protocol.Options{Kind: protocol.HTTPJSON, URL: plainURL}},
		{"http-json multipart", protocol.Options{Kind: protocol.HTTPJSON, URL: plainURL, HTTP: protocol.HTTPOptions{Preset: "fastapi-multipart"}}},
		{"http-json raw", protocol.Options{Kind: protocol.HTTPJSON, URL: plainURL, HTTP: protocol.HTTPOptions{Preset: "fastapi-raw"}}},
	}
	// Each again with compressed requests and answers (Accept-Encoding):
	// the same answers, read through the decoders (ReadAnswer's net/http
	// among them).
	for _, r := range routes[:len(routes):len(routes)] {
		for _, coding := range []string{"gzip", "deflate"} {
			o := r.opts
			o.Compression, o.Headers = coding, map[string]string{"Accept-Encoding": coding}
			routes = append(routes, route{r.name + " " + coding, o})
		}
	}
	meta := []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}}
	for _, img := range images {
		samples, err := inputs.ImageSamples([]inputs.Image{img}, meta, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := kserve.Fingerprint(samples[0])
		b := img.Bounds()
		lb := imaging.Plan(b.Dx(), b.Dy(), 64, 64)
		var reference []detect.Box
		for _, r := range routes {
			c := newClient(t, r.opts)
			req := &kserve.InferRequest{Inputs: samples[0]}
			if r.opts.Kind.SendsImages() {
				req = imageRequest(img.Encoded)
			}
			p, err := c.Prepare("yolov8n", "", req)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			a, err := protocol.ReadAnswer(ctx, c, p)
			if err != nil {
				t.Fatalf("%s %s: %v", r.name, img.Path, err)
			}
			if len(a.Fingerprints) != 1 || a.Fingerprints[0] != want {
				t.Errorf("%s %s: fingerprints %x, want %08x", r.name, img.Path, a.Fingerprints, want)
			}
			boxes := a.Unit(0, b.Dx(), b.Dy(), lb)
			if len(boxes) == 0 {
				t.Fatalf("%s %s: no boxes", r.name, img.Path)
			}
			if reference == nil {
				reference = boxes
				continue
			}
			if msg := detect.Compare(boxes, reference, detect.Tolerance{Coord: 1e-3, Confidence: 1e-3}); msg != "" {
				t.Errorf("%s %s: boxes differ from kserve-grpc's: %s", r.name, img.Path, msg)
			}
			// The hot path agrees that the answer is right.
			caller := c.NewCaller(nil)
			if out := caller.Call(ctx, p); out.Err != nil || out.RequestBytes != p.Size() || out.ResponseBytes == 0 {
				t.Errorf("%s: Call: %+v", r.name, out)
			}
			caller.Close()
		}
	}
}

// TestImageBodiesParsedByAServer sends every way of carrying an image to a
// net/http server that parses the request as a FastAPI app would.
func TestImageBodiesParsedByAServer(t *testing.T) {
	png, _ := imaging.Encode(imaging.Scene(32, 24, 1), "png")
	jpeg, _ := imaging.Encode(imaging.Scene(24, 32, 2), "jpeg")
	type got struct {
		method, path, contentType, auth string
		images                          [][]byte
		form                            map[string]string
		raw                             string
	}
	var last got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = got{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), auth: r.Header.Get("Authorization"), form: map[string]string{}}
		switch {
		case strings.HasPrefix(last.contentType, "multipart/form-data"):
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			for _, fh := range r.MultipartForm.File["file"] {
				f, _ := fh.Open()
				data, _ := io.ReadAll(f)
				last.images = append(last.images, data)
			}
			for k, v := range r.MultipartForm.Value {
				last.form[k] = v[0]
			}
		case last.contentType == "application/json":
			body, _ := io.ReadAll(r.Body)
			last.raw = string(body)
			var req struct {
				Image  string   `json:"image"`
				Images []string `json:"images"`
				Input  []struct {
					Type, URL string
				} `json:"input"`
			}
			if err := json.Unmarshal(body, &req); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			b64 := append([]string{}, req.Images...)
			if req.Image != "" {
				b64 = append(b64, req.Image)
			}
			for _, in := range req.Input {
				_, data, _ := strings.Cut(in.URL, ",")
				b64 = append(b64, data)
			}
			for _, s := range b64 {
				data, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					http.Error(w, err.Error(), 400)
					return
				}
				last.images = append(last.images, data)
			}
		default:
			data, _ := io.ReadAll(r.Body)
			last.images = [][]byte{data}
		}
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			fmt.Fprintf(w, `{"data": [%s]}`, strings.TrimSuffix(strings.Repeat(`{"index": 0, "bounding_boxes": {}},`, len(last.images)), ","))
			return
		}
		w.Write([]byte(`[{"name": "car", "class": 2, "confidence": 0.5, "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}}]`))
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name        string
		kind        protocol.Kind
		opts        protocol.HTTPOptions
		images      [][]byte
		contentType string
		form        map[string]string
		raw         string // a part of the body, when it is JSON
	}{
		{"fastapi base64", protocol.HTTPJSON, protocol.HTTPOptions{}, [][]byte{png}, "application/json", nil, `{"image": "iVBOR`},
		{"multipart with form fields", protocol.HTTPJSON, protocol.HTTPOptions{Preset: "fastapi-multipart", Form: map[string]string{"conf": "0.25", "imgsz": "640"}}, [][]byte{jpeg}, "multipart/form-data", map[string]string{"conf": "0.25", "imgsz": "640"}, ""},
		{"multipart batch", protocol.HTTPJSON, protocol.HTTPOptions{MultipartField: "file"}, [][]byte{png, jpeg}, "multipart/form-data", nil, ""},
		{"raw JPEG", protocol.HTTPJSON, protocol.HTTPOptions{Raw: true, Path: "/detect"}, [][]byte{jpeg}, "image/jpeg", nil, ""},
		{"custom template", protocol.HTTPJSON, protocol.HTTPOptions{Path: "/v2/predict", Method: "put", Body: `{"model": {{json .Model}}, "images": [{{range $i, $b := .Images}}{{if $i}},{{end}}"{{$b}}"{{end}}]}`, CheckPath: "0.box.x2"},
			[][]byte{png, jpeg}, "application/json", nil, `{"model": "m", "images": ["iVBOR`},
		{"nim batch", protocol.NIMHTTP, protocol.HTTPOptions{}, [][]byte{png, jpeg}, "application/json", nil, `{"type": "image_url", "url": "data:image/jpeg;base64,/9j/`},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, protocol.Options{Kind: tt.kind, URL: srv.URL, HTTP: tt.opts, Headers: map[string]string{"Authorization": "Bearer x"}})
			p, err := c.Prepare("m", "", imageRequest(tt.images...))
			if err != nil {
				t.Fatal(err)
			}
			if out := c.NewCaller(nil).Call(ctx, p); out.Err != nil {
				t.Fatal(out.Err)
			}
			if len(last.images) != len(tt.images) {
				t.Fatalf("the server read %d images, want %d", len(last.images), len(tt.images))
			}
			for i := range tt.images {
				if string(last.images[i]) != string(tt.images[i]) {
					t.Errorf("image %d arrived changed", i)
				}
			}
			if !strings.HasPrefix(last.contentType, tt.contentType) || last.auth != "Bearer x" {
				t.Errorf("Content-Type %q, Authorization %q", last.contentType, last.auth)
			}
			for k, v := range tt.form {
				if last.form[k] != v {
					t.Errorf("form field %s = %q, want %q", k, last.form[k], v)
				}
			}
			if !strings.Contains(last.raw, tt.raw) {
				t.Errorf("body %.120s..., want %q in it", last.raw, tt.raw)
			}
			if tt.opts.Method == "put" && last.method != "PUT" || tt.opts.Path != "" && last.path != tt.opts.Path {
				t.Errorf("%s %s", last.method, last.path)
			}
		})
	}
}

// TestImageAnswerChecks: what the hot path refuses, and how it says so.
func TestImageAnswerChecks(t *testing.T) {
	answer := map[string]struct {
		status int
		body   string
	}{
		"/fastapi-error": {422, `{"detail": "field required: image"}`},
		"/triton-error":  {503, `{"error": "Exceeds maximum queue size"}`},
		"/not-json":      {200, `<html>`},
		"/object":        {200, `{"status": "ok"}`},
		"/wrapped":       {200, `{"predictions": []}`},
		"/v1/two":        {200, `{"data": [{"index": 0, "bounding_boxes": {}}, {"index": 1, "bounding_boxes": {}}]}`},
		"/v1/none":       {200, `{"objects": []}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answer[r.URL.Path]
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	png, _ := imaging.Encode(imaging.Scene(8, 8, 1), "png")
	tests := []struct {
		kind protocol.Kind
		opts protocol.HTTPOptions
		want string // "" for success
		err  any
	}{
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/fastapi-error"}, "HTTP 422: field required: image", new(*protocol.ServerError)},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/triton-error"}, "HTTP 503: Exceeds maximum queue size", new(*protocol.ServerError)},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/not-json"}, "not JSON", new(*protocol.MalformedResponseError)},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/not-json", Detections: "none"}, "", nil},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/object"}, "not a list of detections", new(*protocol.ValidationError)},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/object", Detections: "none", CheckPath: "status"}, "", nil},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/object", Detections: "none", CheckPath: "0.box"}, "the answer has no 0.box", new(*protocol.ValidationError)},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "/wrapped"}, "", nil},
		{protocol.NIMHTTP, protocol.HTTPOptions{Path: "/v1/two"}, "detections for 2 images, the request sent 1", new(*protocol.ValidationError)},
		{protocol.NIMHTTP, protocol.HTTPOptions{Path: "/v1/none"}, `no "data" list`, new(*protocol.ValidationError)},
	}
	for _, tt := range tests {
		c := newClient(t, protocol.Options{Kind: tt.kind, URL: srv.URL, HTTP: tt.opts})
		p, err := c.Prepare("m", "", imageRequest(png))
		if err != nil {
			t.Fatal(err)
		}
		out := c.NewCaller(nil).Call(context.Background(), p)
		if tt.want == "" {
			if out.Err != nil {
				t.Errorf("%s %s: %v", tt.kind, tt.opts.Path, out.Err)
			}
			continue
		}
		if out.Err == nil || !strings.Contains(out.Err.Error(), tt.want) || !errors.As(out.Err, tt.err) {
			t.Errorf("%s %s: %v, want %q of type %T", tt.kind, tt.opts.Path, out.Err, tt.want, tt.err)
		}
	}
}

func TestHTTPOptionsResolve(t *testing.T) {
	tests := []struct {
		kind protocol.Kind
		opts protocol.HTTPOptions
		want string // an error, or "" for none
		path string
	}{
		{protocol.HTTPJSON, protocol.HTTPOptions{}, "", "/predict"},
		{protocol.NIMHTTP, protocol.HTTPOptions{}, "", "/v1/infer"},
		{protocol.NIMHTTP, protocol.HTTPOptions{Path: "/v1/page-elements"}, "", "/v1/page-elements"},
		{protocol.HTTPJSON, protocol.HTTPOptions{Preset: "tensorflow"}, "unknown HTTP preset", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Body: "x", Raw: true}, "one way to send the image", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Body: "{{.Picture}}"}, "body template", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Body: "{{.Image"}, "body template", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Path: "predict"}, "must start with /", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Method: "GE T"}, "not an HTTP method", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Health: "health"}, "health", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Form: map[string]string{"a": "b"}}, "multipart", ""},
		{protocol.HTTPJSON, protocol.HTTPOptions{Detections: "coco"}, "detections", ""},
	}
	for _, tt := range tests {
		got, err := tt.opts.Resolve(tt.kind)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.opts, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: %v, want %q", tt.opts, err, tt.want)
		case tt.want == "" && got.Path != tt.path:
			t.Errorf("%+v: path %q, want %q", tt.opts, got.Path, tt.path)
		}
	}
	if _, err := protocol.New(protocol.Options{Kind: protocol.HTTPJSON, URL: "http://127.0.0.1:1", HTTP: protocol.HTTPOptions{Preset: "x"}}); err == nil {
		t.Error("New accepted an unknown preset")
	}
}

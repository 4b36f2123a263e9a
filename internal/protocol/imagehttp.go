package protocol

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"sort"

	"github.com/inferbench/inferbench/internal/jsonscan"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/http1"
)

// ErrNotSupported is a call a protocol has no counterpart for (the model
// configuration of a plain HTTP service).
var ErrNotSupported = errors.New("not supported by this protocol")

// ImageInput is the input the image kinds present in their synthesized
// metadata: BYTES, one element per image, each the image file's bytes.
// Their requests (Prepare) carry the images that way.
const ImageInput = "image"

// imageClient speaks the image kinds: nim-http and http-json. A request is
// the images of one InferRequest (a BYTES input, one encoded PNG or JPEG
// per element) rendered into the body the options describe, once, by
// Prepare; the answer is checked for its status and, when its format is
// known, its shape, in place.
type imageClient struct {
	h    *httpClient // the transport, URL prefix and headers
	o    resolved
	kind Kind
}

func newImageClient(opts Options) (*imageClient, error) {
	o, err := opts.HTTP.resolve(opts.Kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Kind, err)
	}
	h, err := newHTTPClient(opts)
	if err != nil {
		return nil, err
	}
	return &imageClient{h: h, o: o, kind: opts.Kind}, nil
}

func (c *imageClient) Kind() Kind   { return c.kind }
func (c *imageClient) Close() error { return c.h.Close() }

// HTTPOptions returns the options the client resolved (preset applied).
func (c *imageClient) HTTPOptions() HTTPOptions { return c.o.HTTPOptions }

// health asks the health path; a service without one is taken as ready.
func (c *imageClient) health(ctx context.Context) (bool, error) {
	if c.o.Health == "" || c.o.Health == "none" {
		return true, nil
	}
	return c.h.health(ctx, c.o.Health)
}

func (c *imageClient) ServerLive(ctx context.Context) (bool, error)  { return c.health(ctx) }
func (c *imageClient) ServerReady(ctx context.Context) (bool, error) { return c.health(ctx) }
func (c *imageClient) ModelReady(ctx context.Context, _, _ string) (bool, error) {
	return c.health(ctx)
}

func (c *imageClient) ServerMetadata(context.Context) (*kserve.ServerMetadata, error) {
	return &kserve.ServerMetadata{Name: string(c.kind)}, nil
}

// ModelMetadata describes what the kind sends and gets: images in, the
// answer's body out. Nothing is asked of the server.
func (c *imageClient) ModelMetadata(_ context.Context, model, version string) (*kserve.ModelMetadata, error) {
	md := &kserve.ModelMetadata{Name: model, Platform: string(c.kind),
		Inputs:  []kserve.TensorMetadata{{Name: ImageInput, Datatype: kserve.BYTES, Shape: []int64{-1}}},
		Outputs: []kserve.TensorMetadata{{Name: "response", Datatype: kserve.BYTES, Shape: []int64{1}}}}
	if version != "" {
		md.Versions = []string{version}
	}
	return md, nil
}

func (c *imageClient) ModelConfig(context.Context, string, string) (*pb.ModelConfig, error) {
	return nil, fmt.Errorf("model configuration: %w (%s)", ErrNotSupported, c.kind)
}

func (c *imageClient) ModelStatistics(context.Context, string, string) (*pb.ModelStatisticsResponse, error) {
	return nil, fmt.Errorf("model statistics: %w (%s)", ErrNotSupported, c.kind)
}

// imagePayload is a rendered request of an image kind.
type imagePayload struct {
	httpPayload
	method, path string
	fields       []transport.HeaderField // headers, Content-Type included
	images       int
}

// RequestImages returns the encoded images a request of an image kind
// carries: the elements of its BYTES input.
func RequestImages(req *kserve.InferRequest) ([][]byte, error) {
	for _, in := range req.Inputs {
		if in.Datatype != kserve.BYTES {
			continue
		}
		images, err := kserve.SplitBytes(in.Data)
		if err != nil {
			return nil, fmt.Errorf("input '%s': %w", in.Name, err)
		}
		if len(images) == 0 {
			break
		}
		return images, nil
	}
	return nil, errors.New("the request has no images: the image kinds send a BYTES input holding PNG or JPEG files")
}

// MediaType names an encoded image's type from its first bytes.
func MediaType(img []byte) (string, error) {
	switch {
	case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case bytes.HasPrefix(img, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg", nil
	}
	return "", errors.New("the data is neither a PNG nor a JPEG image")
}

// Prepare renders the request: the images of req's BYTES input into the
// body the options describe, behind the request line and headers.
func (c *imageClient) Prepare(model, version string, req *kserve.InferRequest) (Payload, error) {
	images, err := RequestImages(req)
	if err != nil {
		return nil, err
	}
	body, contentType, err := c.render(model, version, images)
	if err != nil {
		return nil, err
	}
	body, fields, err := c.h.compressBody(body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		fields = withDefault(fields, "Content-Type", contentType)
	}
	head := http1.AppendRequestHead(nil, c.o.Method, c.h.basePath+c.o.Path, fields, len(body))
	wire := make([]byte, 0, len(head)+len(body))
	wire = append(append(wire, head...), body...)
	return &imagePayload{httpPayload: httpPayload{op: c.o.Method + " " + c.o.Path, wire: wire, body: len(body)},
		method: c.o.Method, path: c.o.Path, fields: fields, images: len(images)}, nil
}

// render makes a request's body and its content type.
func (c *imageClient) render(model, version string, images [][]byte) ([]byte, string, error) {
	types := make([]string, len(images))
	for i, img := range images {
		t, err := MediaType(img)
		if err != nil {
			return nil, "", fmt.Errorf("image %d: %w", i+1, err)
		}
		types[i] = t
	}
	switch {
	case c.o.Raw:
		if len(images) != 1 {
			return nil, "", fmt.Errorf("a raw body carries one image, not %d (batch size 1)", len(images))
		}
		ct := c.o.ContentType
		if ct == "" {
			ct = types[0]
		}
		return images[0], ct, nil
	case c.o.MultipartField != "":
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for i, img := range images {
			ext := "png"
			if types[i] == "image/jpeg" {
				ext = "jpg"
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="image-%d.%s"`, c.o.MultipartField, i+1, ext))
			h.Set("Content-Type", types[i])
			w, err := mw.CreatePart(h)
			if err != nil {
				return nil, "", err
			}
			w.Write(img)
		}
		names := make([]string, 0, len(c.o.Form))
		for k := range c.o.Form {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if err := mw.WriteField(k, c.o.Form[k]); err != nil {
				return nil, "", err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, "", err
		}
		return b.Bytes(), mw.FormDataContentType(), nil
	}
	data := BodyData{Model: model, Version: version, MediaType: types[0]}
	size := 256
	for i, img := range images {
		b64 := base64.StdEncoding.EncodeToString(img)
		data.Images = append(data.Images, b64)
		data.DataURLs = append(data.DataURLs, "data:"+types[i]+";base64,"+b64)
		size += 2*len(b64) + 64
	}
	data.Image, data.DataURL = data.Images[0], data.DataURLs[0]
	var b bytes.Buffer
	b.Grow(size)
	if err := c.o.body.Execute(&b, data); err != nil {
		return nil, "", fmt.Errorf("body template: %w", err)
	}
	return b.Bytes(), c.o.ContentType, nil
}

func imagePayloadOf(p Payload) (*imagePayload, error) {
	ip, ok := p.(*imagePayload)
	if !ok {
		return nil, fmt.Errorf("payload of type %T was not prepared by an image client (nim-http, http-json)", p)
	}
	return ip, nil
}

// imageStatusError words a failed answer: the message of a JSON error body
// (Triton's "error", FastAPI's "detail", "message"), or the body itself.
func imageStatusError(status int, body []byte) error {
	for _, key := range []string{"error", "detail", "message"} {
		if v, ok := jsonscan.Lookup(body, key); ok && len(v) > 0 && v[0] == '"' {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return &ServerError{HTTPStatus: status, Message: s}
			}
		}
	}
	return statusError(status, body)
}

// check checks an answer in place: JSON when anything is to be checked,
// the check path present, and the detections in their format's shape for
// as many images as were sent.
func (c *imageClient) check(body []byte, images int) error {
	o := &c.o
	if o.Detections == DetectionsNone && o.CheckPath == "" {
		return nil
	}
	if !jsonscan.Valid(body) {
		return &MalformedResponseError{Err: fmt.Errorf("the answer is not JSON: %q", transport.Clip(body))}
	}
	if o.CheckPath != "" {
		if _, ok := jsonscan.Lookup(body, o.CheckPath); !ok {
			return &ValidationError{Err: fmt.Errorf("the answer has no %s", o.CheckPath)}
		}
	}
	switch o.Detections {
	case DetectionsNIM:
		data, _ := jsonscan.Lookup(body, "data")
		n := jsonscan.ArrayLen(data)
		if n < 0 {
			return &ValidationError{Err: errors.New(`the answer has no "data" list of NIM detections`)}
		}
		if n != images {
			return &ValidationError{Err: fmt.Errorf("the answer has detections for %d images, the request sent %d", n, images)}
		}
	case DetectionsUltralytics:
		if detectionList(body) < 0 {
			return &ValidationError{Err: errors.New("the answer is not a list of detections")}
		}
	}
	return nil
}

// detectionList counts the detections of a plain service's answer: a
// list, bare or under "detections", "predictions" or "results"; -1 when
// there is none.
func detectionList(body []byte) int {
	v, _ := jsonscan.Lookup(body, "")
	if len(v) > 0 && v[0] == '{' {
		for _, key := range []string{"detections", "predictions", "results"} {
			if list, ok := jsonscan.Lookup(v, key); ok {
				return jsonscan.ArrayLen(list)
			}
		}
		return -1
	}
	return jsonscan.ArrayLen(v)
}

// Infer sends a request and returns its checked answer as one BYTES
// output, "response", holding the body.
func (c *imageClient) Infer(ctx context.Context, p Payload) (*kserve.InferResponse, error) {
	ip, err := imagePayloadOf(p)
	if err != nil {
		return nil, err
	}
	res, err := c.h.exchange(ctx, ip.op, ip.wire, ip.method)
	if err != nil {
		return nil, err
	}
	if res.Status < 200 || res.Status > 299 {
		return nil, imageStatusError(res.Status, res.Body)
	}
	if err := c.check(res.Body, ip.images); err != nil {
		return nil, err
	}
	return &kserve.InferResponse{Outputs: []kserve.Tensor{{Name: "response", Datatype: kserve.BYTES, Shape: []int64{1},
		Data: kserve.AppendBytesElement(nil, res.Body)}}}, nil
}

// imageCaller is one worker's hot path for an image kind.
type imageCaller struct {
	c     *imageClient
	watch transport.AbortWatch
	res   http1.Response
	body  []byte
}

func (c *imageClient) NewCaller(*Checker) Caller { return &imageCaller{c: c} }

func (ic *imageCaller) Call(ctx context.Context, p Payload) Outcome {
	ip, err := imagePayloadOf(p)
	if err != nil {
		return Outcome{Err: err}
	}
	ic.watch.Follow(ctx)
	err = ic.c.h.t.Exchange(ctx, &ic.watch, ip.op, ip.wire, ip.method, &ic.res, &ic.body)
	overLimit(err)
	out := Outcome{RequestBytes: ip.body, ResponseBytes: ic.res.Wire}
	switch {
	case err != nil:
		out.Err = err
		out.ResponseBytes = 0
	case ic.res.Status < 200 || ic.res.Status > 299:
		out.Err = imageStatusError(ic.res.Status, ic.res.Body)
	default:
		out.Err = ic.c.check(ic.res.Body, ip.images)
	}
	return out
}

func (ic *imageCaller) Close() error {
	ic.watch.Release()
	return nil
}

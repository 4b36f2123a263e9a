package protocol

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/imaging"
	"github.com/inferbench/inferbench/internal/kserve"
)

// Space says in which coordinates an Answer's boxes are.
type Space int

// The coordinates of an Answer's boxes.
const (
	// SpaceInput is the model input's pixels: a letterboxed image (a
	// KServe YOLO output).
	SpaceInput Space = iota
	// SpaceImage is the original image's pixels (Ultralytics' answers).
	SpaceImage
	// SpaceUnit is 0..1 of the original image (NIM's answers).
	SpaceUnit
)

// FingerprintHeader is the header in which the reference server's plain
// and NIM APIs send the fingerprint of each image (refserver/vision.go).
const FingerprintHeader = "X-Inferbench-Fingerprint"

// Answer is what one response says about its images, read in full to
// compare deployments (--check-outputs), never on the hot path.
type Answer struct {
	// Boxes are each image's detections in Space's coordinates; nil when
	// the answer's format is unknown (a KServe model whose outputs are
	// not YOLO-shaped, an http-json service with detections: none).
	Boxes [][]detect.Box
	Space Space
	// Fingerprints are the reference server's fingerprint of each
	// image's input tensor (kserve.Fingerprint), nil from other servers.
	Fingerprints []uint32
}

// ReadAnswer sends a prepared request and reads its answer's detections
// and fingerprints.
func ReadAnswer(ctx context.Context, c Client, p Payload) (*Answer, error) {
	if ic, ok := c.(*imageClient); ok {
		return ic.answer(ctx, p)
	}
	resp, err := c.Infer(ctx, p)
	if err != nil {
		return nil, err
	}
	a := &Answer{Space: SpaceInput}
	for i := range resp.Outputs {
		out := &resp.Outputs[i]
		if fp, ok := kserve.ReadFingerprint(out); ok && a.Fingerprints == nil {
			a.Fingerprints = []uint32{fp}
		}
		if a.Boxes == nil && detect.IsYOLO(out) {
			items := 1
			if len(out.Shape) == 3 {
				items = int(out.Shape[0])
			}
			for item := 0; item < items; item++ {
				boxes, err := detect.DecodeYOLO(out, item, detect.DefaultConfidence, detect.DefaultIoU)
				if err != nil {
					return nil, &MalformedResponseError{Err: err}
				}
				a.Boxes = append(a.Boxes, boxes)
			}
		}
	}
	return a, nil
}

// answer sends the request with net/http (headers matter here: the
// fingerprints) and parses the answer's detections in its format.
func (c *imageClient) answer(ctx context.Context, p Payload) (*Answer, error) {
	ip, err := imagePayloadOf(p)
	if err != nil {
		return nil, err
	}
	base, err := httpBase(c.h.opts.URL)
	if err != nil {
		return nil, err
	}
	body := ip.wire[len(ip.wire)-ip.body:]
	req, err := http.NewRequestWithContext(ctx, ip.method, base+ip.path, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	for _, f := range ip.fields {
		if strings.EqualFold(f.Name, "Host") {
			req.Host = f.Value
			continue
		}
		req.Header.Set(f.Name, f.Value)
	}
	client := &http.Client{Timeout: c.h.opts.Timeout}
	if client.Timeout <= 0 {
		client.Timeout = 60 * time.Second
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, int64(c.h.opts.MaxMessageSize)+1))
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, imageStatusError(res.StatusCode, data)
	}
	if err := c.check(data, ip.images); err != nil {
		return nil, err
	}
	a := &Answer{}
	if h := res.Header.Get(FingerprintHeader); h != "" {
		for _, s := range strings.Split(h, ",") {
			fp, err := strconv.ParseUint(strings.TrimSpace(s), 16, 32)
			if err != nil {
				return nil, &MalformedResponseError{Err: fmt.Errorf("%s %q: %w", FingerprintHeader, h, err)}
			}
			a.Fingerprints = append(a.Fingerprints, uint32(fp))
		}
	}
	switch c.o.Detections {
	case DetectionsNIM:
		a.Space = SpaceUnit
		if a.Boxes, err = detect.ParseNIM(data); err != nil {
			return nil, &MalformedResponseError{Err: err}
		}
	case DetectionsUltralytics:
		a.Space = SpaceImage
		boxes, err := detect.ParseHTTP(data)
		if err != nil {
			return nil, &MalformedResponseError{Err: err}
		}
		a.Boxes = [][]detect.Box{boxes}
	}
	return a, nil
}

// Unit returns the detections of the answer's i-th image in 0..1 of a
// w x h image; lb is where that image sat in the model's input (used
// for SpaceInput only). Nil when the answer has no boxes for it.
func (a *Answer) Unit(i, w, h int, lb imaging.Letterbox) []detect.Box {
	if i < 0 || i >= len(a.Boxes) {
		return nil
	}
	boxes := a.Boxes[i]
	switch a.Space {
	case SpaceInput:
		return detect.Normalize(detect.FromLetterbox(boxes, lb, w, h), w, h)
	case SpaceImage:
		return detect.Normalize(boxes, w, h)
	}
	return boxes
}

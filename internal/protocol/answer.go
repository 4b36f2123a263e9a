package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Space says in which coordinates an Answer's boxes are.
type Space = detect.Space

// The coordinates of an Answer's boxes.
const (
	SpaceInput = detect.SpaceInput // the model input's pixels (KServe YOLO outputs)
	SpaceImage = detect.SpaceImage // the original image's pixels (Ultralytics' answers)
	SpaceUnit  = detect.SpaceUnit  // 0..1 of the original image (NIM's answers)
)

// FingerprintHeader is the header in which the reference server's plain
// and NIM APIs send the fingerprint of each image (refserver/vision.go).
const FingerprintHeader = "X-Inferbench-Fingerprint"

// Answer is what one response says about its images (detect.Answer),
// read in full to compare deployments (--check-outputs), never on the hot
// path.
type Answer = detect.Answer

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
	a, err := detect.ReadOutputs(resp.Outputs)
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
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
	client := &http.Client{Timeout: c.h.opts.Timeout, Transport: &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		MaxResponseHeaderBytes: transport.MaxHeaderBytes,
	}}
	if client.Timeout <= 0 {
		client.Timeout = 60 * time.Second
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	defer client.CloseIdleConnections()
	data, err := readBody(res.Body, res.ContentLength, c.h.opts.MaxResponseSize)
	if err == nil {
		data, err = decodeBody(res, data, c.h.opts.MaxResponseSize)
	}
	if err != nil {
		overLimit(err)
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, imageStatusError(res.StatusCode, data)
	}
	if err := c.check(data, ip.images); err != nil {
		return nil, err
	}
	var fps []uint32
	if h := res.Header.Get(FingerprintHeader); h != "" {
		for _, s := range strings.Split(h, ",") {
			fp, err := strconv.ParseUint(strings.TrimSpace(s), 16, 32)
			if err != nil {
				return nil, &MalformedResponseError{Err: fmt.Errorf("%s %q: %w", FingerprintHeader, h, err)}
			}
			fps = append(fps, uint32(fp))
		}
	}
	a := &Answer{}
	switch c.o.Detections {
	case DetectionsNIM:
		a, err = detect.ReadNIM(data)
	case DetectionsUltralytics:
		a, err = detect.ReadUltralytics(data)
	}
	if err != nil {
		return nil, &MalformedResponseError{Err: err}
	}
	a.Fingerprints = fps
	return a, nil
}

// readBody reads a body of declared length (-1: unknown) in full, at most
// limit bytes: a length declared over the limit is refused before
// reading, and the buffer grows as bytes arrive, never past the limit.
func readBody(r io.Reader, length int64, limit int) ([]byte, error) {
	if length > int64(limit) {
		return nil, transport.OverResponseLimit("response body", length, int64(limit))
	}
	capMax := limit
	if length >= 0 {
		capMax = int(length)
	}
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= capMax {
				var one [1]byte
				n, err := io.ReadFull(r, one[:])
				if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
					return buf, nil
				}
				if err != nil {
					return nil, err
				}
				return nil, transport.OverResponseLimit("response body", -1, int64(limit))
			}
			buf = transport.Grow(buf, 1, capMax)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeBody decodes a body that net/http left in its Content-Encoding:
// net/http decodes gzip itself only when it asked for it, not when the
// request's headers did (-H 'Accept-Encoding: gzip'). The decoded size is
// bounded by limit too. As in the hot path (package http1), an error
// status keeps a body that does not decode.
func decodeBody(res *http.Response, data []byte, limit int) ([]byte, error) {
	coding := res.Header.Get("Content-Encoding")
	enc := compress.OfString(coding)
	if enc == compress.None || len(data) == 0 {
		return data, nil
	}
	var (
		decoded []byte
		err     error
	)
	if enc == compress.Unknown {
		err = &MalformedResponseError{Err: fmt.Errorf("a response body in Content-Encoding %q, which the client cannot decode (it decodes gzip and deflate)", transport.Clip([]byte(coding)))}
	} else {
		var d compress.Decoder
		decoded, err = d.Decode(enc, data, limit, "response body")
	}
	if err != nil {
		var le *transport.LimitError
		if res.StatusCode >= 300 && !errors.As(err, &le) {
			return data, nil
		}
		return nil, err
	}
	return decoded, nil
}

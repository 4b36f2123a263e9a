package refserver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/kserve"
)

// NIM for object detection's HTTP API (PROTOCOL.md 4.1), beside KServe's
// on the same address, for the first model with an image-shaped input:
//
//	POST /v1/infer  {"input": [{"type": "image_url",
//	                            "url": "data:image/png;base64,<B64>"}, ...]}
//	   200 {"data": [{"index": 0, "bounding_boxes": {"<label>":
//	        [{"x_min", "y_min", "x_max", "y_max", "confidence"}]}}]},
//	       corners in 0..1 of each image; header X-Inferbench-Fingerprint
//	       with each image's fingerprint, comma separated (vision.go).
//	       Several images are one execution of that batch size, within
//	       the model's max batch size if it batches.
//	   400 not image_url, not a base64 data URL, not a PNG or JPEG;
//	   413 the body is over the maximum request size; 503 a full queue
//	   or a restarting pod; 500 an injected error. Errors are Triton's
//	   {"error": "..."}.
//	GET /v1/health/live, /v1/health/ready   200 {"status": "live"|"ready"}

// nimModel is the model /v1/infer serves, nil if none takes images.
func (s *Server) nimModel() *model {
	for _, name := range s.order {
		if m := s.models[name]; m.hasImage {
			return m
		}
	}
	return nil
}

// serveNIM serves the /v1/ routes.
func (s *Server) serveNIM(w http.ResponseWriter, r *http.Request) {
	m := s.nimModel()
	if m == nil {
		writeError(w, http.StatusNotFound, "Not Found: no model with an image input serves NIM's /v1 API here")
		return
	}
	switch r.URL.Path {
	case "/v1/health/live", "/v1/health/ready":
		if !allow(w, r, http.MethodGet) {
			return
		}
		writeBody(w, http.StatusOK, "application/json", []byte(`{"status":"`+strings.TrimPrefix(r.URL.Path, "/v1/health/")+`"}`))
	case "/v1/infer":
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.serveNIMInfer(w, r, m)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

// nimRequest is the body of POST /v1/infer.
type nimRequest struct {
	Input []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"input"`
}

func (s *Server) serveNIMInfer(w http.ResponseWriter, r *http.Request, m *model) {
	answers, err := s.readNIMImages(r, m)
	if err != nil {
		var bad *plainBadRequest
		if errors.As(err, &bad) {
			writeError(w, bad.status, err.Error())
		} else {
			writeKServeError(w, err)
		}
		return
	}
	start := time.Now()
	ex, err := s.execute(r.Context(), m, len(answers), start)
	if err != nil {
		writeKServeError(w, err)
		return
	}
	outStart := time.Now()
	resp := detect.NIMResponse{Data: make([]detect.NIMImage, len(answers))}
	fps := make([]string, len(answers))
	for i, a := range answers {
		resp.Data[i] = detect.ToNIM(i, detect.Normalize(a.boxes, a.width, a.height))
		fps[i] = fmt.Sprintf("%08x", a.fp)
	}
	body, err := json.Marshal(resp)
	if err != nil {
		ex.fail(ReasonOther)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	ex.succeed(time.Since(outStart))
	w.Header().Set(PlainFingerprintHeader, strings.Join(fps, ","))
	if ex.drop {
		dropResponse(w, http.StatusOK, "application/json", body)
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// readNIMImages reads and answers the images of a /v1/infer request.
func (s *Server) readNIMImages(r *http.Request, m *model) ([]imageAnswer, error) {
	var req nimRequest
	body, err := s.decodedBody(r)
	if err != nil {
		return nil, err
	}
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &plainBadRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the server's maximum of %d bytes", s.maxBytes)}
		}
		return nil, badImage(`body is not JSON of the form {"input": [{"type": "image_url", "url": "data:image/png;base64,..."}]}: %v`, err)
	}
	if len(req.Input) == 0 {
		return nil, badImage(`"input" lists no image`)
	}
	if max := m.spec.MaxBatchSize; max > 0 && len(req.Input) > max {
		return nil, kserve.Errorf(kserve.CodeInvalidArg, "%d images exceed the max batch size %d of model '%s'", len(req.Input), max, m.spec.Name)
	}
	answers := make([]imageAnswer, len(req.Input))
	for i, in := range req.Input {
		if in.Type != "image_url" {
			return nil, badImage("input[%d]: type %q is not supported: want \"image_url\"", i, in.Type)
		}
		head, b64, ok := strings.Cut(in.URL, ",")
		if !ok || !strings.HasPrefix(head, "data:") || !strings.HasSuffix(head, ";base64") {
			return nil, badImage("input[%d]: url is not a base64 data URL (data:image/png;base64,...)", i)
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, badImage("input[%d]: url is not valid base64: %v", i, err)
		}
		a, err := m.answerImage(data)
		if err != nil {
			return nil, fmt.Errorf("input[%d]: %w", i, err)
		}
		answers[i] = a
	}
	return answers, nil
}

package refserver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// The plain HTTP API is what a PyTorch model behind FastAPI typically
// offers (PROTOCOL.md 4.3), as the field guide's base-yolo:
//
//	POST /predict (or /detect)   the image as JSON {"image": "<base64>"} (a
//	                             "data:image/...;base64," prefix is allowed),
//	                             as multipart/form-data field "file", or as
//	                             the raw body with Content-Type image/png,
//	                             image/jpeg or application/octet-stream
//	   200  a JSON array of detections in Ultralytics' shape:
//	        [{"name": "person", "class": 0, "confidence": 0.8731,
//	          "box": {"x1": 12.5, "y1": 40, "x2": 210.25, "y2": 380.75}}]
//	        header X-Inferbench-Fingerprint: the fingerprint of the image
//	        letterboxed into the model's image input, 8 hex digits; the
//	        detections derive from it (vision.go)
//	   400  not an image, bad JSON or base64, no "file" field
//	   413  body over the maximum request size
//	   503  the queue is full (uvicorn's --limit-concurrency), or the pod
//	        is restarting
//	   500  an injected model error
//	GET /health                  {"status": "ok"}
//
// Errors are FastAPI's {"detail": "..."}. The image is decoded with the
// standard library and letterboxed, as a real service would before its
// model runs; the model's cost is the emulator's.

// PlainFingerprintHeader carries the fingerprint of the image a plain
// request sent.
const PlainFingerprintHeader = "X-Inferbench-Fingerprint"

// PlainHandler serves the plain HTTP API for the server's only model.
func (s *Server) PlainHandler() http.Handler {
	mux := http.NewServeMux()
	m := s.models[s.order[0]]
	predict := func(w http.ResponseWriter, r *http.Request) { s.servePredict(w, r, m) }
	mux.HandleFunc("/predict", predict)
	mux.HandleFunc("/detect", predict)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			plainError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		writeBody(w, http.StatusOK, "application/json", []byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { plainError(w, http.StatusNotFound, "Not Found") })
	return s.compressAnswers(mux)
}

func plainError(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(map[string]string{"detail": detail})
	writeBody(w, status, "application/json", body)
}

// plainBadRequest is a request the plain API refuses with a status.
type plainBadRequest struct {
	status int
	msg    string
}

func (e *plainBadRequest) Error() string { return e.msg }

func badImage(format string, args ...any) error {
	return &plainBadRequest{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func (s *Server) servePredict(w http.ResponseWriter, r *http.Request, m *model) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plainError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	data, err := s.readImage(r)
	var answer imageAnswer
	if err == nil {
		answer, err = m.answerImage(data)
	}
	var bad *plainBadRequest
	if errors.As(err, &bad) {
		plainError(w, bad.status, bad.msg)
		return
	} else if err != nil {
		plainError(w, http.StatusBadRequest, err.Error())
		return
	}

	start := time.Now()
	ex, err := s.execute(r.Context(), m, 1, start)
	if err != nil {
		plainError(w, kserve.CodeOf(err).HTTPStatus(), err.Error())
		return
	}
	outStart := time.Now()
	body, err := json.Marshal(detect.ToUltralytics(answer.boxes))
	if err != nil {
		ex.fail(ReasonOther)
		plainError(w, http.StatusInternalServerError, err.Error())
		return
	}
	ex.succeed(time.Since(outStart))
	fp := answer.fp
	w.Header().Set(PlainFingerprintHeader, fmt.Sprintf("%08x", fp))
	if ex.drop {
		dropResponse(w, http.StatusOK, "application/json", body)
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// readImage gets the image's bytes from a JSON, multipart or raw body.
func (s *Server) readImage(r *http.Request) ([]byte, error) {
	body, err := s.decodedBody(r)
	if err != nil {
		return nil, err
	}
	tooLarge := func(err error) error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &plainBadRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the server's maximum of %d bytes", s.maxBytes)}
		}
		return badImage("reading the request body: %v", err)
	}
	ct := r.Header.Get("Content-Type")
	mediaType, params, _ := mime.ParseMediaType(ct)
	switch {
	case mediaType == "application/json":
		var req struct {
			Image *string `json:"image"`
		}
		if err := json.NewDecoder(body).Decode(&req); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, tooLarge(err)
			}
			return nil, badImage("body is not JSON of the form {\"image\": \"<base64>\"}: %v", err)
		}
		if req.Image == nil {
			return nil, badImage("JSON body has no \"image\" field: want {\"image\": \"<base64>\"}")
		}
		b64 := *req.Image
		if strings.HasPrefix(b64, "data:") {
			if _, rest, ok := strings.Cut(b64, ","); ok {
				b64 = rest
			}
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			if data, err2 := base64.RawStdEncoding.DecodeString(strings.TrimSpace(b64)); err2 == nil {
				return data, nil
			}
			return nil, badImage("\"image\" is not valid base64: %v", err)
		}
		return data, nil
	case mediaType == "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, badImage("multipart body has no \"file\" field")
			}
			if err != nil {
				return nil, tooLarge(err)
			}
			if part.FormName() != "file" {
				continue
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, tooLarge(err)
			}
			return data, nil
		}
	case strings.HasPrefix(mediaType, "image/") || mediaType == "application/octet-stream":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, tooLarge(err)
		}
		return data, nil
	}
	return nil, &plainBadRequest{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q: send application/json {\"image\": \"<base64>\"}, multipart/form-data with a \"file\" field, or the image itself", ct)}
}

// decodedBody is a request's body decoded from its Content-Encoding
// (encoding.go), bounded by the server's maximum on the wire and decoded:
// past it, reads fail with an *http.MaxBytesError. A coding it does not
// speak is refused with 415.
func (s *Server) decodedBody(r *http.Request) (io.Reader, error) {
	src, err := requestBody(r, s.maxBytes)
	if err != nil {
		var ke *kserve.Error
		if errors.As(err, &ke) && ke.Code == kserve.CodeUnsupported {
			return nil, &plainBadRequest{http.StatusUnsupportedMediaType, ke.Msg}
		}
		return nil, badImage("%v", err)
	}
	if compress.OfString(r.Header.Get("Content-Encoding")) == compress.None {
		return src, nil // bounded on the wire, which is all there is
	}
	return http.MaxBytesReader(nil, io.NopCloser(src), s.maxBytes), nil
}

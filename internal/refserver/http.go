package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/inferbench/inferbench/internal/kserve"
)

// Triton's routes (HTTPAPIServer in http_server.cc): a version is all
// digits and a model name cannot contain '/'.
var (
	serverRoute = regexp.MustCompile(`^/v2(?:/health/(live|ready))?$`)
	modelRoute  = regexp.MustCompile(`^/v2/models/([^/]+)(?:/versions/([0-9]+))?(?:/(infer|ready|config|stats))?$`)
)

// HTTPHandler serves the KServe v2 HTTP API with Triton's extensions, and
// NIM's /v1 API for a model with an image input (nim.go).
// Answers are compressed when the request's Accept-Encoding asks
// (encoding.go).
func (s *Server) HTTPHandler() http.Handler { return s.compressAnswers(http.HandlerFunc(s.serveHTTP)) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/v1/") {
		s.serveNIM(w, r)
		return
	}
	if strings.HasPrefix(path, "/v2/systemsharedmemory") && s.serveSHM(w, r) {
		return
	}
	if path == "/v2/models/stats" {
		if !allow(w, r, http.MethodGet) {
			return
		}
		s.writeStats(w, "", "")
		return
	}
	if m := serverRoute.FindStringSubmatch(path); m != nil {
		if !allow(w, r, http.MethodGet) {
			return
		}
		switch m[1] {
		case "live", "ready":
			w.WriteHeader(http.StatusOK) // Triton: 200, empty body
		default:
			writeJSON(w, http.StatusOK, s.metadata())
		}
		return
	}
	m := modelRoute.FindStringSubmatch(path)
	if m == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	name, version, action := m[1], m[2], m[3]
	if action == "infer" {
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.serveInfer(w, r, name, version)
		return
	}
	if !allow(w, r, http.MethodGet) {
		return
	}
	if action == "stats" {
		s.writeStats(w, name, version)
		return
	}
	model, err := s.lookup(name, version)
	if err != nil {
		writeKServeError(w, err)
		return
	}
	switch action {
	case "ready":
		w.WriteHeader(http.StatusOK)
	case "config":
		body, err := kserve.MarshalTritonJSON(model.config())
		if err != nil {
			writeKServeError(w, kserve.Errorf(kserve.CodeInternal, "rendering config: %v", err))
			return
		}
		writeBody(w, http.StatusOK, "application/json", body)
	default:
		writeJSON(w, http.StatusOK, model.metadata())
	}
}

func (s *Server) writeStats(w http.ResponseWriter, name, version string) {
	stats, err := s.statistics(name, version)
	if err != nil {
		writeKServeError(w, err)
		return
	}
	body, err := kserve.MarshalTritonJSON(stats)
	if err != nil {
		writeKServeError(w, kserve.Errorf(kserve.CodeInternal, "rendering statistics: %v", err))
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

func (s *Server) serveInfer(w http.ResponseWriter, r *http.Request, name, version string) {
	buf, _ := s.bodies.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer s.bodies.Put(buf)
	if err := s.readBody(buf, r); err != nil {
		writeKServeError(w, err)
		return
	}
	body := buf.Bytes()
	headerLen, err := kserve.ParseHeaderLength(r.Header.Get(kserve.HeaderContentLength), len(body))
	if err != nil {
		writeKServeError(w, err)
		return
	}
	req, err := kserve.DecodeHTTPRequest(body, headerLen)
	if err != nil {
		writeKServeError(w, err)
		return
	}
	var shmOut map[string]kserve.SharedMemoryRef
	if usesSHM(req) {
		s.shm.mu.RLock() // no region is unmapped until the answer is written
		defer s.shm.mu.RUnlock()
		if err := s.shm.readInputs(name, req); err != nil {
			writeKServeError(w, err)
			return
		}
		if shmOut, err = s.shm.outputRefs(req); err != nil {
			writeKServeError(w, err)
			return
		}
	}
	binary := req.OutputBinary
	if headerLen == 0 { // a raw binary request gets every output in binary
		binary = func(string) bool { return true }
	}
	if shmOut != nil { // an output in a region is not sent: never refused as JSON
		inBinary := binary
		binary = func(name string) bool {
			_, ok := shmOut[name]
			return ok || inBinary(name)
		}
	}
	jsonCheck := func(outputs []kserve.TensorMetadata) error {
		for _, o := range outputs {
			if !binary(o.Name) && !o.Datatype.JSONAllowed() {
				return kserve.Errorf(kserve.CodeInvalidArg, "sending %s data via JSON is not supported. Please use the binary data format for output '%s'", o.Datatype, o.Name)
			}
		}
		return nil
	}
	resp, drop, err := s.infer(r.Context(), name, version, req, jsonCheck)
	if err != nil {
		writeKServeError(w, err)
		return
	}
	if shmOut != nil {
		if err := s.shm.writeOutputs(shmOut, resp); err != nil {
			writeKServeError(w, err)
			return
		}
	}
	out, jsonLen, err := kserve.EncodeHTTPResponse(resp, binary)
	if err != nil {
		writeKServeError(w, err)
		return
	}
	contentType := "application/json"
	if jsonLen >= 0 {
		contentType = "application/octet-stream"
		w.Header().Set(kserve.HeaderContentLength, strconv.Itoa(jsonLen))
	}
	if drop {
		dropResponse(w, http.StatusOK, contentType, out)
		return
	}
	writeBody(w, http.StatusOK, contentType, out)
}

// dropResponse is the drop fault over HTTP/1.1: it writes the status line,
// the headers (with the full Content-Length) and half the body, then closes
// the connection, so the client reads an unexpected EOF mid-body.
func dropResponse(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil { // not HTTP/1.x: abort the response instead
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = h.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

// readBody reads a request body into buf, never more than the server's
// maximum (on the wire and decoded), decompressing gzip or deflate (zlib,
// or raw DEFLATE) as Triton does. The declared Content-Length is not
// trusted for the allocation: the buffer grows with what actually arrives.
func (s *Server) readBody(buf *bytes.Buffer, r *http.Request) error {
	src, err := requestBody(r, s.maxBytes)
	if err != nil {
		return err
	}
	n, err := buf.ReadFrom(io.LimitReader(src, s.maxBytes+1))
	var mb *http.MaxBytesError
	if err != nil && !errors.As(err, &mb) {
		return kserve.Errorf(kserve.CodeInvalidArg, "reading request body: %v", err)
	}
	if n > s.maxBytes || mb != nil {
		return kserve.Errorf(kserve.CodeInvalidArg, "request body exceeds the server's maximum of %d bytes (--max-request-size)", s.maxBytes)
	}
	return nil
}

// allow answers 405 unless the request uses the method.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("rendering response: %v", err))
		return
	}
	writeBody(w, status, "application/json", body)
}

// writeKServeError answers with Triton's error body and the status its
// code maps to.
func writeKServeError(w http.ResponseWriter, err error) {
	code := kserve.CodeOf(err)
	var ke *kserve.Error
	if !errors.As(err, &ke) {
		code = kserve.CodeInternal
	}
	writeError(w, code.HTTPStatus(), err.Error())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeBody(w, status, "application/json", kserve.EncodeHTTPError(msg))
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

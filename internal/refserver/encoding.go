package refserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // gRPC requests in gzip, as Triton accepts them

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Compression as Triton speaks it: request bodies in Content-Encoding
// gzip or deflate (zlib, as tritonclient sends it; raw DEFLATE accepted
// too), gRPC messages in grpc-encoding gzip or deflate (grpc-go answers in
// the request's coding), and HTTP answers in gzip or deflate when the
// request's Accept-Encoding asks. Decoding is bounded by the server's
// maximum request size, on the wire and decoded.

func init() {
	// grpc-go's registry of codings is global; deflate is not among its own.
	encoding.RegisterCompressor(&deflateCompressor{})
}

// deflateCompressor is gRPC's "deflate" coding: zlib, raw DEFLATE read too.
type deflateCompressor struct{ writers sync.Pool }

func (*deflateCompressor) Name() string { return "deflate" }

func (c *deflateCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	zw, _ := c.writers.Get().(*zlib.Writer)
	if zw == nil {
		zw = zlib.NewWriter(w)
	} else {
		zw.Reset(w)
	}
	return &pooledZlib{Writer: zw, pool: &c.writers}, nil
}

// pooledZlib returns its writer to the pool once closed.
type pooledZlib struct {
	*zlib.Writer
	pool *sync.Pool
}

func (p *pooledZlib) Close() error {
	err := p.Writer.Close()
	p.pool.Put(p.Writer)
	return err
}

func (*deflateCompressor) Decompress(r io.Reader) (io.Reader, error) {
	return inflater(r)
}

// inflater reads deflate data: zlib, or raw DEFLATE when the zlib header
// is missing.
func inflater(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(2)
	if compress.IsZlib(head) {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// requestBody is a request's body decoded from its Content-Encoding, at
// most max bytes of it on the wire (http.MaxBytesError beyond); the
// caller bounds the decoded size.
func requestBody(r *http.Request, max int64) (io.Reader, error) {
	raw := http.MaxBytesReader(nil, r.Body, max)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, kserve.Errorf(kserve.CodeInvalidArg, "request body is not valid gzip: %v", err)
		}
		return zr, nil
	case "deflate":
		zr, err := inflater(raw)
		if err != nil {
			return nil, kserve.Errorf(kserve.CodeInvalidArg, "request body is not valid deflate (zlib): %v", err)
		}
		return zr, nil
	default:
		return nil, kserve.Errorf(kserve.CodeUnsupported, "unsupported Content-Encoding '%s' (gzip and deflate are supported)", enc)
	}
}

// acceptedCoding is the coding an answer may be sent in: gzip if the
// Accept-Encoding takes it, else deflate, else none.
func acceptedCoding(accept string) compress.Encoding {
	deflate := false
	for _, item := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(item, ";")
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && v == 0 {
				continue
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			return compress.Gzip
		case "deflate":
			deflate = true
		}
	}
	if deflate {
		return compress.Deflate
	}
	return compress.None
}

// encoders pools the answers' compressors and buffers.
type encoders struct {
	gzips, zlibs, bufs sync.Pool
}

// encode compresses body in e into a pooled buffer; put gives it back.
func (p *encoders) encode(e compress.Encoding, body []byte) *bytes.Buffer {
	buf, _ := p.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	switch e {
	case compress.Gzip:
		zw, _ := p.gzips.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed)
		} else {
			zw.Reset(buf)
		}
		zw.Write(body)
		zw.Close()
		p.gzips.Put(zw)
	case compress.Deflate:
		zw, _ := p.zlibs.Get().(*zlib.Writer)
		if zw == nil {
			zw, _ = zlib.NewWriterLevel(buf, zlib.BestSpeed)
		} else {
			zw.Reset(buf)
		}
		zw.Write(body)
		zw.Close()
		p.zlibs.Put(zw)
	}
	return buf
}

// compressAnswers answers in gzip or deflate the requests whose
// Accept-Encoding asks, as Triton does: every answer with a body written
// whole (as writeBody writes them), at the fastest level. Other requests
// go through untouched.
func (s *Server) compressAnswers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := acceptedCoding(r.Header.Get("Accept-Encoding"))
		if e == compress.None {
			h.ServeHTTP(w, r)
			return
		}
		cw := &compressingWriter{ResponseWriter: w, coding: e, enc: &s.encoders}
		h.ServeHTTP(cw, r)
		cw.finish()
	})
}

// compressingWriter holds back a status whose body has a Content-Length,
// and sends the body compressed when it comes whole in one Write.
type compressingWriter struct {
	http.ResponseWriter
	coding  compress.Encoding
	enc     *encoders
	status  int
	pending bool
}

// Unwrap lets http.ResponseController reach the connection (the drop
// fault hijacks it).
func (w *compressingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *compressingWriter) WriteHeader(status int) {
	h := w.Header()
	n, err := strconv.Atoi(h.Get("Content-Length"))
	if !w.pending && status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified &&
		err == nil && n > 0 && h.Get("Content-Encoding") == "" {
		w.status, w.pending = status, true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *compressingWriter) Write(b []byte) (int, error) {
	if !w.pending {
		return w.ResponseWriter.Write(b)
	}
	w.pending = false
	h := w.Header()
	if h.Get("Content-Length") != strconv.Itoa(len(b)) { // not the whole body: as it is
		w.ResponseWriter.WriteHeader(w.status)
		return w.ResponseWriter.Write(b)
	}
	buf := w.enc.encode(w.coding, b)
	defer w.enc.bufs.Put(buf)
	h.Set("Content-Encoding", w.coding.String())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Add("Vary", "Accept-Encoding")
	w.ResponseWriter.WriteHeader(w.status)
	if _, err := w.ResponseWriter.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

// finish sends a status held back for a body that never came.
func (w *compressingWriter) finish() {
	if w.pending {
		w.pending = false
		w.ResponseWriter.WriteHeader(w.status)
	}
}

package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/inferbench/inferbench/internal/kserve"
)

// The HTTP/1.1 wire: requests are rendered once (request line, headers,
// Content-Length body), responses are parsed in place from the
// connection's read buffer into a reused body buffer.

// headerField is one header to send.
type headerField struct{ name, value string }

// appendRequestHead renders a request's line and headers, ending with the
// blank line; bodyLen < 0 sends no Content-Length (a GET).
func appendRequestHead(buf []byte, method, target string, fields []headerField, bodyLen int) []byte {
	buf = append(buf, method...)
	buf = append(buf, ' ')
	buf = append(buf, target...)
	buf = append(buf, " HTTP/1.1\r\n"...)
	for _, f := range fields {
		buf = append(buf, f.name...)
		buf = append(buf, ": "...)
		buf = append(buf, f.value...)
		buf = append(buf, "\r\n"...)
	}
	if bodyLen >= 0 {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(bodyLen), 10)
		buf = append(buf, "\r\n"...)
	}
	return append(buf, "\r\n"...)
}

// validHeader reports whether a header can be sent as is: a token for a
// name, no control characters but tab in the value.
func validHeader(name, value string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// httpResponse is a parsed response; one is reused from call to call.
type httpResponse struct {
	status int
	// close is set when the connection cannot carry another request.
	close bool
	// started is set once a byte of the response was read.
	started bool
	// inferLen is the Inference-Header-Content-Length: -1 when absent,
	// -2 when it is not a number (inferRaw keeps it, for the message).
	inferLen int
	inferRaw []byte
	// body is the body, in the caller's buffer.
	body []byte
}

// jsonLen returns the Inference-Header-Content-Length for the body, -1
// when absent, checked as kserve.ParseHeaderLength checks it.
func (r *httpResponse) jsonLen() (int, error) {
	if r.inferLen >= -1 && r.inferLen <= len(r.body) {
		return r.inferLen, nil
	}
	_, err := kserve.ParseHeaderLength(string(r.inferRaw), len(r.body))
	if err == nil {
		err = fmt.Errorf("invalid %s '%s'", kserve.HeaderContentLength, r.inferRaw)
	}
	return 0, &MalformedResponseError{Err: err}
}

// errLineTooLong is a status or header line longer than the read buffer.
var errLineTooLong = &MalformedResponseError{Err: errors.New("a response header line exceeds 8 KiB")}

// readLine reads one line without its line end; the slice is valid until
// the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errLineTooLong
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// malformed makes a MalformedResponseError.
func malformed(format string, args ...any) error {
	return &MalformedResponseError{Err: fmt.Errorf(format, args...)}
}

// readResponse reads one response to a request of method: the status
// line, the headers and the body (by Content-Length, chunked, or up to the
// close), at most limit bytes of it, into *body (grown as needed and
// reused). Interim 1xx responses are skipped.
func readResponse(br *bufio.Reader, method string, res *httpResponse, body *[]byte, limit int) error {
	res.started = false
	for {
		res.status, res.close, res.inferLen = 0, false, -1
		res.body = (*body)[:0]
		if _, err := br.Peek(1); err != nil {
			return err // nothing of a response: the server closed, or a timeout
		}
		res.started = true
		line, err := readLine(br)
		if err != nil {
			return noEOF(err)
		}
		http11, err := parseStatusLine(line, res)
		if err != nil {
			return err
		}
		res.close = !http11
		length, chunked, err := readHeaders(br, res)
		if err != nil {
			return noEOF(err)
		}
		switch {
		case res.status >= 100 && res.status < 200 && res.status != 101:
			continue // interim: the final response follows
		case method == "HEAD" || res.status == 204 || res.status == 304 || res.status < 200:
			return nil
		case chunked:
			return noEOF(readChunked(br, res, body, limit))
		case length >= 0:
			if length > int64(limit) {
				res.close = true
				return malformed("response body of %d bytes exceeds the limit of %d bytes", length, limit)
			}
			res.body = grow(body, int(length))
			_, err := io.ReadFull(br, res.body)
			return noEOF(err)
		default:
			res.close = true
			return readToClose(br, res, body, limit)
		}
	}
}

// noEOF turns an end of stream inside a response into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseStatusLine reads "HTTP/1.x NNN reason" and reports whether the
// version is 1.1 (keep-alive by default).
func parseStatusLine(line []byte, res *httpResponse) (http11 bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return false, malformed("not an HTTP/1.x status line: %q", clip(line))
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return false, malformed("not an HTTP/1.x status line: %q", clip(line))
		}
		code = code*10 + int(c-'0')
	}
	res.status = code
	return line[7] == '1', nil
}

// readHeaders reads the header lines up to the blank line, noting those
// that frame the body or matter to the protocol.
func readHeaders(br *bufio.Reader, res *httpResponse) (length int64, chunked bool, err error) {
	length = -1
	for {
		line, err := readLine(br)
		if err != nil {
			return 0, false, err
		}
		if len(line) == 0 {
			return length, chunked, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, false, malformed("malformed header line %q", clip(line))
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseDecimal(value)
			if !ok || length >= 0 && n != length {
				return 0, false, malformed("invalid Content-Length %q", clip(value))
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, false, malformed("unsupported Transfer-Encoding %q", clip(value))
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			switch {
			case hasToken(value, "close"):
				res.close = true
			case hasToken(value, "keep-alive"):
				res.close = false
			}
		case bytes.EqualFold(name, []byte(kserve.HeaderContentLength)):
			res.inferRaw = append(res.inferRaw[:0], value...)
			n, ok := parseDecimal(value)
			if !ok || n > 1<<31-1 {
				res.inferLen = -2
			} else {
				res.inferLen = int(n)
			}
		}
	}
}

// hasToken reports whether a comma-separated header value holds token,
// whatever its case.
func hasToken(value []byte, token string) bool {
	for len(value) > 0 {
		item := value
		if i := bytes.IndexByte(value, ','); i >= 0 {
			item, value = value[:i], value[i+1:]
		} else {
			value = nil
		}
		if bytes.EqualFold(bytes.Trim(item, " \t"), []byte(token)) {
			return true
		}
	}
	return false
}

// parseDecimal parses a non-negative decimal number of at most 18 digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// grow returns (*buf)[:n], reallocating only when the capacity is short.
func grow(buf *[]byte, n int) []byte {
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// readChunked reads a chunked body and its trailers.
func readChunked(br *bufio.Reader, res *httpResponse, body *[]byte, limit int) error {
	n := 0
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		size, ok := parseHex(bytes.Trim(line, " \t"))
		if !ok {
			res.close = true
			return malformed("invalid chunk size %q", clip(line))
		}
		if size == 0 {
			break
		}
		if size > int64(limit-n) {
			res.close = true
			return malformed("response body exceeds the limit of %d bytes", limit)
		}
		if cap(*body) < n+int(size) {
			grown := make([]byte, n, max(n+int(size), 2*cap(*body)))
			copy(grown, (*body)[:n])
			*body = grown
		}
		*body = (*body)[:n+int(size)]
		if _, err := io.ReadFull(br, (*body)[n:]); err != nil {
			return err
		}
		n += int(size)
		if line, err := readLine(br); err != nil || len(line) != 0 {
			res.close = true
			if err != nil {
				return err
			}
			return malformed("chunk of %d bytes not followed by a line end", size)
		}
	}
	for { // trailers
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
	}
	res.body = (*body)[:n]
	return nil
}

// parseHex parses a chunk size.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// readToClose reads a body delimited by the end of the connection.
func readToClose(br *bufio.Reader, res *httpResponse, body *[]byte, limit int) error {
	buf := bytes.NewBuffer((*body)[:0])
	n, err := buf.ReadFrom(io.LimitReader(br, int64(limit)+1))
	*body = buf.Bytes()
	res.body = *body
	if err != nil {
		return err
	}
	if n > int64(limit) {
		return malformed("response body exceeds the limit of %d bytes", limit)
	}
	return nil
}

// clip shortens a quoted piece of a response for a message.
func clip(b []byte) []byte { return b[:min(len(b), 64)] }

package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// The HTTP/1.1 wire: requests are rendered once (request line, headers,
// Content-Length body), responses are parsed in place from the
// connection's read buffer into a reused body buffer.

// AppendRequestHead renders a request's line and headers, ending with the
// blank line; bodyLen < 0 sends no Content-Length (a GET).
func AppendRequestHead(buf []byte, method, target string, fields []transport.HeaderField, bodyLen int) []byte {
	buf = append(buf, method...)
	buf = append(buf, ' ')
	buf = append(buf, target...)
	buf = append(buf, " HTTP/1.1\r\n"...)
	for _, f := range fields {
		buf = append(buf, f.Name...)
		buf = append(buf, ": "...)
		buf = append(buf, f.Value...)
		buf = append(buf, "\r\n"...)
	}
	if bodyLen >= 0 {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(bodyLen), 10)
		buf = append(buf, "\r\n"...)
	}
	return append(buf, "\r\n"...)
}

// Response is a parsed response; one is reused from call to call.
type Response struct {
	Status int
	// Body is the body: in the caller's buffer as received, or decoded
	// (Content-Encoding gzip or deflate) into the response's own buffer.
	Body []byte
	// Wire is the body's size as received, before any decoding.
	Wire int
	// Encoding is the body's Content-Encoding as received.
	Encoding compress.Encoding
	// Captured is the value of the header the transport captures
	// (Config.Capture), when HasCaptured.
	Captured    []byte
	HasCaptured bool
	// close is set when the connection cannot carry another request.
	close bool
	// started is set once a byte of the response was read.
	started bool
	dec     compress.Decoder // its buffer holds a decoded body, reused
	coding  []byte           // the Content-Encoding, when Unknown
}

// decode decodes a body received in a Content-Encoding, into the
// response's own buffer, at most limit bytes of it. A body that does not
// decode is a malformed response, but for an error status, whose body is
// then kept as received: the status says more than the coding's failure.
func (res *Response) decode(limit int) error {
	if res.Encoding == compress.None || len(res.Body) == 0 {
		return nil
	}
	var (
		body []byte
		err  error
	)
	if res.Encoding == compress.Unknown {
		err = transport.Malformed("a response body in Content-Encoding %q, which the client cannot decode (it decodes gzip and deflate)", transport.Clip(res.coding))
	} else {
		body, err = res.dec.Decode(res.Encoding, res.Body, limit, "response body")
	}
	if err != nil {
		if res.Status >= 300 && !errors.As(err, new(*transport.LimitError)) {
			return nil
		}
		return err
	}
	res.Body = body
	return nil
}

// errLineTooLong is a status or header line longer than the read buffer.
var errLineTooLong = &transport.MalformedResponseError{Err: errors.New("a response header line exceeds 8 KiB")}

// errTLS is a plain-text request answered with a TLS record.
var errTLS = &transport.TLSError{Err: errors.New("the server answered with TLS, the client spoke plain HTTP: use an https:// URL")}

// readLine reads one line without its line end; the slice is valid until
// the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, _, err := readLineN(br)
	return line, err
}

// readLineN is readLine that also says how many bytes the line took.
func readLineN(br *bufio.Reader) ([]byte, int, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, len(line), errLineTooLong
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, len(line), err
	}
	n := len(line)
	line = line[:len(line)-1]
	if k := len(line); k > 0 && line[k-1] == '\r' {
		line = line[:k-1]
	}
	return line, n, nil
}

// headerBudget is what is left of transport.MaxHeaderBytes for a
// response's header section: status lines, header lines and trailers,
// interim responses included. An endless header section ends at the
// limit, not at the call's deadline.
type headerBudget int

// line reads one line of the header section within the budget.
func (b *headerBudget) line(br *bufio.Reader) ([]byte, error) {
	line, n, err := readLineN(br)
	if *b -= headerBudget(n); *b < 0 {
		return nil, transport.OverLimit("response header section", -1, transport.MaxHeaderBytes)
	}
	return line, err
}

// readResponse reads one response to a request of method: the status
// line, the headers and the body (by Content-Length, chunked, or up to the
// close), at most limit bytes of it, into *body (grown as needed and
// reused, never past limit), and the value of the header named capture
// (if not empty) into res.Captured. Interim 1xx responses are skipped. The
// header section, interim responses and trailers included, is bounded by
// transport.MaxHeaderBytes; a Content-Length over limit is refused before
// any of the body is read.
func readResponse(br *bufio.Reader, method string, res *Response, body *[]byte, limit int, capture string) error {
	res.started = false
	budget := headerBudget(transport.MaxHeaderBytes)
	for {
		res.Status, res.close, res.HasCaptured, res.Encoding = 0, false, false, compress.None
		res.Body = (*body)[:0]
		first, err := br.Peek(1)
		if err != nil {
			return err // nothing of a response: the server closed, or a timeout
		}
		res.started = true
		if first[0] == 0x15 || first[0] == 0x16 { // not 'H': perhaps a TLS record
			if b, _ := br.Peek(2); transport.TLSRecord(b) {
				res.close = true
				return errTLS
			}
		}
		line, err := budget.line(br)
		if err != nil {
			res.close = true
			return noEOF(err)
		}
		http11, err := parseStatusLine(line, res)
		if err != nil {
			return err
		}
		res.close = !http11
		length, chunked, err := readHeaders(br, &budget, res, capture)
		if err != nil {
			res.close = true
			return noEOF(err)
		}
		switch {
		case res.Status >= 100 && res.Status < 200 && res.Status != 101:
			continue // interim: the final response follows
		case method == "HEAD" || res.Status == 204 || res.Status == 304 || res.Status < 200:
			return nil
		case chunked:
			return noEOF(readChunked(br, &budget, res, body, limit))
		case length >= 0:
			if length > int64(limit) {
				res.close = true
				return transport.OverResponseLimit("response body", length, int64(limit))
			}
			var err error
			*body, err = appendN((*body)[:0], br, int(length), int(length))
			res.Body = *body
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
func parseStatusLine(line []byte, res *Response) (http11 bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return false, transport.Malformed("not an HTTP/1.x status line: %q", transport.Clip(line))
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return false, transport.Malformed("not an HTTP/1.x status line: %q", transport.Clip(line))
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 { // three digits, but no status: what follows cannot be framed
		return false, transport.Malformed("status %03d in %q", code, transport.Clip(line))
	}
	res.Status = code
	return line[7] == '1', nil
}

// readHeaders reads the header lines up to the blank line, noting those
// that frame the body or matter to the protocol.
func readHeaders(br *bufio.Reader, budget *headerBudget, res *Response, capture string) (length int64, chunked bool, err error) {
	length = -1
	for {
		line, err := budget.line(br)
		if err != nil {
			return 0, false, err
		}
		if len(line) == 0 {
			return length, chunked, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, false, transport.Malformed("malformed header line %q", transport.Clip(line))
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := ParseDecimal(value)
			if !ok || length >= 0 && n != length {
				return 0, false, transport.Malformed("invalid Content-Length %q", transport.Clip(value))
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, false, transport.Malformed("unsupported Transfer-Encoding %q", transport.Clip(value))
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Content-Encoding")):
			if res.Encoding = compress.Of(value); res.Encoding == compress.Unknown {
				res.coding = append(res.coding[:0], value...)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			switch {
			case hasToken(value, "close"):
				res.close = true
			case hasToken(value, "keep-alive"):
				res.close = false
			}
		case capture != "" && bytes.EqualFold(name, []byte(capture)):
			res.Captured = append(res.Captured[:0], value...)
			res.HasCaptured = true
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

// ParseDecimal parses a non-negative decimal number of at most 18 digits.
func ParseDecimal(b []byte) (int64, bool) {
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

// appendN appends n bytes read from br to buf. A buffer short of room is
// grown as the bytes arrive (transport.Grow: doubling, up to capMax, at
// least len(buf)+n), not to the length announced: a server that declares
// a large body and sends little costs little.
func appendN(buf []byte, br *bufio.Reader, n, capMax int) ([]byte, error) {
	end := len(buf) + n
	if cap(buf) >= end {
		_, err := io.ReadFull(br, buf[len(buf):end])
		return buf[:end], err
	}
	for len(buf) < end {
		if len(buf) == cap(buf) {
			buf = transport.Grow(buf, 1, max(capMax, end))
		}
		k, err := br.Read(buf[len(buf):min(end, cap(buf))])
		buf = buf[:len(buf)+k]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// readChunked reads a chunked body, at most limit bytes of it, and its
// trailers (within the header budget).
func readChunked(br *bufio.Reader, budget *headerBudget, res *Response, body *[]byte, limit int) error {
	n := 0
	for {
		line, err := readLine(br)
		if err != nil {
			res.close = true
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		size, ok := parseHex(bytes.Trim(line, " \t"))
		if !ok {
			res.close = true
			return transport.Malformed("invalid chunk size %q", transport.Clip(line))
		}
		if size == 0 {
			break
		}
		if size > int64(limit-n) {
			res.close = true
			if size > int64(limit) {
				return transport.OverResponseLimit("response body chunk", size, int64(limit))
			}
			return transport.OverResponseLimit("response body", -1, int64(limit))
		}
		if *body, err = appendN((*body)[:n], br, int(size), limit); err != nil {
			res.close = true
			return err
		}
		n += int(size)
		if line, err := readLine(br); err != nil || len(line) != 0 {
			res.close = true
			if err != nil {
				return err
			}
			return transport.Malformed("chunk of %d bytes not followed by a line end", size)
		}
	}
	for { // trailers
		line, err := budget.line(br)
		if err != nil {
			res.close = true
			return err
		}
		if len(line) == 0 {
			break
		}
	}
	res.Body = (*body)[:n]
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

// readToClose reads a body delimited by the end of the connection, at
// most limit bytes of it: a body still going at the limit is refused
// without growing the buffer past it.
func readToClose(br *bufio.Reader, res *Response, body *[]byte, limit int) error {
	buf := (*body)[:0]
	defer func() {
		*body = buf
		res.Body = buf
	}()
	for {
		if len(buf) >= limit {
			if _, err := br.Peek(1); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			return transport.OverResponseLimit("response body", -1, int64(limit))
		}
		if len(buf) == cap(buf) {
			buf = transport.Grow(buf, 1, limit)
		}
		k, err := br.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

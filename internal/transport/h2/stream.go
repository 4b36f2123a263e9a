package h2

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Stream is one call's stream. A caller owns one and reuses it from call
// to call; the fields the reader sets are written under the connection's
// mu, and read by the caller once done has signalled.
type Stream struct {
	id      uint32
	done    chan struct{} // the reader signals the stream's end (buffered)
	sendWin int64

	buf         []byte // the DATA received: the length-prefixed message
	headers     bool
	httpStatus  int
	grpcStatus  int // -1 until trailers say
	grpcMessage string
	err         error // the stream ended without an answer
	limit       int   // of a message, decoded or not (the connection's)

	// A compressed answer: its grpc-encoding, as named when unknown, and
	// the decoder whose buffer holds the decoded message, reused.
	encoding compress.Encoding
	coding   string
	dec      compress.Decoder

	// An answer that is not gRPC (a proxy's error page): its content type
	// and the first bytes of its body (in buf), and the body's size.
	notGRPC     bool
	contentType string
	bodyLen     int
}

// notGRPCKeep is how much of a non-gRPC answer's body is kept, for its
// first line in the error.
const notGRPCKeep = 1 << 10

// NewStream makes a stream for a caller's calls.
func NewStream() *Stream { return &Stream{done: make(chan struct{}, 1)} }

// Err is why the stream of the last call ended without an answer, or nil.
func (s *Stream) Err() error { return s.err }

// HTTPStatus is the :status of the last call's answer.
func (s *Stream) HTTPStatus() int { return s.httpStatus }

// GRPCStatus is the grpc-status of the last call's trailers, -1 when
// there was none; GRPCMessage its grpc-message, percent-encoded.
func (s *Stream) GRPCStatus() int { return s.grpcStatus }

// GRPCMessage is the grpc-message of the last call's trailers, as sent.
func (s *Stream) GRPCMessage() string { return s.grpcMessage }

// Received is the size of the last call's answer as received: its
// message without the length prefix (compressed, if it was), or the body
// of an answer that is not gRPC.
func (s *Stream) Received() int {
	if s.notGRPC {
		return s.bodyLen
	}
	return max(len(s.buf)-PrefixLen, 0)
}

// NotGRPC reports whether the last call's answer was not gRPC: an HTTP
// status other than 200, or a content type other than application/grpc
// (an HTML page from a proxy in front of the gRPC server). Its
// ContentType and the first bytes of its Body say what it was.
func (s *Stream) NotGRPC() bool { return s.notGRPC }

// ContentType is the content type of an answer that is not gRPC ("" when
// it had none).
func (s *Stream) ContentType() string { return s.contentType }

// Body is the first bytes (up to 1 KiB) of an answer that is not gRPC.
func (s *Stream) Body() []byte {
	if !s.notGRPC {
		return nil
	}
	return s.buf
}

// reset prepares the stream for a call. A signal left by the previous
// call's end (a connection that failed under it) is drained: the stream is
// in no connection's table now, so no other can come.
func (s *Stream) reset() {
	select {
	case <-s.done:
	default:
	}
	s.id, s.sendWin = 0, 0
	s.buf = s.buf[:0]
	s.headers, s.httpStatus, s.grpcStatus, s.grpcMessage, s.err = false, 0, -1, "", nil
	s.encoding, s.coding = compress.None, ""
	s.notGRPC, s.contentType, s.bodyLen = false, "", 0
}

// onData appends a DATA payload, bounded by limit: the message's length
// prefix is checked against it as soon as it arrives, before the message
// is gathered, and the buffer grows as bytes arrive, never past the
// length the prefix declares.
func (s *Stream) onData(data []byte, limit int) error {
	if !s.headers {
		return &StreamReset{Code: protocolErrorCode, dataFirst: true}
	}
	if s.notGRPC { // a page, not a message: its first bytes are kept
		s.bodyLen += len(data)
		if keep := min(len(data), notGRPCKeep-len(s.buf)); keep > 0 {
			s.buf = append(transport.Grow(s.buf, keep, notGRPCKeep), data[:keep]...)
		}
		return nil
	}
	total := len(s.buf) + len(data)
	if total > limit+PrefixLen {
		return transport.OverResponseLimit("response message", int64(total-PrefixLen), int64(limit))
	}
	capMax := limit + PrefixLen
	if total >= PrefixLen {
		var prefix [PrefixLen]byte
		copy(prefix[copy(prefix[:], s.buf):], data)
		n := int64(binary.BigEndian.Uint32(prefix[1:]))
		if n > int64(limit) {
			return transport.OverResponseLimit("response message (by its length prefix)", n, int64(limit))
		}
		capMax = max(PrefixLen+int(n), total)
	}
	s.buf = append(transport.Grow(s.buf, len(data), capMax), data...)
	return nil
}

// onHeaders takes a header block: the response headers, or the trailers
// that end the stream. done is set when the stream is over.
func (s *Stream) onHeaders(h *incoming) (done bool, err error) {
	if !s.headers {
		s.headers = true
		s.httpStatus = h.status
		s.encoding, s.coding = h.encoding, h.coding
		if h.status != 200 || h.contentType != "" && !h.grpcContentType {
			s.notGRPC, s.contentType = true, h.contentType
		}
		if !h.endStream {
			return false, nil
		}
	} else if !h.endStream {
		return true, &StreamReset{Code: protocolErrorCode, noTrailers: true}
	}
	s.grpcStatus, s.grpcMessage = h.grpcStatus, h.grpcMessage
	return true, nil
}

// StreamReset is a stream that ended without a gRPC status: reset by the
// server, refused (RST_STREAM REFUSED_STREAM, or above a GOAWAY's last
// stream: never processed, so safe to send again), or broken.
type StreamReset struct {
	Code       uint32 // RST_STREAM's error code
	goAway     uint32 // the GOAWAY's error code, for a refusal by GOAWAY
	noTrailers bool
	dataFirst  bool
}

func (e *StreamReset) refused() bool { return e.Code == RefusedStream }

func (e *StreamReset) Error() string {
	switch {
	case e.noTrailers:
		return "the server closed the stream without sending trailers"
	case e.dataFirst:
		return "the server sent data before headers"
	case e.goAway != 0 || e.Code == RefusedStream:
		return "the server refused the stream (it was not processed)"
	}
	return fmt.Sprintf("the server reset the stream (HTTP/2 error code %d)", e.Code)
}

// errStreamIDs is a connection out of stream identifiers; a new one is made.
var errStreamIDs = &StreamReset{Code: RefusedStream}

// openErrLocked is why no stream can open on the connection now.
func (c *Conn) openErrLocked() error {
	switch {
	case c.err != nil:
		return c.err
	case c.goAway:
		return errStreamIDs // refused: the caller retries on another connection
	}
	return nil
}

// Call runs one unary call on s: the header block, the length-prefixed
// message, then the wait for the answer, bounded by timer (armed by the
// caller for the call's deadline) and ctx. A nil error means the stream
// ended: s holds the answer, or in s.err why there is none. Otherwise no
// answer will come (the deadline, the context, the connection).
func (c *Conn) Call(ctx context.Context, s *Stream, block, msg []byte, deadline time.Time, timeout time.Duration, timer *time.Timer, w *transport.AbortWatch) error {
	s.reset()
	s.limit = c.limit
	// A stream slot first, then its identifier and headers in one hold of
	// wmu: identifiers must reach the server in increasing order.
	c.mu.Lock()
	for c.openErrLocked() == nil && c.active >= c.maxStreams {
		if err := c.waitLocked(ctx, timer); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	if err := c.openErrLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.active++
	c.mu.Unlock()

	c.wmu.Lock()
	c.mu.Lock()
	if err := c.openErrLocked(); err != nil {
		c.active--
		c.broadcastLocked()
		c.mu.Unlock()
		c.unlockWriter()
		return err
	}
	s.id = c.nextID
	if c.nextID += 2; c.nextID > maxWindow-2 {
		c.goAway = true // out of identifiers: the next call opens a new connection
		c.spent.Store(true)
	}
	c.streams[s.id] = s
	s.sendWin = c.initWin
	n := c.reserveLocked(s, len(msg))
	maxFrame := c.maxFrame
	c.mu.Unlock()
	c.wbuf = appendFrameHeader(c.wbuf[:0], len(block), frameHeaders, flagEndHeaders, s.id)
	c.wbuf = append(c.wbuf, block...)
	err := c.writeData(s.id, msg[:n], n == len(msg), maxFrame, deadline, timeout, w)
	c.unlockWriter()
	if err != nil {
		c.fail(err)
		return err
	}

	// The rest of a large message, as the server's windows open.
	for sent := n; sent < len(msg); sent += n {
		c.mu.Lock()
		for n = c.reserveLocked(s, len(msg)-sent); n == 0 && c.streams[s.id] == s; n = c.reserveLocked(s, len(msg)-sent) {
			if err := c.waitLocked(ctx, timer); err != nil {
				c.mu.Unlock()
				c.abandon(s)
				return err
			}
		}
		maxFrame := c.maxFrame
		c.mu.Unlock()
		if n == 0 { // the server answered already: stop sending, close our side
			id := s.id
			c.queueControl(func(b []byte) []byte { return appendRST(b, id, Cancel) })
			break
		}
		c.wmu.Lock()
		c.wbuf = c.wbuf[:0]
		err := c.writeData(s.id, msg[sent:sent+n], sent+n == len(msg), maxFrame, deadline, timeout, w)
		c.unlockWriter()
		if err != nil {
			c.fail(err)
			return err
		}
	}

	select {
	case <-s.done:
		return nil
	case <-timer.C:
		c.abandon(s)
		return context.DeadlineExceeded
	case <-ctx.Done():
		c.abandon(s)
		return ctx.Err()
	}
}

// reserveLocked takes send window for up to want bytes of s's message.
func (c *Conn) reserveLocked(s *Stream, want int) int {
	n := int64(want)
	n = min(n, c.sendWin, s.sendWin)
	if n <= 0 {
		return 0
	}
	c.sendWin -= n
	s.sendWin -= n
	return int(n)
}

// smallWrite is the size up to which DATA is copied behind the frame
// headers and written in one piece; larger data is written from the
// caller's buffer (a vectored write), not copied.
const smallWrite = 16 << 10

// writeData writes c.wbuf (frames already rendered) and data as DATA
// frames of at most maxFrame bytes, END_STREAM on the last if end. It is
// called with wmu held.
func (c *Conn) writeData(id uint32, data []byte, end bool, maxFrame int, deadline time.Time, timeout time.Duration, w *transport.AbortWatch) error {
	if err := c.setWriteDeadline(deadline, timeout); err != nil {
		return err
	}
	if !w.Attach(c.writer) {
		return context.Canceled
	}
	defer w.Detach()
	flags := func(rest int) byte {
		if end && rest == 0 {
			return flagEndStream
		}
		return 0
	}
	if len(data) <= smallWrite {
		for len(data) > 0 || end {
			k := min(len(data), maxFrame)
			c.wbuf = appendFrameHeader(c.wbuf, k, frameData, flags(len(data)-k), id)
			c.wbuf = append(c.wbuf, data[:k]...)
			if data = data[k:]; len(data) == 0 {
				break
			}
		}
		_, err := c.nc.Write(c.wbuf)
		return err
	}
	// Frame headers first in wbuf, then the vector: header, data, header...
	frames := (len(data) + maxFrame - 1) / maxFrame
	start := len(c.wbuf)
	for i, rest := 0, len(data); i < frames; i++ {
		k := min(rest, maxFrame)
		rest -= k
		c.wbuf = appendFrameHeader(c.wbuf, k, frameData, flags(rest), id)
	}
	c.iovBuf = append(c.iovBuf[:0], c.wbuf[:start+frameHeaderLen])
	for i := 0; i < frames; i++ {
		k := min(len(data), maxFrame)
		if i > 0 {
			h := start + i*frameHeaderLen
			c.iovBuf = append(c.iovBuf, c.wbuf[h:h+frameHeaderLen])
		}
		c.iovBuf = append(c.iovBuf, data[:k])
		data = data[k:]
	}
	c.iov = c.iovBuf
	_, err := c.iov.WriteTo(c.nc)
	return err
}

// abandon gives up a stream at the deadline or on cancellation: it leaves
// the table and the server is told to stop (RST_STREAM CANCEL). If the
// reader ended it meanwhile, its signal is drained so the stream can be
// reused.
func (c *Conn) abandon(s *Stream) {
	c.mu.Lock()
	live := s.id != 0 && c.streams[s.id] == s
	if live {
		delete(c.streams, s.id)
		c.active--
		c.broadcastLocked()
		if c.goAway && c.active == 0 && c.err == nil {
			go c.Close()
		}
	}
	select {
	case <-s.done:
	default:
	}
	c.mu.Unlock()
	if live {
		id := s.id
		c.queueControl(func(b []byte) []byte { return appendRST(b, id, Cancel) })
	}
}

// Message returns the one message of a stream that ended with status OK:
// the length prefix checked and removed.
func (s *Stream) Message() ([]byte, error) {
	switch {
	case len(s.buf) == 0:
		return nil, transport.Malformed("the server answered OK without a response message")
	case len(s.buf) < PrefixLen:
		return nil, transport.Malformed("a response message of %d bytes is shorter than its prefix", len(s.buf))
	case s.buf[0] > 1:
		return nil, transport.Malformed("a response message with the flag byte %d (0: plain, 1: compressed)", s.buf[0])
	}
	n := binary.BigEndian.Uint32(s.buf[1:])
	if int64(n) != int64(len(s.buf)-PrefixLen) {
		return nil, transport.Malformed("the response holds %d bytes after a message of %d bytes", len(s.buf)-PrefixLen, n)
	}
	msg := s.buf[PrefixLen:]
	if s.buf[0] == 0 {
		return msg, nil
	}
	switch s.encoding {
	case compress.None:
		return nil, transport.Malformed("a compressed response message without a grpc-encoding")
	case compress.Unknown:
		return nil, transport.Malformed("a response message compressed in grpc-encoding %q, which the client cannot decode (it decodes gzip and deflate)", s.coding)
	}
	return s.dec.Decode(s.encoding, msg, s.limit, "response message")
}

// IsRefused reports whether a call was refused before the server
// processed it (safe to send again).
func IsRefused(err error) bool {
	r, ok := err.(*StreamReset) // as the reader and call return it, unwrapped
	return ok && r.refused()
}

package h2

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/inferbench/inferbench/internal/transport"
	"github.com/inferbench/inferbench/internal/transport/compress"
)

// Conn is one HTTP/2 connection (h2c, prior knowledge) carrying gRPC
// calls. Callers write their frames themselves, under wmu; one
// reader goroutine per connection reads every frame and hands each stream
// its headers, data and trailers. Nothing is allocated per call in steady
// state: streams belong to callers and are reused, header blocks are
// rendered once, and the HPACK decoder's dynamic table holds the headers
// a server repeats.
type Conn struct {
	nc    net.Conn
	limit int  // largest message received
	tls   bool // over TLS, not h2c

	// wmu serialises writes. Its holder also sends the control frames the
	// reader queued (ACKs, window updates), so that the reader never waits
	// for a writer.
	wmu    sync.Mutex
	wbuf   []byte
	iovBuf [][]byte
	iov    net.Buffers
	wdl    time.Time // the write deadline set on nc
	writer net.Conn  // nc, whose SetDeadline moves the write deadline only (transport.AbortWatch)

	pmu     sync.Mutex
	pending []byte // control frames queued by the reader

	mu         sync.Mutex
	streams    map[uint32]*Stream
	active     int
	nextID     uint32
	sendWin    int64       // the connection's send window
	initWin    int64       // the server's initial stream window
	maxFrame   int         // the server's SETTINGS_MAX_FRAME_SIZE
	maxStreams int         // the server's SETTINGS_MAX_CONCURRENT_STREAMS
	goAway     bool        // no new streams; streams above lastID were refused
	spent      atomic.Bool // failed or going away: set with err or goAway, read without mu
	lastID     uint32
	err        error // the connection failed: every call fails
	waiters    int
	wake       chan struct{} // closed when window or a stream slot frees, while waiters > 0

	settled    chan struct{} // closed when the server's first SETTINGS arrived, or the connection failed
	settleOnce sync.Once

	// The reader's own state.
	dec       *hpack.Decoder
	hdr       incoming
	inBlock   bool   // a header block awaits its CONTINUATION frames
	block     []byte // header block fragments being gathered
	frames    int    // frames of the block gathered so far
	recvAcked int64  // bytes received and not yet given back as window
}

// incoming is what the client reads of a header block.
type incoming struct {
	stream          uint32
	endStream       bool
	status          int    // :status
	contentType     string // as sent, "" when absent
	grpcContentType bool   // content-type is application/grpc[+...]
	grpcStatus      int    // -1 when absent
	grpcMessage     string // percent-encoded, as sent
	encoding        compress.Encoding
	coding          string // grpc-encoding, as sent
}

// maxHeaderBlock bounds a header block gathered from CONTINUATION frames.
const maxHeaderBlock = transport.MaxHeaderBytes

// maxHeaderFrames bounds the frames of one header block: a server that
// sends CONTINUATION frames without end (empty ones add no bytes) fails
// the connection, rather than holding it, and every call on it, until the
// calls' deadlines. A full block of 16 KiB frames takes 64; servers send
// one or two.
const maxHeaderFrames = 2 * maxHeaderBlock / DefaultFrameSize

// maxPendingControl bounds the control frames (PING and SETTINGS
// acknowledgements, window updates, resets) queued for a server that does
// not read them: a flood of PINGs from a server whose socket is full
// fails the connection instead of growing the queue.
const maxPendingControl = 1 << 20

// connWindowRefill is how much of the connection's receive window is used
// before it is given back in one WINDOW_UPDATE.
const connWindowRefill = 1 << 24

// newConn makes the state of a connection on nc, in HTTP/2's initial
// settings.
func newConn(nc net.Conn, limit int) *Conn {
	c := &Conn{
		nc: nc, limit: limit, streams: map[uint32]*Stream{}, nextID: 1,
		sendWin: defaultWindow, initWin: defaultWindow, maxFrame: DefaultFrameSize, maxStreams: 1 << 30,
		wake: make(chan struct{}), settled: make(chan struct{}),
	}
	c.writer = writeDeadliner{nc}
	c.dec = hpack.NewDecoder(4096, c.onField)
	c.dec.SetMaxStringLength(maxHeaderBlock)
	return c
}

// Dial opens a connection and sends the preface: no server push, the
// largest stream window (a response never waits for a window update of its
// stream) and the largest connection window. It waits for the server's
// settings, within the connect timeout and deadline. limit bounds a
// response message.
func Dial(ctx context.Context, d *transport.Dialer, deadline time.Time, limit int) (*Conn, error) {
	ctx, cancel := d.Bound(ctx, deadline)
	defer cancel()
	nc, _, err := d.Dial(ctx)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*tls.Conn); ok {
		// A server that chose another protocol than HTTP/2 is not a gRPC
		// server; one that chose none may still speak it.
		if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "h2" {
			nc.Close()
			return nil, &transport.TLSError{Addr: d.Addr, Err: fmt.Errorf("the server chose %q, not HTTP/2 (ALPN h2): not a gRPC port (an HTTPS one?)", p)}
		}
	}
	c := newConn(nc, limit)
	c.tls = d.TLS != nil
	b := append([]byte(nil), clientPreface...)
	b = appendFrameHeader(b, 12, frameSettings, 0, 0)
	b = appendSetting(b, settingEnablePush, 0)
	b = appendSetting(b, settingInitialWindowSize, maxWindow)
	b = appendFrameHeader(b, 4, frameWindowUpdate, 0, 0)
	b = binary.BigEndian.AppendUint32(b, maxWindow-defaultWindow)
	if dl, ok := ctx.Deadline(); ok {
		nc.SetWriteDeadline(dl)
	}
	if _, err := nc.Write(b); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetWriteDeadline(time.Time{})
	go c.readLoop()
	// The server's settings (its windows, frame size, stream limit) come
	// first on its side; no stream opens before them, as in grpc-go.
	select {
	case <-c.settled:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.fail(ctx.Err())
		return nil, fmt.Errorf("no HTTP/2 settings from the server: %w", ctx.Err())
	}
}

// writeDeadliner is a connection whose SetDeadline sets the write deadline
// only: an transport.AbortWatch interrupts a caller's blocked write without failing
// the reads of the other calls on the connection.
type writeDeadliner struct{ net.Conn }

func (w writeDeadliner) SetDeadline(t time.Time) error { return w.Conn.SetWriteDeadline(t) }

// Usable reports whether new calls may start on the connection.
func (c *Conn) Usable() bool { return !c.spent.Load() }

// Close closes the connection; calls in flight fail.
func (c *Conn) Close() {
	c.fail(errConnClosed)
}

// CloseWhenIdle closes the connection once its calls in flight are over.
func (c *Conn) CloseWhenIdle() {
	c.mu.Lock()
	c.goAway = true
	c.spent.Store(true)
	idle := c.active == 0
	c.mu.Unlock()
	if idle {
		c.Close()
	}
}

var errConnClosed = errors.New("the client closed the connection")

// fail marks the connection failed, fails every stream and closes the
// socket. The first error is kept.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
		c.spent.Store(true)
		c.settle()
		for _, s := range c.streams {
			c.finishLocked(s, err)
		}
		c.broadcastLocked()
	}
	c.mu.Unlock()
	c.nc.Close()
}

// settle marks the server's settings applied, or the connection failed.
func (c *Conn) settle() { c.settleOnce.Do(func() { close(c.settled) }) }

// finishLocked ends a stream: it leaves the table and its caller wakes.
func (c *Conn) finishLocked(s *Stream, err error) {
	if c.streams[s.id] != s {
		return
	}
	delete(c.streams, s.id)
	c.active--
	s.err = err
	s.done <- struct{}{}
	c.broadcastLocked()
	if c.goAway && c.active == 0 && c.err == nil {
		go c.Close() // drained after a GOAWAY (fail takes mu)
	}
}

// broadcastLocked wakes the callers waiting for window or a stream slot;
// a new channel is made only when someone waits.
func (c *Conn) broadcastLocked() {
	if c.waiters > 0 {
		close(c.wake)
		c.wake = make(chan struct{})
		c.waiters = 0
	}
}

// waitLocked waits, with c.mu held, until the next broadcast, the timer or
// ctx; it returns with c.mu held and the reason it woke.
func (c *Conn) waitLocked(ctx context.Context, timer *time.Timer) error {
	c.waiters++
	wake := c.wake
	c.mu.Unlock()
	var err error
	select {
	case <-wake:
	case <-timer.C:
		err = context.DeadlineExceeded
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.mu.Lock()
	return err
}

// queueControl queues a control frame for the writer and sends it now if
// no call is writing; the reader uses it, so that it never waits for wmu.
func (c *Conn) queueControl(frame func([]byte) []byte) {
	c.pmu.Lock()
	if len(c.pending) > maxPendingControl {
		n := len(c.pending)
		c.pmu.Unlock()
		c.fail(protocolError("%d bytes of control frames (PING and SETTINGS acknowledgements, window updates) wait for a server that does not read them, over the limit of %s", n, transport.FormatSize(maxPendingControl)))
		return
	}
	c.pending = frame(c.pending)
	c.pmu.Unlock()
	if c.wmu.TryLock() {
		c.unlockWriter()
	}
}

// unlockWriter sends the queued control frames and releases wmu; a frame
// queued after the release finds wmu free and is sent by its queuer.
func (c *Conn) unlockWriter() {
	for {
		c.pmu.Lock()
		if len(c.pending) == 0 {
			c.pmu.Unlock()
			break
		}
		c.wbuf = append(c.wbuf[:0], c.pending...)
		c.pending = c.pending[:0]
		c.pmu.Unlock()
		if _, err := c.nc.Write(c.wbuf); err != nil {
			c.wmu.Unlock()
			c.fail(err)
			return
		}
	}
	c.wmu.Unlock()
	c.pmu.Lock()
	more := len(c.pending) > 0
	c.pmu.Unlock()
	if more && c.wmu.TryLock() {
		c.unlockWriter()
	}
}

// setWriteDeadline bounds the writes of a call, which the connection's
// calls share: a write that times out fails the connection, so the
// deadline on the socket is never earlier than the call's. It is moved
// ahead by an eighth of the timeout at a time, to spare a timer update per
// call; a write blocked by a server that stopped reading fails at most
// that much after the call's deadline.
func (c *Conn) setWriteDeadline(deadline time.Time, timeout time.Duration) error {
	if deadline.After(c.wdl) {
		c.wdl = deadline.Add(timeout / 8)
		return c.nc.SetWriteDeadline(c.wdl)
	}
	return nil
}

// readBufferSize is the connection's read buffer. Frames are handled in
// place in it, so it must hold a whole frame and its header. Larger, it
// takes more frames per read system call: a server's 16 KiB DATA frames
// of the YOLO answer (2.8 MB) in some 11 reads rather than 88. Against
// the 32 KiB it was, 256 KiB took 2 to 9% less of the client's CPU per
// YOLO call (medians of two series of alternated runs, on a machine whose
// noise is ±5%: bench/README.md), at a quarter of a megabyte per
// connection.
const readBufferSize = 256 << 10

// readLoop reads every frame until the connection fails. A frame's payload
// is handled where it lies in the read buffer (Peek), valid until the
// next read of it (Discard): onFrame keeps none of it.
func (c *Conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, readBufferSize)
	if err := firstAnswer(br, c.tls); err != nil {
		c.fail(err)
		return
	}
	for {
		head, err := br.Peek(frameHeaderLen)
		if err != nil {
			c.fail(noShortEOF(err, len(head)))
			return
		}
		length := int(head[0])<<16 | int(head[1])<<8 | int(head[2])
		typ, flags := head[3], head[4]
		id := binary.BigEndian.Uint32(head[5:]) & 0x7fffffff
		if length > DefaultFrameSize {
			// The client never raises SETTINGS_MAX_FRAME_SIZE; a larger
			// frame is a FRAME_SIZE_ERROR, not a length to allocate.
			c.fail(protocolError("a frame of %d bytes exceeds the SETTINGS_MAX_FRAME_SIZE of %d bytes the client allows", length, DefaultFrameSize))
			return
		}
		frame, err := br.Peek(frameHeaderLen + length)
		if err != nil {
			c.fail(noShortEOF(err, 1))
			return
		}
		if err := c.onFrame(typ, flags, id, frame[frameHeaderLen:]); err != nil {
			c.fail(err)
			return
		}
		br.Discard(len(frame))
	}
}

// noShortEOF is the error of a read that ended inside a frame, after got
// of its bytes: io.ErrUnexpectedEOF for an end of stream, as io.ReadFull
// says.
func noShortEOF(err error, got int) error {
	if err == io.EOF && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// h2ConnError is a violation of HTTP/2 by the server.
type h2ConnError struct{ msg string }

func (e *h2ConnError) Error() string { return "HTTP/2 protocol error: " + e.msg }

// protocolError is a violation of HTTP/2 by the server, or of a limit of
// the client's: it fails the connection, and each call on it is a
// malformed response.
func protocolError(format string, args ...any) error {
	return &transport.MalformedResponseError{Err: &h2ConnError{msg: fmt.Sprintf(format, args...)}}
}

// errTLS is a plain-text connection answered with a TLS record.
var errTLS = &transport.TLSError{Err: errors.New("the server answered with TLS, the client spoke plain text (h2c): use grpcs://host:port, or --tls (tls: in a plan)")}

// errHTTP1 is a connection answered in HTTP/1.x.
var errHTTP1 = &transport.MalformedResponseError{Err: errors.New("the server answered in HTTP/1.x, not HTTP/2: not a gRPC port (an HTTP one?)")}

// closedFirst is a server that closed (or reset) the connection before a
// word: what a TLS server does with a plain-text client, or a server that
// is not HTTP/2. It wraps the cause without its net.OpError, whose
// addresses would otherwise be all a message says (transport.Error).
func closedFirst(err error, overTLS bool) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	if overTLS {
		return fmt.Errorf("no HTTP/2 settings before the server closed the connection (not a gRPC port?): %w", err)
	}
	return fmt.Errorf("no HTTP/2 settings before the server closed the connection (a TLS port? use grpcs:// or --tls): %w", err)
}

// firstAnswer looks at the first bytes the server answers with, for the
// answers that are not HTTP/2 at all: TLS, HTTP/1.x, a close without a
// word, a TLS alert (a client certificate the server wants). Anything
// else is left to the frame reader.
func firstAnswer(br *bufio.Reader, overTLS bool) error {
	b, err := br.Peek(frameHeaderLen)
	switch {
	case !overTLS && transport.TLSRecord(b):
		return errTLS
	case len(b) >= 7 && string(b[:7]) == "HTTP/1.":
		return errHTTP1
	case len(b) == 0 && err != nil && !errors.Is(err, net.ErrClosed): // not closed by the client
		if overTLS {
			if te := transport.TLSProblem("", err, false); transport.IsTLS(te) {
				return te
			}
		}
		return closedFirst(err, overTLS)
	}
	return nil
}

// unpad removes the padding of a DATA or HEADERS frame.
func unpad(flags byte, p []byte) ([]byte, error) {
	if flags&flagPadded == 0 {
		return p, nil
	}
	if len(p) < 1 || int(p[0]) >= len(p) {
		return nil, protocolError("padding longer than the frame")
	}
	return p[1 : len(p)-int(p[0])], nil
}

// onFrame handles one frame.
func (c *Conn) onFrame(typ, flags byte, id uint32, p []byte) error {
	if c.inBlock && typ != frameContinuation {
		return protocolError("frame of type %d inside a header block", typ)
	}
	switch typ {
	case frameData:
		return c.onData(flags, id, p)
	case frameHeaders:
		block, err := unpad(flags, p)
		if err != nil {
			return err
		}
		if flags&flagPriority != 0 {
			if len(block) < 5 {
				return protocolError("HEADERS too short for its priority")
			}
			block = block[5:]
		}
		c.hdr = incoming{stream: id, endStream: flags&flagEndStream != 0, grpcStatus: -1}
		return c.onHeaderFragment(flags, block)
	case frameContinuation:
		if !c.inBlock || id != c.hdr.stream {
			return protocolError("CONTINUATION of another stream")
		}
		return c.onHeaderFragment(flags, p)
	case frameRSTStream:
		if len(p) != 4 {
			return protocolError("RST_STREAM of %d bytes", len(p))
		}
		c.mu.Lock()
		if s := c.streams[id]; s != nil {
			c.finishLocked(s, &StreamReset{Code: binary.BigEndian.Uint32(p)})
		}
		c.mu.Unlock()
	case frameSettings:
		if flags&flagAck != 0 {
			return nil
		}
		if len(p)%6 != 0 {
			return protocolError("SETTINGS of %d bytes", len(p))
		}
		if err := c.onSettings(p); err != nil {
			return err
		}
		c.settle()
		c.queueControl(func(b []byte) []byte { return appendFrameHeader(b, 0, frameSettings, flagAck, 0) })
	case framePing:
		if flags&flagAck == 0 && len(p) == 8 {
			var data [8]byte
			copy(data[:], p)
			c.queueControl(func(b []byte) []byte {
				return append(appendFrameHeader(b, 8, framePing, flagAck, 0), data[:]...)
			})
		}
	case frameGoAway:
		if len(p) < 8 {
			return protocolError("GOAWAY of %d bytes", len(p))
		}
		c.onGoAway(binary.BigEndian.Uint32(p)&0x7fffffff, binary.BigEndian.Uint32(p[4:]))
	case frameWindowUpdate:
		if len(p) != 4 {
			return protocolError("WINDOW_UPDATE of %d bytes", len(p))
		}
		inc := int64(binary.BigEndian.Uint32(p) & 0x7fffffff)
		c.mu.Lock()
		if id == 0 {
			c.sendWin += inc
		} else if s := c.streams[id]; s != nil {
			s.sendWin += inc
		}
		c.broadcastLocked()
		c.mu.Unlock()
	case framePushPromise:
		return protocolError("PUSH_PROMISE, though push is disabled")
	}
	return nil // PRIORITY and unknown frame types are ignored
}

// onData hands a DATA frame to its stream and gives back window.
func (c *Conn) onData(flags byte, id uint32, p []byte) error {
	data, err := unpad(flags, p)
	if err != nil {
		return err
	}
	reset := false
	c.mu.Lock()
	if s := c.streams[id]; s != nil {
		if err := s.onData(data, c.limit); err != nil {
			c.finishLocked(s, err)
			reset = true
		} else if flags&flagEndStream != 0 {
			var err error // the end of a page that is not gRPC needs no trailers
			if !s.notGRPC {
				err = &StreamReset{Code: noError, noTrailers: true}
			}
			c.finishLocked(s, err)
		}
	}
	c.mu.Unlock()
	if reset { // the caller has its error; the server need not send the rest
		c.queueControl(func(b []byte) []byte { return appendRST(b, id, Cancel) })
	}
	if c.recvAcked += int64(len(p)); c.recvAcked >= connWindowRefill {
		n := c.recvAcked
		c.recvAcked = 0
		c.queueControl(func(b []byte) []byte { return appendWindowUpdate(b, 0, uint32(n)) })
	}
	return nil
}

// appendRST appends a RST_STREAM frame.
func appendRST(b []byte, id uint32, code uint32) []byte {
	return binary.BigEndian.AppendUint32(appendFrameHeader(b, 4, frameRSTStream, 0, id), code)
}

// appendWindowUpdate appends a WINDOW_UPDATE frame.
func appendWindowUpdate(b []byte, id uint32, inc uint32) []byte {
	return binary.BigEndian.AppendUint32(appendFrameHeader(b, 4, frameWindowUpdate, 0, id), inc)
}

// onHeaderFragment gathers a header block and decodes it when complete.
// Every block is decoded, whether its stream is still wanted or not, to
// keep the HPACK table in step with the server's.
func (c *Conn) onHeaderFragment(flags byte, fragment []byte) error {
	block := fragment
	if flags&flagEndHeaders == 0 || c.inBlock {
		if !c.inBlock {
			c.frames = 0
		}
		c.frames++
		switch {
		case len(c.block)+len(fragment) > maxHeaderBlock:
			return protocolError("a header block of more than %d bytes (CONTINUATION frames) exceeds the limit of %s", len(c.block)+len(fragment), transport.FormatSize(maxHeaderBlock))
		case c.frames > maxHeaderFrames:
			return protocolError("a header block in more than %d frames (a CONTINUATION flood) exceeds the limit of %d frames", c.frames-1, maxHeaderFrames)
		}
		if c.block == nil {
			c.block = make([]byte, 0, 4<<10)
		}
		c.block = append(transport.Grow(c.block, len(fragment), maxHeaderBlock), fragment...)
		c.inBlock = flags&flagEndHeaders == 0
		if c.inBlock {
			return nil
		}
		block = c.block
	}
	_, err := c.dec.Write(block)
	if err == nil {
		err = c.dec.Close()
	}
	c.block = c.block[:0]
	if err != nil {
		return protocolError("header block: %v", err)
	}
	c.mu.Lock()
	if s := c.streams[c.hdr.stream]; s != nil {
		if done, err := s.onHeaders(&c.hdr); done {
			c.finishLocked(s, err)
		}
	}
	c.mu.Unlock()
	return nil
}

// onField reads one decoded header field into c.hdr.
func (c *Conn) onField(f hpack.HeaderField) {
	switch f.Name {
	case ":status":
		if n, err := parseStatusCode(f.Value); err == nil {
			c.hdr.status = n
		}
	case "content-type":
		c.hdr.contentType = f.Value
		c.hdr.grpcContentType = f.Value == "application/grpc" || len(f.Value) > 17 && f.Value[:17] == "application/grpc+" || len(f.Value) > 17 && f.Value[:17] == "application/grpc;"
	case "grpc-encoding":
		c.hdr.encoding, c.hdr.coding = compress.OfString(f.Value), f.Value
	case "grpc-status":
		if n, err := parseStatusCode(f.Value); err == nil {
			c.hdr.grpcStatus = n
		}
	case "grpc-message":
		c.hdr.grpcMessage = f.Value
	}
}

// parseStatusCode parses a short decimal header value without allocating.
func parseStatusCode(v string) (int, error) {
	if len(v) == 0 || len(v) > 9 {
		return 0, errBadStatus
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, errBadStatus
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, nil
}

var errBadStatus = errors.New("not a status code")

// onSettings applies the server's settings.
func (c *Conn) onSettings(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; len(p) >= 6; p = p[6:] {
		id, v := binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[2:])
		switch id {
		case settingMaxConcurrentStreams:
			c.maxStreams = int(min(v, 1<<30))
		case settingInitialWindowSize:
			if v > maxWindow {
				return protocolError("SETTINGS_INITIAL_WINDOW_SIZE %d", v)
			}
			delta := int64(v) - c.initWin
			c.initWin = int64(v)
			for _, s := range c.streams {
				s.sendWin += delta
			}
		case settingMaxFrameSize:
			if v < DefaultFrameSize || v > maxReadFrameSize-1 {
				return protocolError("SETTINGS_MAX_FRAME_SIZE %d", v)
			}
			c.maxFrame = int(v)
		}
	}
	c.broadcastLocked()
	return nil
}

// onGoAway stops new streams and refuses those the server will not
// process, so that their callers retry them elsewhere.
func (c *Conn) onGoAway(last, code uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.goAway, c.lastID = true, last
	c.spent.Store(true)
	for id, s := range c.streams {
		if id > last {
			c.finishLocked(s, &StreamReset{Code: RefusedStream, goAway: code})
		}
	}
	c.broadcastLocked()
}

package h2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// fakeConn is a server that says its bytes and hears the client's.
type fakeConn struct {
	r       io.Reader
	mu      sync.Mutex
	written bytes.Buffer
	closed  bool
}

func (f *fakeConn) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	return f.written.Write(p)
}
func (f *fakeConn) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}
func (f *fakeConn) LocalAddr() net.Addr              { return nil }
func (f *fakeConn) RemoteAddr() net.Addr             { return nil }
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzLimit is the message limit of the fuzzed connection: small, so that
// answers over it are among the inputs.
const fuzzLimit = 1 << 10

// serverFrames renders frames the way a server would send them.
type serverFrames struct {
	buf bytes.Buffer
	fr  *http2.Framer
	enc *hpack.Encoder
	hb  bytes.Buffer
}

func newServerFrames() *serverFrames {
	s := &serverFrames{}
	s.fr = http2.NewFramer(&s.buf, nil)
	s.enc = hpack.NewEncoder(&s.hb)
	return s
}

func (s *serverFrames) block(fields ...string) []byte {
	s.hb.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		s.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(s.hb.Bytes())
}

func (s *serverFrames) headers(id uint32, end bool, fields ...string) {
	s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: s.block(fields...), EndHeaders: true, EndStream: end})
}

func grpcMsg(msg string) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
	return append(b, msg...)
}

// FuzzH2Frames feeds the frame reader of a connection with streams 1 and
// 3 open whatever a server might send. The reader must not panic, must
// end every stream exactly once (the connection fails at the end of the
// input), must keep a stream's message within the limit and allocate in
// proportion to the input, not to the lengths it declares; what it
// writes back must be well-formed frames; and the message a stream holds
// must be the DATA a frame parser (x/net/http2) finds for that stream.
func FuzzH2Frames(f *testing.F) {
	// A complete answer to stream 1, trailers and all.
	s := newServerFrames()
	s.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
	s.fr.WriteSettingsAck()
	s.headers(1, false, ":status", "200", "content-type", "application/grpc")
	s.fr.WriteData(1, false, grpcMsg("hello"))
	s.headers(1, true, "grpc-status", "0")
	f.Add(s.buf.Bytes())
	// Padding, a split header block, a ping, window updates, a message in
	// two frames, a reset of stream 3, a GOAWAY.
	s = newServerFrames()
	s.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 15})
	blk := s.block(":status", "200", "content-type", "application/grpc+proto", "x-a", "b")
	s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:3], PadLength: 4})
	s.fr.WriteContinuation(1, true, blk[3:])
	s.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	s.fr.WriteWindowUpdate(0, 1000)
	s.fr.WriteWindowUpdate(3, 1000)
	msg := grpcMsg("a longer message in two frames")
	s.fr.WriteDataPadded(1, false, msg[:7], []byte{0, 0, 0})
	s.fr.WriteData(1, false, msg[7:])
	s.fr.WriteRSTStream(3, http2.ErrCodeRefusedStream)
	s.headers(1, true, "grpc-status", "3", "grpc-message", "bad%20input")
	s.fr.WriteGoAway(1, http2.ErrCodeNo, []byte("bye"))
	f.Add(s.buf.Bytes())
	// Trailers only; an error status by HTTP; data before headers.
	s = newServerFrames()
	s.headers(3, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "14")
	s.headers(1, true, ":status", "503")
	f.Add(s.buf.Bytes())
	s = newServerFrames()
	s.fr.WriteData(1, true, grpcMsg("x"))
	f.Add(s.buf.Bytes())
	// A message over the limit; a frame that declares more than it holds.
	s = newServerFrames()
	s.headers(1, false, ":status", "200")
	s.fr.WriteData(1, false, make([]byte, 2*fuzzLimit))
	f.Add(s.buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0x0, 0x0, 0x0, 0x0, 0x0, 0x1, 'x'})
	// A header block that never ends.
	s = newServerFrames()
	s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0x88}})
	for range 4 {
		s.fr.WriteContinuation(1, false, bytes.Repeat([]byte{0x40, 0x01, 'a', 0x01, 'b'}, 100))
	}
	f.Add(s.buf.Bytes())
	// Malformed: a short RST_STREAM, a PUSH_PROMISE, a bad setting.
	f.Add([]byte{0, 0, 1, frameRSTStream, 0, 0, 0, 0, 1, 0})
	f.Add([]byte{0, 0, 4, framePushPromise, flagEndHeaders, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Add([]byte{0, 0, 6, frameSettings, 0, 0, 0, 0, 0, 0, settingMaxFrameSize, 0, 0, 0, 1})

	f.Fuzz(func(t *testing.T, in []byte) {
		fc := &fakeConn{r: bytes.NewReader(in)}
		c := newConn(fc, fuzzLimit)
		streams := []*Stream{NewStream(), NewStream()}
		for i, s := range streams {
			s.reset()
			s.id = uint32(2*i + 1)
			c.streams[s.id] = s
			c.active++
		}
		c.nextID = 5
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c.readLoop() // returns when the input ends, or at the first error
		runtime.ReadMemStats(&after)

		if c.err == nil {
			t.Fatal("the reader returned, the connection did not fail")
		}
		if cap(c.block) > 2*maxHeaderBlock {
			t.Fatalf("a header block of %d bytes gathered", cap(c.block))
		}
		if len(c.streams) != 0 || c.active != 0 {
			t.Fatalf("%d streams left in the table, %d active", len(c.streams), c.active)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+64*uint64(len(in)) {
			t.Fatalf("%d bytes allocated for %d bytes of input", alloc, len(in))
		}
		for _, s := range streams {
			if len(s.done) != 1 {
				t.Fatalf("stream %d: %d end signals", s.id, len(s.done))
			}
			if len(s.buf) > fuzzLimit+PrefixLen {
				t.Fatalf("stream %d holds %d bytes, over the limit of %d", s.id, len(s.buf), fuzzLimit)
			}
			if s.err == nil && !s.headers {
				t.Fatalf("stream %d ended without headers nor error", s.id)
			}
			if !s.headers && len(s.buf) > 0 {
				t.Fatalf("stream %d holds data without headers", s.id)
			}
			if s.err == nil && s.grpcStatus == 0 && s.httpStatus == 200 {
				if msg, err := s.Message(); err == nil && len(msg)+PrefixLen != len(s.buf) {
					t.Fatalf("stream %d: message of %d bytes in %d", s.id, len(msg), len(s.buf))
				}
			}
			want := dataAfterHeaders(in, s.id)
			if k := min(len(want), len(s.buf)); !bytes.Equal(want[:k], s.buf[:k]) {
				t.Fatalf("stream %d holds %q, the frames carry %q", s.id, s.buf, want)
			}
		}

		// What the client wrote: well-formed control frames.
		fr := http2.NewFramer(nil, bytes.NewReader(fc.written.Bytes()))
		for {
			frame, err := fr.ReadFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("the client wrote a malformed frame: %v (%x)", err, fc.written.Bytes())
			}
			switch frame := frame.(type) {
			case *http2.SettingsFrame:
				if !frame.IsAck() {
					t.Fatal("the client sent SETTINGS other than an ACK")
				}
			case *http2.PingFrame:
				if !frame.IsAck() || !bytes.Contains(in, frame.Data[:]) {
					t.Fatalf("a PING the server did not send: %x", frame.Data)
				}
			case *http2.RSTStreamFrame, *http2.WindowUpdateFrame:
			default:
				t.Fatalf("the client sent a %v", frame.Header().Type)
			}
		}
	})
}

// dataAfterHeaders is the DATA the frames of in carry for stream id after
// its first complete header block, as x/net/http2's frame parser reads
// them, up to the first frame it refuses.
func dataAfterHeaders(in []byte, id uint32) []byte {
	fr := http2.NewFramer(nil, bytes.NewReader(in))
	fr.SetMaxReadFrameSize(maxReadFrameSize - 1)
	var data []byte
	headers := false
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			return data
		}
		if frame.Header().StreamID != id {
			continue
		}
		switch frame := frame.(type) {
		case *http2.HeadersFrame:
			headers = headers || frame.HeadersEnded()
		case *http2.ContinuationFrame:
			headers = headers || frame.HeadersEnded()
		case *http2.DataFrame:
			if headers {
				data = append(data, frame.Data()...)
			}
		}
	}
}

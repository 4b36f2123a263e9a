package h2

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/inferbench/inferbench/internal/transport"
)

// The fault suite of the gRPC transport: HTTP/2 servers that send what no
// server should, on raw loopback listeners. Each test asserts the bound
// the client keeps: the bytes it allocates (read from the runtime), the
// call's end with a classified error long before its timeout, and the
// connection closed (or, for a message over the limit, the stream reset).

// hostileH2 is a server that reads the client's preface, sends its
// settings, reads frames up to the first HEADERS and hands its stream to
// serve, with a framer to write on. Meanwhile it reads the client's
// frames until the client closes the connection, which it then counts in
// closed; the streams the client resets go to resets.
type hostileH2 struct {
	addr   string
	closed chan struct{}
	resets chan uint32 // streams the client reset
}

func startHostileH2(t *testing.T, serve func(id uint32, w *http2.Framer, c net.Conn)) *hostileH2 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileH2{addr: ln.Addr().String(), closed: make(chan struct{}, 16), resets: make(chan uint32, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				preface := make([]byte, len(http2.ClientPreface))
				if _, err := io.ReadFull(c, preface); err != nil {
					return
				}
				r, w := http2.NewFramer(nil, c), http2.NewFramer(c, nil)
				if w.WriteSettings() != nil {
					return
				}
				id := uint32(0)
				for id == 0 {
					f, err := r.ReadFrame()
					if err != nil {
						return
					}
					if f, ok := f.(*http2.HeadersFrame); ok {
						id = f.StreamID
					}
				}
				done := make(chan struct{})
				go func() { // the client's frames, until it closes
					defer close(done)
					for {
						f, err := r.ReadFrame()
						if err != nil {
							h.closed <- struct{}{}
							return
						}
						if f, ok := f.(*http2.RSTStreamFrame); ok {
							h.resets <- f.StreamID
						}
					}
				}()
				serve(id, w, c)
				<-done
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return h
}

// hostileLimit is the message limit of the suite's connections.
const hostileLimit = 8 << 20

// hostileTimeout is the call timeout: far beyond the time any test takes,
// so that a call that ends did not wait for it.
const hostileTimeout = 2 * time.Minute

// callOnce dials addr and makes one call; it returns the bytes the
// process allocated meanwhile, and why the call has no answer (the call's
// error or the stream's).
func callOnce(t *testing.T, addr string) (allocated uint64, err error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	deadline := start.Add(hostileTimeout)
	d := &transport.Dialer{Addr: addr, Timeout: 10 * time.Second}
	c, err := Dial(context.Background(), d, deadline, hostileLimit)
	if err == nil {
		defer c.Close()
		s := NewStream()
		timer := time.NewTimer(hostileTimeout)
		defer timer.Stop()
		var w transport.AbortWatch
		block := AppendTimeout(HeaderBlock("/x.Y/Z", "x", nil), hostileTimeout)
		if err = c.Call(context.Background(), s, block, FrameMessage([]byte("hi")), deadline, hostileTimeout, timer, &w); err == nil {
			err = s.Err()
		}
		if err == nil {
			_, err = s.Message()
		}
		if len(s.buf) > hostileLimit+PrefixLen || cap(s.buf) > hostileLimit+PrefixLen {
			t.Errorf("a stream buffer of %d bytes (capacity %d), over the limit of %d", len(s.buf), cap(s.buf), hostileLimit)
		}
	}
	if elapsed := time.Since(start); elapsed > hostileTimeout/2 {
		t.Errorf("the call took %v: it waited for its timeout", elapsed)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// wantMalformed checks that err is a malformed response that says words.
func wantMalformed(t *testing.T, err error, words ...string) {
	t.Helper()
	if !transport.IsMalformed(err) {
		t.Fatalf("error %v, want a malformed response", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
}

func wantClosed(t *testing.T, closed chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Error("the client kept the connection open")
	}
}

// responseHeaders is the HPACK block of a 200 gRPC response.
func responseHeaders() []byte {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/grpc"})
	return hb.Bytes()
}

// TestContinuationFlood: a header block that never ends fails the
// connection at 1 MiB or 128 frames (empty CONTINUATION frames add no
// bytes), not at the call's deadline, and costs little. The frames of
// each flood are valid, so only the limits stop them.
func TestContinuationFlood(t *testing.T) {
	for name, tc := range map[string]struct {
		fragment []byte
		words    []string
	}{
		"empty frames":   {nil, []string{"more than 128 frames", "CONTINUATION flood"}},
		"1-byte frames":  {[]byte{0x88}, []string{"more than 128 frames"}},
		"16 KiB frames":  {bytes.Repeat([]byte{0x88}, DefaultFrameSize), []string{"header block of more than 1048", "exceeds the limit of 1 MiB"}},
		"max-size field": {append([]byte{0x00, 0x7f, 0x81, 0x7f}, bytes.Repeat([]byte{'a'}, DefaultFrameSize-4)...), []string{"exceeds the limit of 1 MiB"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := startHostileH2(t, func(id uint32, w *http2.Framer, _ net.Conn) {
				if w.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: responseHeaders()}) != nil {
					return
				}
				for w.WriteContinuation(id, false, tc.fragment) == nil {
				}
			})
			alloc, err := callOnce(t, h.addr)
			wantMalformed(t, err, append([]string{"HTTP/2 protocol error"}, tc.words...)...)
			if alloc > 4<<20 {
				t.Errorf("%d bytes allocated for a CONTINUATION flood", alloc)
			}
			wantClosed(t, h.closed)
		})
	}
}

// TestOversizedFrame: a frame longer than the SETTINGS_MAX_FRAME_SIZE the
// client advertised (the default, 16 KiB) fails the connection before its
// payload is read or allocated.
func TestOversizedFrame(t *testing.T) {
	for _, length := range []int{DefaultFrameSize + 1, 1<<24 - 1} {
		h := startHostileH2(t, func(id uint32, w *http2.Framer, c net.Conn) {
			if w.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: responseHeaders(), EndHeaders: true}) != nil {
				return
			}
			head := []byte{byte(length >> 16), byte(length >> 8), byte(length), frameData, 0, 0, 0, 0, byte(id)}
			if _, err := c.Write(head); err != nil {
				return
			}
			chunk := make([]byte, 64<<10)
			for sent := 0; sent < length; sent += len(chunk) {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		})
		alloc, err := callOnce(t, h.addr)
		wantMalformed(t, err, "exceeds the SETTINGS_MAX_FRAME_SIZE of 16384 bytes")
		if alloc > 1<<20 {
			t.Errorf("a frame of %d bytes: %d bytes allocated", length, alloc)
		}
		wantClosed(t, h.closed)
	}
}

// TestHugeMessages: a message whose length prefix says 2 GiB is refused
// when its prefix arrives, before anything is gathered; one whose prefix
// says the limit but whose data goes on is refused at the limit. Either
// way the stream is reset (the connection stays: the other calls on it
// are not at fault) and the buffer never grows past the limit.
func TestHugeMessages(t *testing.T) {
	for name, tc := range map[string]struct {
		prefix uint32
		alloc  uint64
		words  []string
	}{
		"2 GiB prefix":     {2 << 30, 1 << 20, []string{"response message (by its length prefix) of 2147483648 bytes exceeds the limit of 8 MiB"}},
		"4 GiB prefix":     {1<<32 - 1, 1 << 20, []string{"4294967295 bytes"}},
		"data beyond":      {hostileLimit, 2*hostileLimit + 2<<20, []string{"response message of", "exceeds the limit of 8 MiB"}},
		"prefix over by 1": {hostileLimit + 1, 1 << 20, []string{"8388609 bytes"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := startHostileH2(t, func(id uint32, w *http2.Framer, _ net.Conn) {
				if w.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: responseHeaders(), EndHeaders: true}) != nil {
					return
				}
				first := binary.BigEndian.AppendUint32([]byte{0}, tc.prefix)
				if w.WriteData(id, false, append(first, make([]byte, DefaultFrameSize-PrefixLen)...)) != nil {
					return
				}
				chunk := make([]byte, DefaultFrameSize)
				for sent := 0; sent < 4*hostileLimit; sent += len(chunk) { // more than the limit, then stop
					if w.WriteData(id, false, chunk) != nil {
						return
					}
				}
			})
			alloc, err := callOnce(t, h.addr)
			wantMalformed(t, err, tc.words...)
			var le *transport.LimitError
			if !errors.As(err, &le) {
				t.Errorf("%v is not a LimitError", err)
			}
			if alloc > tc.alloc {
				t.Errorf("%d bytes allocated, want at most %d", alloc, tc.alloc)
			}
			select {
			case <-h.resets:
			case <-time.After(30 * time.Second):
				t.Error("the client did not reset the stream")
			}
		})
	}
}

// TestNotH2Answers: a plain-text connection to a TLS port or an HTTP/1
// port fails with a message that says what answered, not "EOF".
func TestNotH2Answers(t *testing.T) {
	for name, tc := range map[string]struct {
		answer []byte
		words  string
	}{
		"TLS alert":     {[]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46}, "the server answered with TLS"},
		"TLS handshake": {[]byte{0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76}, "the server answered with TLS"},
		"HTTP/1.1":      {[]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), "answered in HTTP/1.x"},
		"a close":       {nil, "no HTTP/2 settings before the server closed the connection (a TLS port?"},
	} {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				io.ReadFull(c, make([]byte, len(http2.ClientPreface)))
				c.Write(tc.answer)
			}()
			d := &transport.Dialer{Addr: ln.Addr().String(), Timeout: 10 * time.Second}
			c, err := Dial(context.Background(), d, time.Now().Add(time.Minute), hostileLimit)
			if err == nil {
				c.Close()
				t.Fatal("dialled")
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Errorf("%q does not say %q", err, tc.words)
			}
		})
	}
}

package protocol_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
	classes "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// The gRPC transport against servers other than grpc-go: Go's own HTTP/2
// server (h2c) running handlers that speak gRPC by hand, and a raw HTTP/2
// peer for what no server library does on demand (GOAWAY, a dropped
// connection).

// h2cServer serves handler over HTTP/2 without TLS on loopback.
func h2cServer(t *testing.T, handler http.HandlerFunc, conf *http.HTTP2Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: handler, Protocols: &protocols, HTTP2: conf}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// inferHandler answers ModelInfer like a Triton model whose outputs are
// the metadata's, zero-filled, after before(w, r) (which may answer
// instead and return false).
func inferHandler(t *testing.T, md *kserve.ModelMetadata, before func(w http.ResponseWriter, r *http.Request) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pb.GRPCInferenceService_ModelInfer_FullMethodName || r.Header.Get("Content-Type") != "application/grpc" || r.Header.Get("Grpc-Timeout") == "" {
			http.Error(w, "not a ModelInfer call", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || len(body) < 5 || int(binary.BigEndian.Uint32(body[1:])) != len(body)-5 {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		var req pb.ModelInferRequest
		if err := proto.Unmarshal(body[5:], &req); err != nil {
			http.Error(w, "bad proto", http.StatusBadRequest)
			return
		}
		if before != nil && !before(w, r) {
			return
		}
		resp := &kserve.InferResponse{ModelName: req.GetModelName(), ID: req.GetId()}
		for _, o := range md.Outputs {
			n, _ := kserve.ByteSize(o.Datatype, o.Shape)
			resp.Outputs = append(resp.Outputs, kserve.Tensor{Name: o.Name, Datatype: o.Datatype, Shape: o.Shape, Data: make([]byte, n)})
		}
		msg, err := proto.Marshal(kserve.ResponseToProto(resp))
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		w.WriteHeader(http.StatusOK)
		prefix := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
		w.Write(append(prefix, msg...))
		w.Header().Set("Grpc-Status", "0")
		w.Header().Set("Grpc-Message", "")
	}
}

// grpcCallerFor makes a gRPC client and caller for md's model at addr.
func grpcCallerFor(t *testing.T, addr string, md *kserve.ModelMetadata, opts protocol.Options) (protocol.Client, protocol.Caller, protocol.Payload) {
	t.Helper()
	opts.Kind, opts.URL = protocol.KServeGRPC, addr
	c, err := protocol.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ins, err := inputs.Random(md.Inputs, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Prepare(md.Name, "", &kserve.InferRequest{Inputs: ins})
	if err != nil {
		t.Fatal(err)
	}
	caller := c.NewCaller(protocol.NewChecker(md, nil))
	t.Cleanup(func() { caller.Close() })
	return c, caller, p
}

var yoloMetadata = &kserve.ModelMetadata{
	Name:    "yolo",
	Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}}},
	Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 8400}}},
}

// TestGRPCAgainstGoHTTP2: calls, large ones through small flow-control
// windows, and every failure a server can answer with, against Go's
// HTTP/2 server.
func TestGRPCAgainstGoHTTP2(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	cancelled := make(chan struct{}, 10)
	before := func(w http.ResponseWriter, r *http.Request) bool {
		switch mode.Load() {
		case "trailers-only":
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", fmt.Sprint(int(codes.ResourceExhausted)))
			w.Header().Set("Grpc-Message", "queue%20full")
			w.WriteHeader(http.StatusOK)
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "reset":
			panic(http.ErrAbortHandler)
		case "no trailers":
			w.Header().Set("Content-Type", "application/grpc")
			w.Write([]byte{0, 0, 0, 0, 0})
		case "slow":
			select {
			case <-r.Context().Done():
				cancelled <- struct{}{}
			case <-time.After(5 * time.Second):
			}
		default:
			return true
		}
		return false
	}
	conf := &http.HTTP2Config{MaxReceiveBufferPerStream: 32 << 10, MaxReceiveBufferPerConnection: 64 << 10, MaxReadFrameSize: 1 << 20}
	tiny := *tinyMetadata
	addr := h2cServer(t, func(w http.ResponseWriter, r *http.Request) {
		md := &tiny
		if r.Header.Get("X-Model") == "yolo" {
			md = yoloMetadata
		}
		inferHandler(t, md, before)(w, r)
	}, conf)

	_, yoloCaller, yoloP := grpcCallerFor(t, addr, yoloMetadata, protocol.Options{Headers: map[string]string{"X-Model": "yolo"}})
	for i := range 3 {
		if out := yoloCaller.Call(context.Background(), yoloP); out.Err != nil || out.ResponseBytes < 2822400 {
			t.Fatalf("YOLO call %d through 32 KiB windows: %+v", i, out)
		}
	}

	_, caller, p := grpcCallerFor(t, addr, &tiny, protocol.Options{Timeout: 200 * time.Millisecond})
	for _, tc := range []struct {
		mode  string
		class string
		code  codes.Code
		msg   string
	}{
		{"ok", "ok", codes.OK, ""},
		{"trailers-only", classes.ClassGRPCStatus, codes.ResourceExhausted, "queue full"},
		{"503", classes.ClassHTTPStatus, codes.OK, "HTTP 503 from a proxy in front of the gRPC server: Service Unavailable"},
		{"reset", classes.ClassGRPCStatus, codes.Internal, "reset the stream"},
		{"no trailers", classes.ClassGRPCStatus, codes.Internal, "without"},
		{"slow", classes.ClassTimeout, codes.OK, "within 200ms"},
		{"ok", "ok", codes.OK, ""},
	} {
		mode.Store(tc.mode)
		out := caller.Call(context.Background(), p)
		if got := classOf(out.Err); got != tc.class {
			t.Errorf("%s: class %s (%v), want %s", tc.mode, got, out.Err, tc.class)
			continue
		}
		if se, ok := protocol.IsServerError(out.Err); tc.code != codes.OK && (!ok || se.GRPCCode != tc.code) {
			t.Errorf("%s: %v, want code %v", tc.mode, out.Err, tc.code)
		}
		if out.Err != nil && !bytes.Contains([]byte(out.Err.Error()), []byte(tc.msg)) {
			t.Errorf("%s: %q does not say %q", tc.mode, out.Err, tc.msg)
		}
	}
	select {
	case <-cancelled: // the abandoned stream was reset: the handler saw its context end
	case <-time.After(2 * time.Second):
		t.Errorf("the server did not see the timed-out call cancelled")
	}

	// A response beyond the message limit.
	mode.Store("ok")
	_, small, p := grpcCallerFor(t, addr, &tiny, protocol.Options{MaxResponseSize: 40})
	if out := small.Call(context.Background(), p); classOf(out.Err) != classes.ClassMalformed {
		t.Errorf("a response over the limit: %v", out.Err)
	}
	// Cancellation of the caller's context.
	mode.Store("slow")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if out := caller.Call(ctx, p); !errors.Is(out.Err, context.Canceled) {
		t.Errorf("cancelled call: %v", out.Err)
	}
}

// refserverTiny is the tiny model (x FP32 [4] -> y FP32 [8]) on 4
// instances of service time s.
func refserverTiny(name string, s time.Duration) refserver.ModelSpec {
	return refserver.ModelSpec{Name: name, Emulator: refserver.NewInstances(4, s),
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}}}
}

// rawH2 is a minimal HTTP/2 server for the transport's edge cases: serve
// gets each connection's framer after the preface and settings exchange.
func rawH2(t *testing.T, serve func(n int, fr *http2.Framer, conn net.Conn)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var count atomic.Int64
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(count.Add(1))
			go func() {
				defer c.Close()
				preface := make([]byte, len(http2.ClientPreface))
				if _, err := io.ReadFull(c, preface); err != nil {
					return
				}
				fr := http2.NewFramer(c, c)
				if fr.WriteSettings() != nil {
					return
				}
				serve(n, fr, c)
			}()
		}
	}()
	return ln.Addr().String(), &count
}

// readUntilHeaders reads frames (acknowledging settings) until a HEADERS
// frame, and returns its stream.
func readUntilHeaders(fr *http2.Framer) (uint32, error) {
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return 0, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			return f.StreamID, nil
		}
	}
}

// answerTiny answers a stream as the tiny model would.
func answerTiny(fr *http2.Framer, id uint32) error {
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/grpc"})
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
		return err
	}
	msg, _ := proto.Marshal(kserve.ResponseToProto(&kserve.InferResponse{Outputs: []kserve.Tensor{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}, Data: make([]byte, 32)}}}))
	if err := fr.WriteData(id, false, append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg))), msg...)); err != nil {
		return err
	}
	hb.Reset()
	enc.WriteField(hpack.HeaderField{Name: "grpc-status", Value: "0"})
	return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true, EndStream: true})
}

// TestGRPCGoAwayIsRetried: a server going away before it processed a call
// refuses it; the call is sent again on a new connection and counts once.
func TestGRPCGoAwayIsRetried(t *testing.T) {
	addr, conns := rawH2(t, func(n int, fr *http2.Framer, _ net.Conn) {
		id, err := readUntilHeaders(fr)
		if err != nil {
			return
		}
		if n == 1 {
			fr.WriteGoAway(0, http2.ErrCodeNo, nil) // stream id not processed
			time.Sleep(100 * time.Millisecond)
			return
		}
		answerTiny(fr, id)
		readUntilHeaders(fr) // until the client goes
	})
	_, caller, p := grpcCallerFor(t, addr, tinyMetadata, protocol.Options{})
	if out := caller.Call(context.Background(), p); out.Err != nil {
		t.Fatalf("after a GOAWAY: %v", out.Err)
	}
	if got := conns.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

// TestGRPCDroppedConnection: a connection lost mid-call is a connection
// failure, not retried; the next call opens a new connection.
func TestGRPCDroppedConnection(t *testing.T) {
	addr, conns := rawH2(t, func(n int, fr *http2.Framer, c net.Conn) {
		id, err := readUntilHeaders(fr)
		if err != nil {
			return
		}
		if n == 1 {
			return // drop it
		}
		answerTiny(fr, id)
		readUntilHeaders(fr)
	})
	_, caller, p := grpcCallerFor(t, addr, tinyMetadata, protocol.Options{})
	if out := caller.Call(context.Background(), p); classOf(out.Err) != classes.ClassConnectionReset {
		t.Errorf("dropped: %v (%s), want connection_reset", out.Err, classOf(out.Err))
	}
	if out := caller.Call(context.Background(), p); out.Err != nil {
		t.Errorf("after the drop: %v", out.Err)
	}
	if got := conns.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

// TestGRPCRefusedAndMetadata: a closed port is a refused connection; bad
// metadata is refused by New.
func TestGRPCRefusedAndMetadata(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, caller, p := grpcCallerFor(t, addr, tinyMetadata, protocol.Options{})
	if out := caller.Call(context.Background(), p); classOf(out.Err) != classes.ClassConnectionRefused {
		t.Errorf("closed port: %v (%s)", out.Err, classOf(out.Err))
	}
	for _, md := range []map[string]string{{"grpc-timeout": "1S"}, {":path": "/x"}, {"x": "a\nb"}} {
		if _, err := protocol.New(protocol.Options{Kind: protocol.KServeGRPC, URL: addr, Headers: md}); err == nil {
			t.Errorf("metadata %q accepted", md)
		}
	}
}

// TestGRPCServerGoingAway: the reference server (grpc-go) shut down under
// load: calls in flight finish or fail as connection failures, later ones
// are refused; none hangs, none is counted as something else.
func TestGRPCServerGoingAway(t *testing.T) {
	r := serve(t, refserverTiny("m", 5*time.Millisecond))
	c, _, p := grpcCallerFor(t, r.GRPCAddr, tinyMetadata, protocol.Options{Timeout: 2 * time.Second})
	// The workers call until 300 ms after the shutdown has returned (when
	// every new call must be refused), however long a busy machine makes
	// it take; 20 s bounds the test if it never returns.
	var stopAt atomic.Int64
	stopAt.Store(time.Now().Add(20 * time.Second).UnixNano())
	time.AfterFunc(200*time.Millisecond, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Shutdown(ctx)
		stopAt.Store(time.Now().Add(300 * time.Millisecond).UnixNano())
	})
	classesSeen := make(chan map[string]int, 4)
	for range 4 {
		go func() {
			seen := map[string]int{}
			caller := c.NewCaller(protocol.NewChecker(tinyMetadata, nil))
			defer caller.Close()
			for time.Now().UnixNano() < stopAt.Load() {
				seen[classOf(caller.Call(context.Background(), p).Err)]++
			}
			classesSeen <- seen
		}()
	}
	total := map[string]int{}
	for range 4 {
		for k, v := range <-classesSeen {
			total[k] += v
		}
	}
	t.Logf("outcomes: %v", total)
	for class := range total {
		switch class {
		case "ok", classes.ClassConnectionRefused, classes.ClassConnectionReset:
		default:
			t.Errorf("%d calls ended as %s", total[class], class)
		}
	}
	if total["ok"] == 0 || total[classes.ClassConnectionRefused] == 0 {
		t.Errorf("outcomes %v: want successes, then refused connections", total)
	}
}

package protocol_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
)

// The physical limit: the YOLO request's and answer's bytes over loopback
// TCP with nothing else, the peer in a child process (as the benchmark
// server) so that the CPU measured is one end's. A call writes the
// prepared 4.9 MB body in one write and reads the 2.8 MB answer into a
// reused buffer; the peer reads the body into a reused buffer and writes
// a prepared answer.
const (
	loopbackPeerEnv  = "INFERBENCH_LOOPBACK_PEER"
	yoloRequestSize  = 1 * 3 * 640 * 640 * 4 // images FP32 [1,3,640,640]
	yoloResponseSize = 1 * 84 * 8400 * 4     // output0 FP32 [1,84,8400]
)

// runLoopbackPeer serves the raw exchange on loopback until stdin closes.
func runLoopbackPeer() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		ln.Close()
	}()
	answer := make([]byte, yoloResponseSize)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer conn.Close()
			body := make([]byte, yoloRequestSize)
			for {
				if _, err := io.ReadFull(conn, body); err != nil {
					return
				}
				if _, err := conn.Write(answer); err != nil {
					return
				}
			}
		}()
	}
}

// startLoopbackPeer starts the child peer and returns its address.
func startLoopbackPeer(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loopbackPeerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("loopback peer: %v", err)
	}
	return strings.TrimSpace(line)
}

// reportBandwidth adds the payload bytes per CPU second of this process
// (GB/s per core) to the benchmark's output.
func reportBandwidth(b *testing.B, start, bytesPerOp float64) {
	cpu := float64(cpuTime()) - start
	b.ReportMetric(float64(b.N)*bytesPerOp/cpu, "GB/s-per-core") // bytes per ns = GB/s
}

// BenchmarkLoopbackCeiling is the physical limit of one end: the YOLO
// tensors' bytes (4.9 MB out, 2.8 MB in) over loopback TCP with nothing
// else, in GB/s of payload per CPU second; BenchmarkYOLOPayload is
// inferbench's hot path on the same bytes, to be read as a fraction of it.
func BenchmarkLoopbackCeiling(b *testing.B) {
	conn, err := net.Dial("tcp", startLoopbackPeer(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	body, answer := make([]byte, yoloRequestSize), make([]byte, yoloResponseSize)
	call := func() {
		if _, err := conn.Write(body); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, answer); err != nil {
			b.Fatal(err)
		}
	}
	for range 5 {
		call()
	}
	start := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		call()
	}
	reportCPU(b, start)
	reportBandwidth(b, float64(start), yoloRequestSize+yoloResponseSize)
}

// BenchmarkYOLOPayload is one worker's call on the YOLO model over binary
// HTTP and gRPC (and, on Linux, with system shared memory, where the
// tensors do not travel), in the ceiling's unit: payload bytes per CPU
// second.
func BenchmarkYOLOPayload(b *testing.B) {
	type variant struct {
		name string
		kind protocol.Kind
		opts protocol.Options
	}
	variants := []variant{{"kserve-http", protocol.KServeHTTP, protocol.Options{}}, {"kserve-grpc", protocol.KServeGRPC, protocol.Options{}}}
	if _, err := os.Stat("/dev/shm"); err == nil {
		variants = append(variants, variant{"kserve-http/shm", protocol.KServeHTTP, protocol.Options{SharedMemory: protocol.SharedMemorySystem, MaxConns: 1}},
			variant{"kserve-grpc/shm", protocol.KServeGRPC, protocol.Options{SharedMemory: protocol.SharedMemorySystem, MaxConns: 1}})
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			c, p, md := benchClient(b, v.kind, "yolo", v.opts)
			caller := c.NewCaller(protocol.NewChecker(md, nil))
			defer caller.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range 5 {
				if out := caller.Call(ctx, p); out.Err != nil {
					b.Fatal(out.Err)
				}
			}
			start := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				if out := caller.Call(ctx, p); out.Err != nil {
					b.Fatal(out.Err)
				}
			}
			reportCPU(b, start)
			reportBandwidth(b, float64(start), yoloRequestSize+yoloResponseSize)
		})
	}
}

// Command hostile measures the client's memory against hostile servers:
// it starts one on loopback, in this process, and runs c workers of
// inferbench's protocol callers against it for a while, sampling the Go
// runtime's memory and reporting the peaks with the process's peak RSS
// (VmHWM). The servers write from one reused buffer, so what grows is the
// client.
//
//	go run ./bench/hostile -server endless-chunked -c 8 -d 10s
//	go run ./bench/hostile -server continuation -c 8 -d 10s
//	go run ./bench/hostile -server endless-close -c 8 -max-response-size 16777216
//
// Servers: endless-chunked and endless-close (an HTTP/1.1 answer whose
// body never ends: chunked, or delimited by the close), huge-length (a
// Content-Length of 10 GB, then endless bytes), continuation and
// continuation-empty (gRPC: a header block of 16 KiB CONTINUATION
// frames, or empty ones, without end), grpc-prefix (gRPC: a message
// whose length prefix says 2 GiB, then endless data).
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
)

func main() {
	server := flag.String("server", "endless-chunked", "endless-chunked|endless-close|huge-length|continuation|continuation-empty|grpc-prefix")
	c := flag.Int("c", 8, "workers")
	d := flag.Duration("d", 10*time.Second, "how long the workers call")
	limit := flag.Int("max-response-size", 0, "the clients' response limit in bytes (0: the default)")
	abortRSS := flag.Int64("abort-rss-mb", 12<<10, "stop at once when the resident set exceeds this (MB): the machine is shared")
	flag.Parse()
	if err := run(*server, *c, *d, *limit, *abortRSS); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func run(server string, c int, d time.Duration, limit int, abortRSS int64) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	kind := protocol.KServeHTTPJSON
	url := "http://" + ln.Addr().String()
	switch server {
	case "endless-chunked":
		go serveHTTP(ln, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true)
	case "endless-close":
		go serveHTTP(ln, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false)
	case "huge-length":
		go serveHTTP(ln, "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n", false)
	case "continuation", "continuation-empty", "grpc-prefix":
		kind, url = protocol.KServeGRPC, ln.Addr().String()
		go serveH2(ln, server)
	default:
		return fmt.Errorf("unknown server %q", server)
	}
	client, err := protocol.New(protocol.Options{Kind: kind, URL: url, Timeout: 10 * time.Second, MaxResponseSize: limit})
	if err != nil {
		return err
	}
	defer client.Close()
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := client.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		return err
	}

	var (
		calls    atomic.Int64
		mu       sync.Mutex
		errs     = map[string]int{}
		examples = map[string]string{}
		peak     runtime.MemStats
		wg       sync.WaitGroup
	)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the sampler
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak.HeapInuse = max(peak.HeapInuse, m.HeapInuse)
			peak.HeapSys = max(peak.HeapSys, m.HeapSys)
			peak.Sys = max(peak.Sys, m.Sys)
			if rss := statusKB("VmRSS") / 1024; rss > abortRSS {
				fmt.Printf("ABORTED: resident set %d MB over %d MB\n", rss, abortRSS)
				report(server, c, d, calls.Load(), errs, examples, &peak)
				os.Exit(2)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			caller := client.NewCaller(nil)
			defer caller.Close()
			for ctx.Err() == nil && time.Since(start) < d {
				out := caller.Call(ctx, p)
				calls.Add(1)
				if out.Err != nil && ctx.Err() == nil && time.Since(start) < d { // not the run's end
					class, msg := protocol.Classify(out.Err)
					mu.Lock()
					errs[class]++
					examples[class] = msg
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	report(server, c, elapsed, calls.Load(), errs, examples, &peak)
	return nil
}

func report(server string, c int, d time.Duration, calls int64, errs map[string]int, examples map[string]string, peak *runtime.MemStats) {
	const mb = 1 << 20
	fmt.Printf("server %s, c=%d, %.1f s, %d calls\n", server, c, d.Seconds(), calls)
	classes := make([]string, 0, len(errs))
	for k := range errs {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	for _, k := range classes {
		ex := examples[k]
		if len(ex) > 160 {
			ex = ex[:160] + "..."
		}
		fmt.Printf("  %d %s, e.g. %s\n", errs[k], k, ex)
	}
	fmt.Printf("peak HeapInuse %.1f MB, HeapSys %.1f MB, Sys %.1f MB; peak RSS (VmHWM) %.1f MB\n",
		float64(peak.HeapInuse)/mb, float64(peak.HeapSys)/mb, float64(peak.Sys)/mb, float64(statusKB("VmHWM"))/1024)
}

// statusKB reads a field of /proc/self/status in kB (0 elsewhere).
func statusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// serveHTTP answers every request with head, then a body without end.
func serveHTTP(ln net.Listener, head string, chunked bool) {
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	if chunked {
		chunk = append(append([]byte("10000\r\n"), chunk...), "\r\n"...)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				if _, err := io.WriteString(c, head); err != nil {
					return
				}
				for {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}
		}()
	}
}

// serveH2 answers every gRPC call with what the server mode says.
func serveH2(ln net.Listener, mode string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := io.ReadFull(c, make([]byte, len(http2.ClientPreface))); err != nil {
				return
			}
			r, w := http2.NewFramer(nil, c), http2.NewFramer(c, nil)
			if w.WriteSettings() != nil {
				return
			}
			var wmu sync.Mutex
			for {
				f, err := r.ReadFrame()
				if err != nil {
					return
				}
				h, ok := f.(*http2.HeadersFrame)
				if !ok {
					continue
				}
				go func(id uint32) {
					wmu.Lock() // one stream's flood at a time: frames must not interleave
					defer wmu.Unlock()
					hostileStream(w, id, mode)
				}(h.StreamID)
			}
		}()
	}
}

// hostileStream floods one stream, until a write fails or 1 GiB went.
func hostileStream(w *http2.Framer, id uint32, mode string) {
	const budget = 1 << 30
	status := []byte{0x88} // :status 200
	switch mode {
	case "continuation", "continuation-empty":
		if w.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: status}) != nil {
			return
		}
		fragment := make([]byte, 16<<10)
		for i := range fragment {
			fragment[i] = 0x88
		}
		if mode == "continuation-empty" {
			fragment = nil
		}
		for sent := 0; sent < budget; sent += len(fragment) + 9 {
			if w.WriteContinuation(id, false, fragment) != nil {
				return
			}
		}
	case "grpc-prefix":
		if w.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: status, EndHeaders: true}) != nil {
			return
		}
		first := binary.BigEndian.AppendUint32([]byte{0}, 2<<30)
		if w.WriteData(id, false, append(first, make([]byte, 16<<10-5)...)) != nil {
			return
		}
		data := make([]byte, 16<<10)
		for sent := 0; sent < budget; sent += len(data) {
			if w.WriteData(id, false, data) != nil {
				return
			}
		}
	}
}

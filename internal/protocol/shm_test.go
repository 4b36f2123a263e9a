//go:build linux

package protocol_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// ours lists the objects of this process in /dev/shm.
func ours(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), protocol.SHMPrefix()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// shmStatus is the server's list of registered regions.
func shmStatus(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/v2/systemsharedmemory/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return strings.TrimSpace(b.String())
}

// TestSharedMemoryYOLO: with system shared memory, over every KServe kind
// and both gRPC transports,
// the outputs are those the binary wire gives for the same inputs, calls
// from concurrent callers pass the checker, requests carry no tensor data,
// and nothing of ours is left in /dev/shm or registered at the server.
func TestSharedMemoryYOLO(t *testing.T) {
	r := serve(t, yolo("yolov8n", refserver.NewInstances(8, 0)))
	ctx := context.Background()
	plain, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + r.HTTPAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	md, err := plain.ModelMetadata(ctx, "yolov8n", "")
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := inputs.Random(md.Inputs, 7)
	pp, err := plain.Prepare("yolov8n", "", &kserve.InferRequest{Inputs: ins})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Infer(ctx, pp)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind      protocol.Kind
		transport string
	}{{protocol.KServeHTTP, ""}, {protocol.KServeHTTPJSON, ""}, {protocol.KServeGRPC, protocol.GRPCTransportFast}, {protocol.KServeGRPC, protocol.GRPCTransportGo}} {
		t.Run(string(tc.kind)+tc.transport, func(t *testing.T) {
			const workers = 4
			url := "http://" + r.HTTPAddr
			if tc.kind == protocol.KServeGRPC {
				url = r.GRPCAddr
			}
			c, err := protocol.New(protocol.Options{Kind: tc.kind, URL: url, GRPCTransport: tc.transport, SharedMemory: protocol.SharedMemorySystem, MaxConns: workers})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Prepare("yolov8n", "", &kserve.InferRequest{Inputs: ins})
			if err != nil {
				t.Fatal(err)
			}
			if p.Size() > 4096 {
				t.Errorf("a shared-memory request is %d bytes: tensors travel", p.Size())
			}
			got, err := c.Infer(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := protocol.ValidateResponse(md, nil, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Outputs[0].Data, want.Outputs[0].Data) {
				t.Fatalf("output0 from shared memory (%d bytes) differs from the binary wire's (%d bytes)", len(got.Outputs[0].Data), len(want.Outputs[0].Data))
			}
			if left := ours(t); len(left) > 0 {
				t.Errorf("while registered, /dev/shm holds %v: names are unlinked once the server has them", left)
			}
			if st := shmStatus(t, r.HTTPAddr); strings.Count(st, `"name"`) != 1+workers {
				t.Errorf("the server has %s, want %d regions (1 input, %d output)", st, 1+workers, workers)
			}
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for range workers {
				wg.Go(func() {
					caller := c.NewCaller(protocol.NewChecker(md, nil))
					defer caller.Close()
					for range 5 {
						if out := caller.Call(ctx, p); out.Err != nil || out.RequestBytes > 4096 || out.ResponseBytes > 4096 {
							errs <- fmt.Errorf("%+v", out)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if st := shmStatus(t, r.HTTPAddr); strings.Count(st, `"name"`) != 1+workers {
				t.Errorf("after the load the server has %s, want %d regions: callers share the output regions made at the first request", st, 1+workers)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if st := shmStatus(t, r.HTTPAddr); st != "[]" {
				t.Errorf("after Close the server still has %s", st)
			}
			if left := ours(t); len(left) > 0 {
				t.Errorf("after Close /dev/shm holds %v", left)
			}
		})
	}
}

// TestSharedMemoryCancelledAndFailed: a cancelled call and a server
// error leave nothing of ours in /dev/shm, and Close unregisters what was
// registered though the context was cancelled.
func TestSharedMemoryCancelledAndFailed(t *testing.T) {
	r := serve(t, yolo("yolov8n", refserver.NewFIFO(0)))
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + r.HTTPAddr, SharedMemory: protocol.SharedMemorySystem, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	md, _ := c.ModelMetadata(context.Background(), "yolov8n", "")
	ins, _ := inputs.Random(md.Inputs, 1)
	p, err := c.Prepare("yolov8n", "", &kserve.InferRequest{Inputs: ins})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C
	if _, err := c.Infer(ctx, p); err == nil {
		t.Fatal("a cancelled Infer succeeded")
	}
	// A server error: the input's shape no longer fits the model.
	bad := []kserve.Tensor{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}, Data: make([]byte, 3*64*64*4)}}
	pb, err := c.Prepare("yolov8n", "", &kserve.InferRequest{Inputs: bad})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Infer(context.Background(), pb); err == nil {
		t.Fatal("a wrongly shaped input was accepted")
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("/dev/shm holds %v", left)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if st := shmStatus(t, r.HTTPAddr); st != "[]" {
		t.Errorf("after Close the server still has %s", st)
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("after Close /dev/shm holds %v", left)
	}
}

// TestSharedMemoryWrongHost: a server that cannot open the region (it
// runs on another host) is named as such, and the object is removed.
func TestSharedMemoryWrongHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/register") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"Unable to open shared memory region: '/%s'"}`, strings.Split(r.URL.Path, "/")[4])
			return
		}
		fmt.Fprint(w, `{"name":"m","platform":"x","inputs":[{"name":"x","datatype":"FP32","shape":[4]}],"outputs":[{"name":"y","datatype":"FP32","shape":[8]}]}`)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + ln.Addr().String(), SharedMemory: protocol.SharedMemorySystem, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}, Data: make([]byte, 16)}}})
	if err == nil || !strings.Contains(err.Error(), "shared memory works only with the client on the server's host") || !strings.Contains(err.Error(), "Unable to open shared memory region") {
		t.Fatalf("Prepare: %v", err)
	}
	if left := ours(t); len(left) > 0 {
		t.Errorf("/dev/shm holds %v", left)
	}
}

// TestSharedMemoryModes: cuda and gRPC are refused with the reason.
func TestSharedMemoryModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		kind protocol.Kind
		want string
	}{
		{"cuda", protocol.KServeHTTP, "needs a GPU"},
		{"system", protocol.NIMHTTP, "not for protocol nim-http"},
		{"posix", protocol.KServeHTTP, "unknown shared memory mode"},
	} {
		_, err := protocol.New(protocol.Options{Kind: tc.kind, URL: "127.0.0.1:1", SharedMemory: tc.mode})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s over %s: %v, want %q", tc.mode, tc.kind, err, tc.want)
		}
	}
}

// shmCPUPerRequest measures the client's CPU per YOLO request at c=8
// against the benchmark server (a child process: this process's CPU is
// the client's), over binary HTTP with and without shared memory.
func shmCPUPerRequest(t *testing.T, perWorker int) (binary, shm time.Duration) {
	t.Helper()
	addrs := startBenchServer(t)
	const workers = 8
	measure := func(mode string) time.Duration {
		c, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + addrs.http, SharedMemory: mode, MaxConns: workers})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		md, err := c.ModelMetadata(ctx, "yolo", "")
		if err != nil {
			t.Fatal(err)
		}
		ins, _ := inputs.Random(md.Inputs, 1)
		p, err := c.Prepare("yolo", "", &kserve.InferRequest{Inputs: ins})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Infer(ctx, p); err != nil { // and the output regions registered
			t.Fatal(err)
		}
		check := protocol.NewChecker(md, nil)
		callers := make([]protocol.Caller, workers)
		for i := range callers {
			callers[i] = c.NewCaller(check)
			if out := callers[i].Call(ctx, p); out.Err != nil { // warm: connections, buffers
				t.Fatal(out.Err)
			}
		}
		errs := make(chan error, workers)
		start := cpuTime()
		var wg sync.WaitGroup
		for _, caller := range callers {
			wg.Go(func() {
				for range perWorker {
					if out := caller.Call(ctx, p); out.Err != nil {
						errs <- out.Err
						return
					}
				}
			})
		}
		wg.Wait()
		spent := cpuTime() - start
		for _, caller := range callers {
			caller.Close()
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		return spent / time.Duration(workers*perWorker)
	}
	binary = measure(protocol.SharedMemoryNone)
	shm = measure(protocol.SharedMemorySystem)
	t.Logf("YOLO at c=8, client CPU per request: binary HTTP %v, system shared memory %v (%.1fx lower)", binary, shm, float64(binary)/float64(shm))
	return binary, shm
}

// TestSharedMemoryClientCPU: shared memory costs the client at least 3x
// less CPU per YOLO request than binary HTTP (the 10x is asserted
// by the timing suite, on a quiet machine: shm_timing_test.go).
func TestSharedMemoryClientCPU(t *testing.T) {
	binary, shm := shmCPUPerRequest(t, 10)
	if binary < 3*shm {
		t.Errorf("client CPU per request: binary HTTP %v, shared memory %v: want at least 3x lower", binary, shm)
	}
}

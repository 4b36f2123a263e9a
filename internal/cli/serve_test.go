package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `inferbench serve args...` until the test ends and
// returns its banner once it is serving.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	root := NewRootCommand(&out, &out)
	root.SetArgs(append([]string{"serve"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "Serving;") {
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServeRefusesBadFlags(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "pods:\n  - name: p\n    htpp: 127.0.0.1:0\n")
	free := []string{"--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--metrics-addr", ""}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--emulator", "nope"}, `--emulator "nope": want one of fifo, instances, batcher, gil, pipelined`},
		{[]string{"--emulator", "batcher"}, "--max-batch-size of at least 1"},
		{[]string{"--emulator", "batcher", "--max-batch-size", "4", "--preferred-batch-sizes", "8"}, "preferred batch size 8 is outside 1..4"},
		{[]string{"--jitter", "gamma:1"}, `--jitter: jitter: unknown distribution "gamma"`},
		{[]string{"--memory-limit", "3 parsecs"}, `--memory-limit: size "3 parsecs"`},
		{[]string{"--queue-limit", "-1"}, "queue limit -1 is negative"},
		{[]string{"--spike-probability", "2"}, "spike probability 2 is outside 0..1"},
		{[]string{"--max-queue-delay", "-1ms"}, "--max-queue-delay -1ms: must not be negative"}, // every command refuses a negative duration flag
		{[]string{"--http-api", "soap"}, `unknown HTTP API "soap"`},
		{[]string{"--time-scale", "0"}, "--time-scale 0"},
		{[]string{"--base-port", "9000"}, "--base-port places a preset's pods"},
		{[]string{"--preset", "nope"}, `unknown preset "nope"`},
		{[]string{"--preset", "field-guide", "--service-time", "5ms"}, "--service-time declares the single model of a server without --preset field-guide"},
		{[]string{"--preset", "field-guide", "--config", bad}, "exclude each other"},
		{[]string{"--preset", "field-guide", "--input", "images:FP32:2,3,64,64"}, "the first dimension must be the batch"},
		{[]string{"--config", bad}, "bad.yaml:3:5: unknown key \"htpp\" in a pod"},
		{[]string{"--config", bad, "--input", "x:FP32:1"}, "the YAML declares the tensors"},
		{[]string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, "reading the configuration"},
	}
	for _, tt := range tests {
		args := append([]string{"serve"}, tt.args...)
		if !strings.Contains(strings.Join(tt.args, " "), "--preset") && !strings.Contains(strings.Join(tt.args, " "), "--config") {
			args = append(args, free...)
		}
		var out bytes.Buffer
		root := NewRootCommand(&out, &out)
		root.SetArgs(args)
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // a command that wrongly starts serving stops at once
		err := root.ExecuteContext(ctx)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %v: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}

var addrLine = regexp.MustCompile(`(?m)^\s+(HTTP|gRPC|metrics)\s+(\S+)`)

func TestServePresetServesFourPods(t *testing.T) {
	banner := startServe(t, "--preset", "field-guide", "--base-port", "0")
	for _, pod := range []string{"base-yolo", "nim-binary", "nim-grpc", "nim-batching"} {
		if !strings.Contains(banner, "\npod "+pod+"\n") {
			t.Errorf("banner lacks pod %s:\n%s", pod, banner)
		}
	}
	addrs := addrLine.FindAllStringSubmatch(banner, -1)
	if len(addrs) != 9 { // base-yolo 2, nim-binary 2, nim-grpc 2, nim-batching 3
		t.Fatalf("%d endpoints in the banner, want 9:\n%s", len(addrs), banner)
	}
	if !strings.Contains(banner, "(plain API: POST /predict, GET /health)") || !strings.Contains(banner, "pod memory limit 6.4GB") {
		t.Errorf("banner does not say base-yolo's API or nim-batching's memory:\n%s", banner)
	}
	for _, a := range addrs {
		if a[1] != "metrics" {
			continue
		}
		resp, err := http.Get(a[2])
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v", a[2], err)
			continue
		}
		resp.Body.Close()
	}
	health := strings.TrimSuffix(addrs[0][2], "/") + "/health"
	if resp, err := http.Get(health); err != nil || resp.StatusCode != 200 {
		t.Errorf("base-yolo GET /health: %v", err)
	} else {
		resp.Body.Close()
	}
}

func TestServeConfigAndSingleModel(t *testing.T) {
	cfg := writeFile(t, "pods.yaml", `pods:
  - name: one
    http: 127.0.0.1:0
    models:
      - name: m
        inputs: [{name: x, datatype: FP32, dims: [1]}]
        outputs: [{name: y, datatype: FP32, dims: [1]}]
        emulator: {kind: fifo, service_time: 10ms}
        faults: {error_rate: 0.1}
`)
	banner := startServe(t, "--config", cfg, "--time-scale", "2")
	if !strings.Contains(banner, "1 pods (--config "+cfg+", every time x 2)") || !strings.Contains(banner, "fifo (1 instance, service time 20ms)") || !strings.Contains(banner, "faults: error rate 0.1") {
		t.Errorf("banner:\n%s", banner)
	}

	banner = startServe(t, "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--metrics-addr", "",
		"--emulator", "pipelined", "--max-inflight", "8", "--per-inflight", "2ms", "--queue-limit", "3",
		"--memory-per-request", "10MB", "--memory-limit", "1GB", "--jitter", "lognormal:0.2", "--model", "tiny", "--input", "x:FP32:1,4", "--output", "y:FP32:1,8")
	for _, want := range []string{"model tiny (version 1): pipelined (1 instance, up to 8 requests in flight, each 10ms + 2ms x (in flight - 1), queue limit 3, jitter lognormal:0.2)",
		"faults: 10MB per request in flight", "pod memory limit 1GB", "  gRPC     127.0.0.1:"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	// A batching model from flags: the default tensors lose their batch dimension.
	banner = startServe(t, "--http-addr", "127.0.0.1:0", "--grpc-addr", "", "--metrics-addr", "", "--emulator", "batcher", "--max-batch-size", "8")
	if !strings.Contains(banner, "batcher (1 instance(s), max batch 8") || !strings.Contains(banner, "images FP32 [-1 3 640 640]") {
		t.Errorf("banner:\n%s", banner)
	}
}

package protocol_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
)

// The benchmarks measure the client alone: the reference server runs in a
// child process (this test binary, re-executed with benchServerEnv set),
// so that allocations, B/op and CPU of the benchmark process are the
// client's. The child serves on loopback, prints its addresses on stdout
// and exits when its stdin closes, that is when the parent exits.
const benchServerEnv = "INFERBENCH_BENCH_SERVER"

// TestMain runs the benchmark server when re-executed as one.
func TestMain(m *testing.M) {
	if files := os.Getenv(benchTLSServerEnv); files != "" {
		if err := runBenchTLSServer(files); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(loopbackPeerEnv) == "1" {
		if err := runLoopbackPeer(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(benchServerEnv) == "1" {
		if err := runBenchServer(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchModels are the benchmark's models: a tiny one (x FP32 [4] -> y FP32
// [8]) served by 64 instances without service time, and a YOLO-sized one.
func benchModels() []refserver.ModelSpec {
	return []refserver.ModelSpec{
		{
			Name: "tiny", Emulator: refserver.NewInstances(64, 0),
			Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
			Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
		},
		yolo("yolo", refserver.NewInstances(64, 0)),
	}
}

func runBenchServer() error {
	srv, err := refserver.New(refserver.Options{Models: benchModels()})
	if err != nil {
		return err
	}
	r, err := srv.Listen(refserver.Addrs{HTTP: "127.0.0.1:0", GRPC: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", r.HTTPAddr, r.GRPCAddr)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent goes away
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return r.Shutdown(ctx)
}

// benchAddrs are the child server's addresses.
type benchAddrs struct{ http, grpc string }

var (
	benchOnce   sync.Once
	benchServer benchAddrs
	benchErr    error
	// benchStdin is the write end of the child's stdin, kept reachable
	// (a finalized pipe would close and stop the child).
	benchStdin io.WriteCloser
)

// startBenchServer starts the child server once per test binary; it lives
// until the binary exits (its stdin is a pipe from this process).
func startBenchServer(tb testing.TB) benchAddrs {
	tb.Helper()
	benchOnce.Do(func() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), benchServerEnv+"=1")
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			benchErr = err
			return
		}
		benchStdin = stdin
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			benchErr = err
			return
		}
		if err := cmd.Start(); err != nil {
			benchErr = err
			return
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			benchErr = fmt.Errorf("benchmark server: %w", err)
			return
		}
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(f[0], "127.0.0.1:") || !strings.HasPrefix(f[1], "127.0.0.1:") {
			benchErr = fmt.Errorf("benchmark server printed %q", line)
			return
		}
		benchServer = benchAddrs{http: f[0], grpc: f[1]}
	})
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchServer
}

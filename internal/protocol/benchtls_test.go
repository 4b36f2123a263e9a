package protocol_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// The TLS benchmarks' server: the benchmark models over TLS, in a child
// process as the plain one (benchserver_test.go), its certificate and key
// files named by benchTLSServerEnv ("CERT KEY").
const benchTLSServerEnv = "INFERBENCH_BENCH_TLS_SERVER"

func runBenchTLSServer(files string) error {
	f := strings.Fields(files)
	if len(f) != 2 {
		return fmt.Errorf("%s=%q: want CERT KEY", benchTLSServerEnv, files)
	}
	cfg, err := tlsconf.Server(f[0], f[1], "")
	if err != nil {
		return err
	}
	srv, err := refserver.New(refserver.Options{Models: benchModels(), TLS: cfg})
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

var (
	benchTLSOnce   sync.Once
	benchTLSServer benchAddrs
	benchTLSClient *tls.Config // trusts the server's CA, loaded before its files go
	benchTLSErr    error
	benchTLSStdin  io.WriteCloser
)

// startBenchTLSServer starts the TLS child server once per test binary,
// with certificates made for it, and returns its addresses and the
// clients' TLS configuration.
func startBenchTLSServer(tb testing.TB) (benchAddrs, *tls.Config) {
	tb.Helper()
	benchTLSOnce.Do(func() {
		certs := reftest.NewCerts(tb) // read by the child at its start, and by the client now
		if benchTLSClient, benchTLSErr = (tlsconf.Client{CACert: certs.CA}).Config(); benchTLSErr != nil {
			return
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), benchTLSServerEnv+"="+certs.ServerCert+" "+certs.ServerKey)
		cmd.Stderr = os.Stderr
		if benchTLSStdin, benchTLSErr = cmd.StdinPipe(); benchTLSErr != nil {
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			benchTLSErr = err
			return
		}
		if benchTLSErr = cmd.Start(); benchTLSErr != nil {
			return
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		f := strings.Fields(line)
		if err != nil || len(f) != 2 {
			benchTLSErr = fmt.Errorf("TLS benchmark server printed %q: %v", line, err)
			return
		}
		benchTLSServer = benchAddrs{http: f[0], grpc: f[1]}
	})
	if benchTLSErr != nil {
		tb.Fatal(benchTLSErr)
	}
	return benchTLSServer, benchTLSClient
}

// BenchmarkCallTLS is BenchmarkCall over TLS (TLS 1.3, kept-alive
// connections: the handshake happens once, before the clock): what TLS
// adds to a call is the encryption and decryption of its bytes.
//
//	go test -run '^$' -bench 'BenchmarkCall(TLS)?$' -benchmem ./internal/protocol/
func BenchmarkCallTLS(b *testing.B) {
	for _, m := range []struct {
		model string
		kinds []protocol.Kind
	}{{"tiny", tinyKinds}, {"yolo", yoloKinds}} {
		for _, kind := range m.kinds {
			b.Run(m.model+"/"+string(kind), func(b *testing.B) {
				addrs, cfg := startBenchTLSServer(b)
				url := "https://" + addrs.http
				if kind == protocol.KServeGRPC {
					url = "grpcs://" + addrs.grpc
				}
				c, err := protocol.New(protocol.Options{Kind: kind, URL: url, TLS: cfg})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				md, err := c.ModelMetadata(context.Background(), m.model, "")
				if err != nil {
					b.Fatal(err)
				}
				p := prepareSmall(b, c, md)
				caller := c.NewCaller(protocol.NewChecker(md, nil))
				defer caller.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				for range 10 {
					if out := caller.Call(ctx, p); out.Err != nil {
						b.Fatal(out.Err)
					}
				}
				b.ReportAllocs()
				start := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					if out := caller.Call(ctx, p); out.Err != nil {
						b.Fatal(out.Err)
					}
				}
				reportCPU(b, start)
			})
		}
	}
}

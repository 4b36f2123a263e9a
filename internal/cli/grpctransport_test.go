package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// grpcGoWords is how grpc-go, and not the fast transport, words a refused
// connection: seeing it proves the call went through grpc-go.
const grpcGoWords = "transport: Error while dialing"

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestBenchGRPCTransport: bench --grpc-transport grpc-go runs through
// grpc-go, and counts what the fast transport counts against the same
// seeded server (each its own, so the injected failures are the same).
func TestBenchGRPCTransport(t *testing.T) {
	counts := map[string]result.Counts{}
	errs := map[string]map[string]int64{}
	for _, transport := range protocol.GRPCTransports {
		r := refServer(t, refserver.NewInstances(8, 0), 0.2)
		f, _, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc",
			"--grpc-transport", transport, "--model", "m", "-c", "4", "-n", "400", "-q")
		if err != nil {
			t.Fatalf("%s: %v", transport, err)
		}
		run := f.Runs[0]
		counts[transport] = run.Counts
		errs[transport] = map[string]int64{}
		for _, g := range run.Errors {
			errs[transport][g.Class] += g.Count
		}
		if run.Counts.Sent != 400 || run.Counts.Errors == 0 || run.Counts.OK+run.Counts.Errors != 400 {
			t.Errorf("%s: counts %+v, want 400 sent, some of them failed", transport, run.Counts)
		}
	}
	if fast, g := counts[protocol.GRPCTransportFast], counts[protocol.GRPCTransportGo]; fast != g {
		t.Errorf("counts: fast %+v, grpc-go %+v", fast, g)
	}
	if fast, g := errs[protocol.GRPCTransportFast], errs[protocol.GRPCTransportGo]; !reflect.DeepEqual(fast, g) {
		t.Errorf("error classes: fast %v, grpc-go %v", fast, g)
	}

	// Which transport ran: grpc-go's words for a refused connection.
	addr := closedPort(t)
	for _, transport := range protocol.GRPCTransports {
		out, log, err := runCLI(context.Background(), "bench", "--url", addr, "--protocol", "kserve-grpc", "--grpc-transport", transport,
			"--model", "m", "-n", "5", "--connect-timeout", "2s")
		said := fmt.Sprint(err) + out + log
		if err == nil || strings.Contains(said, grpcGoWords) != (transport == protocol.GRPCTransportGo) {
			t.Errorf("%s against a closed port: %v\n%s", transport, err, said)
		}
	}

	for _, args := range [][]string{
		{"--protocol", "kserve-grpc", "--grpc-transport", "grpcio"},
		{"--protocol", "kserve-http", "--grpc-transport", "grpc-go"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"bench", "--url", addr, "--model", "m"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "--grpc-transport") {
			t.Errorf("%v: %v, want an error naming --grpc-transport", args, err)
		}
	}
}

// TestRunGRPCTransport: a plan's grpc_transport and run's --grpc-transport
// (for the deployments that set none) reach the client.
func TestRunGRPCTransport(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 0), 0)
	closed := closedPort(t)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: live, protocol: kserve-grpc, url: %q, model: m, grpc_transport: grpc-go}
  - {name: gone, protocol: kserve-grpc, url: %q, model: m, connect_timeout: 2s}
steps:
  - {name: one, concurrency: 2, requests: 20}
`, urlFor(r, protocol.KServeGRPC), closed))

	for _, tc := range []struct {
		flag     string
		grpcGoed bool // whether the closed deployment went through grpc-go
	}{{"", false}, {"grpc-go", true}, {"fast", false}} {
		out := t.TempDir()
		args := []string{"run", planPath, "-o", out}
		if tc.flag != "" {
			args = append(args, "--grpc-transport", tc.flag)
		}
		_, log, err := runCLI(context.Background(), args...)
		if err != nil {
			t.Fatalf("--grpc-transport %q: %v\n%s", tc.flag, err, log)
		}
		f, err := result.Read(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range f.Runs {
			switch run.Deployment.Name {
			case "live":
				if run.Counts.OK != 20 {
					t.Errorf("--grpc-transport %q: live counts %+v, want 20 answers", tc.flag, run.Counts)
				}
			case "gone":
				if strings.Contains(run.Failure, grpcGoWords) != tc.grpcGoed {
					t.Errorf("--grpc-transport %q: the closed deployment's failure %q, want it through grpc-go: %v", tc.flag, run.Failure, tc.grpcGoed)
				}
			}
		}
		if len(f.Runs) != 2 {
			t.Errorf("--grpc-transport %q: %d runs, want 2", tc.flag, len(f.Runs))
		}
	}

	_, _, err := runCLI(context.Background(), "run", planPath, "-o", t.TempDir(), "--grpc-transport", "grpcio")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "--grpc-transport") {
		t.Errorf("--grpc-transport grpcio: %v, want exit 2 naming the flag", err)
	}
}

// TestCheckGRPCTransport: check --reference --grpc-transport grpc-go checks
// the gRPC endpoint through grpc-go.
func TestCheckGRPCTransport(t *testing.T) {
	out, _, err := runCLI(context.Background(), "check", "--reference", "--grpc-transport", "grpc-go", "-n", "3", "--service-time", "0s")
	if err != nil || !strings.Contains(out, "PASS") {
		t.Errorf("check: %v\n%s", err, out)
	}
	out, _, err = runCLI(context.Background(), "check", "--url", closedPort(t), "--protocol", "kserve-grpc", "--grpc-transport", "grpc-go", "-n", "1")
	if err == nil || !strings.Contains(out, grpcGoWords) {
		t.Errorf("check of a closed port: %v\n%s", err, out)
	}
}

package cli

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/session"
)

// TestBenchMetricsAddr: bench, run and sweep take --metrics-addr; bench
// says where the figures are served, and a port in use is exit code 2
// with one line naming it.
func TestBenchMetricsAddr(t *testing.T) {
	r := refServer(t, refserver.NewInstances(2, 0), 0)
	f, log, err := benchJSON(t, context.Background(), "--url", "http://"+r.HTTPAddr, "--model", "m", "-c", "2", "-n", "20", "--metrics-addr", "127.0.0.1:0", "--metrics-url", "off")
	if err != nil || len(f.Runs) != 1 || f.Runs[0].Counts.Sent != 20 {
		t.Fatalf("bench: %v\n%s", err, log)
	}
	if !regexp.MustCompile(`live figures: http://127\.0\.0\.1:\d+/metrics`).MatchString(log) {
		t.Errorf("the log does not say where the live figures are:\n%s", log)
	}

	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, _, err = runCLI(context.Background(), "bench", "--url", "http://"+r.HTTPAddr, "--model", "m", "-n", "5", "--metrics-addr", held.Addr().String(), "--metrics-url", "off", "-q")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "--metrics-addr "+held.Addr().String()) || strings.Contains(err.Error(), "\n") {
		t.Errorf("a port in use: %v", err)
	}

	for _, cmd := range []string{"run", "sweep"} {
		out, _, err := runCLI(context.Background(), cmd, "--help")
		if err != nil || !strings.Contains(out, "--metrics-addr") {
			t.Errorf("%s --help lacks --metrics-addr: %v", cmd, err)
		}
	}
}

package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestBenchConnections: --connections spreads gRPC calls over several
// channels; it must be at least 1.
func TestBenchConnections(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 0), 0)
	f, _, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc",
		"--model", "m", "-c", "8", "-n", "200", "--connections", "3")
	if err != nil {
		t.Fatal(err)
	}
	if run := f.Runs[0]; run.Counts.Sent != 200 || run.Counts.OK != 200 {
		t.Errorf("counts %+v, want 200 sent and ok", run.Counts)
	}
	_, _, err = runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeGRPC), "--model", "m", "--connections", "0")
	if err == nil || !strings.Contains(err.Error(), "--connections") {
		t.Errorf("--connections 0: %v", err)
	}
}

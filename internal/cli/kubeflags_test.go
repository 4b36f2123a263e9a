package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestBenchWithoutAClusterSaysPodChecksAreOff: --kube-selector with no
// kubeconfig anywhere runs as before, with one line that says why pod
// checks are off.
func TestBenchWithoutAClusterSaysPodChecksAreOff(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing"))
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	r := refServer(t, refserver.NewInstances(2, time.Millisecond), 0)
	f, log, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc", "--model", "m", "-n", "10",
		"--metrics-url", "off", "--kube-selector", "app=triton", "--kube-namespace", "ml")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	want := "pod checks: off (no kubeconfig ($KUBECONFIG, ~/.kube/config) and not running in a cluster)\n"
	if strings.Count(log, "pod checks:") != 1 || !strings.Contains(log, want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
	if len(f.Runs) != 1 || f.Runs[0].Pods != nil || !f.Runs[0].Validity.Valid {
		t.Errorf("runs %+v", f.Runs)
	}
}

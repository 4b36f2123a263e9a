//go:build unix

package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestSIGHUPEndsARunAsCtrlCDoes sends the test process a real SIGHUP (a
// closed terminal) during a run: Main catches it, writes what was
// measured and exits 130, as for Ctrl-C, instead of dying with nothing
// written.
func TestSIGHUPEndsARunAsCtrlCDoes(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, 2*time.Millisecond), 0)
	planPath := writePlan(t, `
deployments:
  - {name: a, protocol: kserve-http, url: "`+urlFor(r, protocol.KServeHTTP)+`", model: m}
steps:
  - {name: long, concurrency: 2, duration: 60s}
`)
	out := t.TempDir()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- Main([]string{"run", planPath, "-o", out, "--format", "json"}, &stdout, &stderr) }()
	// Signal only once Main is running the step: its handler is installed.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "Step long") {
		if time.Now().After(deadline) {
			t.Fatalf("the step did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 130 {
			t.Fatalf("exit code %d, want 130; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("SIGHUP did not end the run within 40 s (the step lasts 60 s)")
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Complete || len(f.Runs) != 1 || f.Runs[0].Status != result.StatusInterrupted || f.Runs[0].Counts.OK == 0 {
		t.Errorf("results after SIGHUP: complete %v, runs %+v", f.Complete, f.Runs)
	}
}

//go:build timing

// Timing acceptance of --loaders (bench/acceptance.sh, on a quiet
// machine): the default run holds only the bounds no load can break,
// TestRunLocalLoadersSplitsAndMergesExactly.

package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestLocalLoadersAcceptance: against 64 instances of 20 ms (a ceiling of
// 3,200/s), four local loaders at a total c=64 reach within 10% of one
// loader's throughput at c=64, sent = n exactly, and their measured phases
// start within 50 ms of each other.
func TestLocalLoadersAcceptance(t *testing.T) {
	t.Setenv(testMainEnv, "1")
	srv := refServer(t, refserver.NewInstances(64, 20*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: ref, protocol: kserve-http, url: %q, model: m}
steps:
  - {name: c64, concurrency: 64, requests: 9600, warmup: 0}
`, urlFor(srv, protocol.KServeHTTP)))
	run := func(args ...string) (*result.File, string) {
		out := t.TempDir()
		_, log, err := runCLI(context.Background(), append([]string{"run", planPath, "-o", out, "--format", "json", "-q"}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, log)
		}
		f, err := result.Read(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		return f, out
	}
	one, _ := run()
	four, out := run("--loaders", "4", "--local")
	if len(one.Runs) != 1 || len(four.Runs) != 1 {
		t.Fatalf("runs: %d and %d, want 1 each", len(one.Runs), len(four.Runs))
	}
	if four.Runs[0].Counts.Sent != 9600 {
		t.Errorf("sent %d over 4 loaders, want 9600", four.Runs[0].Counts.Sent)
	}
	a, b := one.Runs[0].ThroughputRPS, four.Runs[0].ThroughputRPS
	t.Logf("one loader %.0f/s, four loaders merged %.0f/s", a, b)
	if b < 0.9*a || b > 1.1*a {
		t.Errorf("merged throughput %.0f/s, want within 10%% of one loader's %.0f/s", b, a)
	}
	var lo, hi time.Time
	for i := range 4 {
		f, err := result.Read(filepath.Join(out, "loaders", fmt.Sprintf("loader-%d.json", i)))
		if err != nil || len(f.Runs) != 1 || f.Runs[0].Started == nil {
			t.Fatalf("loader %d: %v", i, err)
		}
		s := *f.Runs[0].Started
		if lo.IsZero() || s.Before(lo) {
			lo = s
		}
		if s.After(hi) {
			hi = s
		}
	}
	if spread := hi.Sub(lo); spread > 50*time.Millisecond {
		t.Errorf("the loaders started %v apart, want within 50 ms", spread)
	}
}

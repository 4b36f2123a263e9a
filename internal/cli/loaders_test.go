package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// TestMain lets the test binary stand in for inferbench when run by
// --loaders --local (which runs loaders as processes of this binary).
func TestMain(m *testing.M) {
	if os.Getenv(testMainEnv) == "1" {
		// A loader told to die does so before its first run.
		if die := os.Getenv(testDieEnv); die != "" && slices.Contains(os.Args, "--index") && os.Args[len(os.Args)-1] == die {
			fmt.Fprintln(os.Stderr, "loader told to die")
			os.Exit(3)
		}
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const (
	testMainEnv = "INFERBENCH_TEST_MAIN"
	testDieEnv  = "INFERBENCH_TEST_LOADER_DIES" // the index of a local loader that exits at once
)

func TestRunLocalLoadersOneLost(t *testing.T) {
	t.Setenv(testMainEnv, "1")
	t.Setenv(testDieEnv, "2")
	srv := refServer(t, refserver.NewInstances(16, 2*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: ref, protocol: kserve-http, url: %q, model: m}
steps:
  - {name: s, concurrency: 4, requests: 100}
`, urlFor(srv, protocol.KServeHTTP)))
	out := t.TempDir()
	_, log, err := runCLI(context.Background(), "run", planPath, "-o", out, "--loaders", "4", "--local", "--format", "json")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "loader 2") || !strings.Contains(err.Error(), "s c=1") {
		t.Fatalf("err = %v, want exit 1 naming loader 2 and its share\n%s", err, log)
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Complete || len(f.Runs) != 1 || f.Runs[0].Counts.Sent != 75 {
		t.Errorf("merged: complete %v, %d runs, want one incomplete run of the 75 requests of the three others", f.Complete, len(f.Runs))
	}
	if b, err := os.ReadFile(filepath.Join(out, "loaders", "log-2.txt")); err != nil || !strings.Contains(string(b), "told to die") {
		t.Errorf("loader 2's log is not kept: %q, %v", b, err)
	}
}

func TestRunLocalLoadersSplitsAndMergesExactly(t *testing.T) {
	t.Setenv(testMainEnv, "1")
	srv := refServer(t, refserver.NewInstances(64, 5*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: ref, protocol: kserve-http, url: %q, model: m}
steps:
  - {name: closed, concurrency: 10, requests: 203}
  - {name: few, concurrency: 3, requests: 41}
  - {name: constant, rate: 200, requests: 101}
  - {name: poisson, rate: 100, arrival: poisson, requests: 50}
  - {name: ramp, rate: 20, stages: [{duration: 1s, target: 100}]}
`, urlFor(srv, protocol.KServeHTTP)))
	out := t.TempDir()
	stdout, log, err := runCLI(context.Background(), "run", planPath, "-o", out, "--loaders", "4", "--local", "--format", "json")
	if err != nil {
		t.Fatalf("run --loaders 4 --local: %v\n%s", err, log)
	}
	if !strings.Contains(stdout, `"schema"`) {
		t.Errorf("no JSON report on stdout: %.200s", stdout)
	}
	merged, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"closed": {10, 203}, "few": {3, 41}, "constant": {0, 101}, "poisson": {0, 50}, "ramp": {0, -1}}
	if !merged.Complete || len(merged.Runs) != len(want) {
		t.Fatalf("merged: complete %v, %d runs, want %d\n%s", merged.Complete, len(merged.Runs), len(want), log)
	}
	for _, r := range merged.Runs {
		w := want[r.Step]
		if r.Step == "ramp" {
			if len(r.Load.Stages) != 1 || r.Load.Stages[0].Target != 100 || r.Load.StagesFrom == nil || *r.Load.StagesFrom != 20 || r.Counts.Sent < 20 {
				t.Errorf("ramp: merged load %+v from %v, %d sent; want from 20/s to 100/s", r.Load.Stages, r.Load.StagesFrom, r.Counts.Sent)
			}
			continue
		}
		if r.Counts.Sent != int64(w[1]) || r.Load.Concurrency != w[0] {
			t.Errorf("step %s: sent %d at c=%d, want %d at c=%d", r.Step, r.Counts.Sent, r.Load.Concurrency, w[1], w[0])
		}
		if r.Step == "constant" && r.Load.Rate != 200 {
			t.Errorf("constant: merged rate %v/s, want 200/s", r.Load.Rate)
		}
	}
	// Each loader's own file is kept; the runs of a step started together.
	starts := map[string][]time.Time{}
	for i := range 4 {
		f, err := result.Read(filepath.Join(out, "loaders", fmt.Sprintf("loader-%d.json", i)))
		if err != nil {
			t.Fatalf("loader %d: %v", i, err)
		}
		for _, r := range f.Runs {
			if r.Started != nil {
				starts[r.Step] = append(starts[r.Step], *r.Started)
			}
		}
	}
	for step, ts := range starts {
		wantN := 4
		if step == "few" {
			wantN = 3 // c=3 over 4 loaders: the fourth sits it out
		}
		if len(ts) != wantN {
			t.Errorf("step %s: %d loaders ran it, want %d", step, len(ts), wantN)
		}
		lo, hi := ts[0], ts[0]
		for _, s := range ts {
			if s.Before(lo) {
				lo = s
			}
			if s.After(hi) {
				hi = s
			}
		}
		// Generous: each loader's warmup runs after the common start.
		if spread := hi.Sub(lo); spread > time.Second {
			t.Errorf("step %s: the loaders' measured phases started %v apart, want within 1 s", step, spread)
		}
		t.Logf("step %s: starts within %v", step, hi.Sub(lo))
	}
}

func TestRunLocalLoadersInterrupted(t *testing.T) {
	t.Setenv(testMainEnv, "1")
	srv := refServer(t, refserver.NewInstances(8, 5*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: ref, protocol: kserve-http, url: %q, model: m}
steps:
  - {name: long, concurrency: 4, duration: 60s}
`, urlFor(srv, protocol.KServeHTTP)))
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(3*time.Second, cancel)
	began := time.Now()
	_, log, err := runCLI(ctx, "run", planPath, "-o", out, "--loaders", "2", "--local", "--format", "json", "--grace", "1s")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Fatalf("err = %v, want an interruption (130)\n%s", err, log)
	}
	if took := time.Since(began); took > 40*time.Second {
		t.Errorf("the interrupted run took %v, want far less than the step's 60 s", took)
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatalf("no merged results after Ctrl-C: %v\n%s", err, log)
	}
	if f.Complete {
		t.Errorf("an interrupted run's merged file says complete")
	}
}

func TestRunLoadersRefusesBadInput(t *testing.T) {
	planPath := writePlan(t, `
deployments:
  - {name: ref, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 1, requests: 1}
`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--loaders", "0", "--local"}, "--loaders 0"},
		{[]string{"--loaders", "2", "--local", "--resume"}, "--resume"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"run", planPath, "-o", t.TempDir()}, tc.args...)...)
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want exit 2 naming %q", tc.args, err, tc.want)
		}
	}
	// sweep says why it does not split, for the flag and the plan's key.
	for _, args := range [][]string{{"sweep", planPath, "--loaders", "4"}, {"sweep", writePlan(t, `
deployments:
  - {name: ref, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 1, requests: 1}
loaders: {count: 2, local: true}
`)}} {
		_, _, err := runCLI(context.Background(), args...)
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "sweep does not split over loaders") || !strings.Contains(err.Error(), "run PLAN --loaders N") {
			t.Errorf("%v: err = %v, want exit 2 saying why and what to do", args, err)
		}
	}
	// A plan's loaders section is refused like the flag when it is bad.
	if _, _, err := runCLI(context.Background(), "run", writePlan(t, `
deployments:
  - {name: ref, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 1, requests: 1}
loaders: {count: 2, local: true}
`), "-o", t.TempDir(), "--resume"); err == nil || !strings.Contains(err.Error(), "--resume does not work with --loaders") {
		t.Errorf("a plan with loaders and --resume: %v", err)
	}
	// Without --local, a Job: no cluster, one clear line, exit 1.
	_, _, err := runCLI(context.Background(), "run", planPath, "-o", t.TempDir(), "--loaders", "2", "--kubeconfig", filepath.Join(t.TempDir(), "none"))
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "runs a Kubernetes Job") || strings.Contains(err.Error(), "\n") {
		t.Errorf("--loaders 2 without a cluster: %v, want exit 1 in one line", err)
	}
}

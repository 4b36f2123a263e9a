package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestMergeTwoLoaders runs two bench processes at the same time against
// one reference server, each writing its own result file, and merges
// them: sent is the sum, the merged p50 lies between the two runs', the
// timeline's sent adds up to the total, and the merged file fits the
// result schema.
func TestMergeTwoLoaders(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 2*time.Millisecond), 0)
	url := urlFor(r, protocol.KServeGRPC)
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, path := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = runCLI(context.Background(), "bench", "--url", url, "--protocol", "kserve-grpc", "--model", "m",
				"-c", "4", "-n", "300", "-q", "--results", path)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("bench %d: %v", i, err)
		}
	}
	var runs []result.Run
	for _, p := range paths {
		f, err := result.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, f.Runs[0])
		data, _ := os.ReadFile(p)
		if err := result.CheckSchema(data); err != nil {
			t.Errorf("%s does not fit the result schema: %v", p, err)
		}
	}
	merged := filepath.Join(dir, "merged.json")
	out, _, err := runCLI(context.Background(), "merge", paths[0], paths[1], "-o", merged)
	if err != nil {
		t.Fatal(err)
	}
	name := runs[0].Deployment.Name
	if want := "merged 2 runs of " + name + "/c=4 from " + paths[0] + ", " + paths[1] + ": 600 sent"; !strings.Contains(out, want) ||
		!strings.Contains(out, "wrote "+merged+": 1 runs, 1 merged, 0 kept as they were") {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	f, err := result.Read(merged)
	if err != nil {
		t.Fatal(err)
	}
	if f.Schema != result.SchemaV2 || !f.Complete || len(f.Runs) != 1 || f.Plan == nil {
		t.Fatalf("merged file: schema %s complete %v, %d runs, plan %v", f.Schema, f.Complete, len(f.Runs), f.Plan)
	}
	m := f.Runs[0]
	if m.Counts.Sent != runs[0].Counts.Sent+runs[1].Counts.Sent || m.Counts.Sent != 600 || m.Load.Requests != 600 {
		t.Errorf("sent %d (requests %d), want %d + %d = 600", m.Counts.Sent, m.Load.Requests, runs[0].Counts.Sent, runs[1].Counts.Sent)
	}
	lo, hi := min(runs[0].LatencyMs.P50, runs[1].LatencyMs.P50), max(runs[0].LatencyMs.P50, runs[1].LatencyMs.P50)
	if m.LatencyMs.P50 < lo || m.LatencyMs.P50 > hi {
		t.Errorf("merged p50 %v ms, not within the runs' %v..%v ms", m.LatencyMs.P50, lo, hi)
	}
	var sent, ok int64
	for _, iv := range m.Timeline {
		sent += iv.Sent
		ok += iv.OK
	}
	if sent != m.Counts.Sent || ok != m.Counts.OK {
		t.Errorf("timeline: %d sent, %d ok; the run %d, %d", sent, ok, m.Counts.Sent, m.Counts.OK)
	}
	// Throughput over the union of the phases: between the runs' (their
	// phases one after the other) and their sum (the phases the same).
	if m.ThroughputRPS < min(runs[0].ThroughputRPS, runs[1].ThroughputRPS)*0.95 ||
		m.ThroughputRPS > (runs[0].ThroughputRPS+runs[1].ThroughputRPS)*1.05 {
		t.Errorf("merged throughput %v/s, runs %v and %v/s", m.ThroughputRPS, runs[0].ThroughputRPS, runs[1].ThroughputRPS)
	}
	if m.Validity == nil || m.Facts == nil || !strings.Contains(m.Facts.Notes[0], "merged from 2 runs") {
		t.Errorf("merged run not judged or without its fact: %+v %+v", m.Validity, m.Facts)
	}
	data, _ := os.ReadFile(merged)
	if err := result.CheckSchema(data); err != nil {
		t.Errorf("the merged file does not fit the result schema: %v", err)
	}
	if rep, _, err := runCLI(context.Background(), "report", merged); err != nil || !strings.Contains(rep, name) {
		t.Errorf("report of the merged file: %v\n%s", err, rep)
	}

	// Another load (concurrency 2) is kept apart, and the command says why.
	other := filepath.Join(dir, "c2.json")
	if _, _, err := runCLI(context.Background(), "bench", "--url", url, "--protocol", "kserve-grpc", "--model", "m",
		"-c", "2", "-n", "40", "-q", "--results", other); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(context.Background(), "merge", paths[0], other, "-o", merged)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kept apart: " + name + "/c=4 from " + paths[0] + ": no run of the other files has its deployment, step and load (the nearest, " +
			other + "'s " + name + `/c=2, differs in step "c=4" vs "c=2", concurrency 4 vs 2)`,
		"kept apart: " + name + "/c=2 from " + other,
		"wrote " + merged + ": 2 runs, 0 merged, 2 kept as they were",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestMergeBadInputs: a missing file, a file that is not a result, too few
// files and no -o are refused with the file named; a v1 file is read, its
// runs kept apart with the file named.
func TestMergeBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	f := result.New("test", time.Now())
	start := time.Now().Add(-time.Second)
	end := start.Add(time.Second)
	f.Runs = append(f.Runs, result.Run{Step: "c=1", Deployment: result.Deployment{Name: "d"}, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1},
		Status: result.StatusOK, Started: &start, Ended: &end, Histograms: &result.Histograms{Latency: ""}})
	if err := result.Write(good, f); err != nil {
		t.Fatal(err)
	}
	notResult := writeFile(t, "plan.json", `{"deployments": []}`)
	notJSON := writeFile(t, "plan.yaml", "deployments: []\n")
	missing := filepath.Join(dir, "missing.json")
	v1 := filepath.Join("..", "report", "testdata", "v1-demo.json")
	out := filepath.Join(dir, "out.json")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{good, missing, "-o", out}, missing},
		{[]string{good, notResult, "-o", out}, notResult + `: schema ""`},
		{[]string{notJSON, good, "-o", out}, notJSON + ": not a result file"},
		{[]string{good, "-o", out}, "requires at least 2 arg(s)"},
		{[]string{good, good}, "-o MERGED.json is required"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"merge"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("merge %v: err = %v, want one line with %q", tt.args, err, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused merge wrote its output")
	}
	stdout, _, err := runCLI(context.Background(), "merge", v1, good, "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "kept apart: base-yolo/baseline from "+v1+": no histograms (an inferbench.result/v1 file): cannot be merged exactly") {
		t.Errorf("the v1 file's runs are not said to be kept apart:\n%s", stdout)
	}
}

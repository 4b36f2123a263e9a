package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestBenchExportRequests: bench --export-requests writes one line per
// measured request of every level, labelled with the deployment and the
// step, errors with their class; a file that cannot be made ends bench
// before any load, naming it.
func TestBenchExportRequests(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 0), 0.2)
	path := filepath.Join(t.TempDir(), "requests.jsonl")
	f, log, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "--name", "ref",
		"--concurrency-range", "1,3", "-n", "90", "--warmup", "5", "--export-requests", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "Exported 180 requests to "+path) {
		t.Errorf("log does not report the export:\n%s", log)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		step        string
		concurrency float64
		status      string
	}
	got := map[key]int64{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		if l["deployment"] != "ref" || l["sent"] == nil || l["latency_ms"] == nil || l["request_bytes"] == nil {
			t.Fatalf("line %v", l)
		}
		if l["status"] == "error" && l["error_class"] != "http_status" {
			t.Errorf("error line %v, want class http_status", l)
		}
		step, _ := l["step"].(string)
		c, _ := l["concurrency"].(float64)
		status, _ := l["status"].(string)
		got[key{step, c, status}]++
	}
	if len(f.Runs) != 2 {
		t.Fatalf("%d runs", len(f.Runs))
	}
	for _, run := range f.Runs {
		c := float64(run.Load.Concurrency)
		if got[key{run.Step, c, "ok"}] != run.Counts.OK || got[key{run.Step, c, "error"}] != run.Counts.Errors || run.Counts.Errors == 0 {
			t.Errorf("step %s: %d ok and %d error lines, the run counted %+v (and wants errors)", run.Step,
				got[key{run.Step, c, "ok"}], got[key{run.Step, c, "error"}], run.Counts)
		}
	}

	bad := filepath.Join(t.TempDir(), "no-such-dir", "requests.jsonl")
	_, _, err = runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-n", "10", "--export-requests", bad)
	if err == nil || !strings.Contains(err.Error(), "--export-requests") || !strings.Contains(err.Error(), bad) {
		t.Errorf("err = %v, want one naming --export-requests and %s", err, bad)
	}
}

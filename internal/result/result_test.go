package result

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
)

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")
	f := New("test", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	f.Runs = append(f.Runs, Run{
		Deployment: Deployment{Name: "d", Protocol: "kserve-grpc", URL: "127.0.0.1:1", Model: "m", ModelVersion: "1"},
		Load:       Load{Mode: ModeConcurrency, Concurrency: 8, Requests: 800},
		Status:     StatusOK, Warmup: Warmup{Attempted: 10, Succeeded: 10},
		Counts: Counts{Sent: 800, OK: 790, Errors: 10}, ErrorRate: 0.0125, ThroughputRPS: 1500,
		LatencyMs: measure.Latency{P50: 5.2},
		Errors:    []measure.ErrorGroup{{Class: "timeout", Count: 10, Example: "deadline"}},
	})
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("read back %+v, wrote %+v", got, f)
	}
	// The field names promised by the schema.
	data, _ := os.ReadFile(path)
	for _, key := range []string{`"schema": "inferbench.result/v2"`, `"complete": false`, `"model_version"`, `"duration_s"`, `"error_rate"`, `"throughput_rps"`, `"elapsed_s"`, `"latency_ms"`, `"p999"`, `"latency_vs_baseline_p50"`, `"cpu_percent"`, `"late_sends"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("result file lacks %s", key)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestReadRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"bad.json": "{", "other.json": `{"schema":"x/v9"}`} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		if _, err := Read(p); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Read(%s) = %v, want an error naming the file", name, err)
		}
	}
}

func TestFactsAreKeptApart(t *testing.T) {
	var r Run
	r.Note("memory: 16 requests in flight")
	r.Invalidate("the server restarted during the step")
	r.Note("pod checks: timeout")
	want := &Facts{Notes: []string{"memory: 16 requests in flight", "pod checks: timeout"}, Invalid: []string{"the server restarted during the step"}}
	if !reflect.DeepEqual(r.Facts, want) {
		t.Errorf("facts %+v, want %+v", r.Facts, want)
	}
	dir := t.TempDir()
	f := New("test", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	f.Runs = append(f.Runs, r, Run{})
	path := filepath.Join(dir, "results.json")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Runs[0].Facts, want) || got.Runs[1].Facts != nil {
		t.Errorf("read back %+v and %+v", got.Runs[0].Facts, got.Runs[1].Facts)
	}
}

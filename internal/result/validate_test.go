package result

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
)

func validRun() Run {
	return Run{Deployment: Deployment{Name: "a"}, Load: Load{Mode: ModeConcurrency, Concurrency: 4, Requests: 300}, Status: StatusOK,
		Warmup: Warmup{Attempted: 10, Succeeded: 10}, Counts: Counts{Sent: 300, OK: 290, Errors: 10}, ErrorRate: 10.0 / 300,
		ThroughputRPS: 120, ElapsedS: 2.4, LatencyMs: measure.Latency{Min: 1, Mean: 5, P50: 5, P99: 9, Max: 12},
		Errors: []measure.ErrorGroup{{Class: measure.ClassTimeout, Count: 10, Example: "deadline"}}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *Run)
		want   string // "" : valid
	}{
		{"valid", func(*Run) {}, ""},
		{"sent negative", func(r *Run) { r.Counts.Sent = -5 }, "run 1 (a): counts.sent -5 is negative"},
		{"more ok than sent", func(r *Run) { r.Counts.OK = 301 }, "counts.ok 301 and counts.errors 10: more than counts.sent 300"},
		{"error rate huge", func(r *Run) { r.ErrorRate = 1e308 }, "error_rate 1e+308 is not between 0 and 1"},
		{"error rate NaN", func(r *Run) { r.ErrorRate = math.NaN() }, "error_rate NaN is not between 0 and 1"},
		{"throughput NaN", func(r *Run) { r.ThroughputRPS = math.NaN() }, "throughput_rps NaN is not a finite number"},
		{"throughput Inf", func(r *Run) { r.ThroughputRPS = math.Inf(1) }, "throughput_rps +Inf is not a finite number"},
		{"latency negative", func(r *Run) { r.LatencyMs.P99 = -1 }, "latency_ms.p99 -1 is not a finite number"},
		{"service time NaN", func(r *Run) { r.ServiceTimeMs = &measure.Latency{P50: math.NaN()} }, "service_time_ms.p50 NaN"},
		{"warmup more than tried", func(r *Run) { r.Warmup.Succeeded = 11 }, "warmup.succeeded 11 is more than warmup.attempted 10"},
		{"concurrency negative", func(r *Run) { r.Load.Concurrency = -3 }, "load.concurrency -3 is negative"},
		{"error group negative", func(r *Run) { r.Errors[0].Count = -1 }, "errors[0].count -1 is negative"},
		{"dropped negative", func(r *Run) { r.Counts.Dropped = -2 }, "counts.dropped -2 is negative"},
		{"ended before started", func(r *Run) {
			a, b := time.Date(2026, 11, 30, 10, 0, 1, 0, time.UTC), time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
			r.Started, r.Ended = &a, &b
		}, "ended 2026-11-30T10:00:00Z is before started 2026-11-30T10:00:01Z"},
		{"timeline in flight negative", func(r *Run) { r.Timeline = []measure.Interval{{DurationS: 1}, {DurationS: 1, InFlight: -4}} }, "timeline[1]: in_flight -4 is negative"},
		{"timeline errors negative", func(r *Run) { r.Timeline = []measure.Interval{{DurationS: 1, Errors: map[string]int64{"timeout": -1}}} }, "timeline[0]: errors.timeout -1 is negative"},
		{"timeline p99 NaN", func(r *Run) {
			r.Timeline = []measure.Interval{{DurationS: 1, LatencyMs: &measure.Quantiles{P99: math.NaN()}}}
		}, "timeline[0]: latency_ms.p99 NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New("test", time.Now())
			f.Runs = []Run{validRun(), validRun()}
			tt.change(&f.Runs[1])
			err := Validate(f)
			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestReadValidates: Read refuses a file with impossible values, naming
// the file, the run and the field.
func TestReadValidates(t *testing.T) {
	f := New("test", time.Now())
	f.Runs = []Run{validRun()}
	path := filepath.Join(t.TempDir(), "results.json")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err != nil {
		t.Fatalf("a valid file: %v", err)
	}
	data, _ := os.ReadFile(path)
	bad := strings.Replace(string(data), `"sent": 300`, `"sent": -5`, 1)
	if bad == string(data) {
		t.Fatalf("no sent count in %s", data)
	}
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path+": run 0 (a): counts.sent -5 is negative") {
		t.Errorf("err = %v", err)
	}
}

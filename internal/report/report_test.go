package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

func sample() *result.File {
	f := result.New("test", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	f.Complete = true
	dep := result.Deployment{Name: "nim-grpc", Protocol: "kserve-grpc", URL: "127.0.0.1:8001", Model: "yolov8n"}
	f.Runs = []result.Run{
		{Deployment: dep, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1, Requests: 50}, Status: result.StatusOK,
			Warmup: result.Warmup{Attempted: 5, Succeeded: 5}, Counts: result.Counts{Sent: 50, OK: 50},
			ThroughputRPS: 120.5, LatencyMs: measure.Latency{P50: 8.1, P90: 8.5, P95: 8.7, P99: 9.2, P999: 9.9},
			Assessment: result.Assessment{ErrorBand: "excellent", LatencyVsBaselineP50: 1}},
		{Deployment: dep, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 64, Requests: 500}, Status: result.StatusOK,
			Warmup: result.Warmup{Attempted: 10, Succeeded: 7}, Counts: result.Counts{Sent: 500, OK: 300, Errors: 200}, ErrorRate: 0.4,
			ThroughputRPS: 150, LatencyMs: measure.Latency{P50: 80, P99: 400},
			Errors:     []measure.ErrorGroup{{Class: "timeout", Count: 200, Example: "deadline | exceeded"}},
			Assessment: result.Assessment{ErrorBand: "poor", LatencyVsBaselineP50: 9.88, Notes: []string{"error rate poor: too many errors: reduce concurrency"}}},
		{Deployment: dep, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 128}, Status: result.StatusFailed,
			Failure: "warmup failed: 0/10 requests succeeded", Warmup: result.Warmup{Attempted: 10}},
	}
	return f
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "text", sample(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "OK, best of 3 levels: nim-grpc at concurrency 1: 120.5 req/s") || !strings.Contains(lines[0], "1 of 3 levels failed") {
		t.Errorf("verdict line: %q", lines[0])
	}
	for _, want := range []string{"120.5 req/s", "8.10 ms", "40.0% poor", "9.88x", "7/10", "failed: warmup failed", "200 x timeout: deadline | exceeded", "note: error rate poor"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	// The table is aligned: every row of it has the same width.
	width := len(lines[2])
	for _, l := range lines[3:5] {
		if len(l) != width {
			t.Errorf("table rows of widths %d and %d:\n%s", width, len(l), out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour without a terminal")
	}
	b.Reset()
	Write(&b, "text", sample(), Options{Color: true})
	if !strings.HasPrefix(b.String(), "\x1b[32m") {
		t.Errorf("no colour on a terminal: %q", b.String()[:20])
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "csv", sample(), Options{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(rows[0]) != len(csvHeader) {
		t.Fatalf("%d rows of %d columns", len(rows), len(rows[0]))
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	if rows[1][col("throughput_rps")] != "120.5" || rows[2][col("error_rate")] != "0.4" || rows[3][col("status")] != "failed" || rows[2][col("latency_p99_ms")] != "400" {
		t.Errorf("rows %v", rows)
	}
}

func TestMarkdownEscapesPipes(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "md", sample(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "**OK, ") || !strings.Contains(out, "| nim-grpc | c=1 | ok |") || !strings.Contains(out, `deadline \| exceeded`) || !strings.Contains(out, "### Operating points") {
		t.Errorf("markdown:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		cells := strings.Split(l, " | ")
		isRun := len(cells) > 2 && (cells[2] == "ok" || cells[2] == "failed")
		if strings.HasPrefix(l, "| nim-grpc") && isRun && strings.Count(l, " | ") != len(header)-1 {
			t.Errorf("row with a stray column separator: %s", l)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "xml", sample(), Options{}); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("err = %v", err)
	}
}

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

// trialFile has 3 trials of c=1 against two deployments (5 and 6 ms),
// and two thresholds.
func trialFile() *result.File {
	f := &result.File{Schema: result.Schema, Complete: true}
	for trial := 1; trial <= 3; trial++ {
		for _, d := range []struct {
			name string
			ms   float64
		}{{"a", 5}, {"b", 6}} {
			h := measure.NewHistogram()
			for i := range 100 {
				h.Record(time.Duration((d.ms + float64(i%10)/10 + float64(trial)/20) * float64(time.Millisecond)))
			}
			f.Runs = append(f.Runs, result.Run{Step: "c=1", Trial: trial, Deployment: result.Deployment{Name: d.name, URL: "u" + d.name, Protocol: "kserve-http"},
				Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1}, Status: result.StatusOK,
				Counts: result.Counts{Sent: 100, OK: 100}, ThroughputRPS: 1000/d.ms + float64(trial), LatencyMs: h.Summary(),
				Histograms: &result.Histograms{Latency: h.MustEncode()}})
		}
	}
	f.Thresholds = []result.Threshold{{Expr: "p99 < 1s"}, {Expr: "p50 < 5.5ms", Deployment: "b"}}
	return f
}

func TestTrialsInReports(t *testing.T) {
	f := trialFile()
	text := render(t, "text", f)
	for _, want := range []string{"TRIALS", "THROUGHPUT SPREAD", "THROUGHPUT 95% CI", "202.0 req/s", "201.0-203.0 req/s", "5.50 ms (5.45-5.55)",
		"95% confidence intervals (docs/statistics.md):", "[t over 3 trials]",
		"Thresholds: 1 of 3 FAILED (exit code 3)", "pass p99 < 1s: a c=1, median of 3 trials: p99 ",
		"FAIL p50 < 5.5ms: b c=1, median of 3 trials: p50 6.", "lowest latency at concurrency 1 (p50): a: 5.", "faster than b (95% CI"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	// One table row per group: the header, two rows.
	table := text[:strings.Index(text, "\n\nComparison")]
	if n := strings.Count(table, "   c=1 "); n != 2 {
		t.Errorf("%d rows of c=1 in the table, want 2 (one per deployment):\n%s", n, table)
	}
	md := render(t, "md", f)
	for _, want := range []string{"| TRIALS |", "### Thresholds: 1 of 3 FAILED (exit code 3)", "- **FAIL** p50 < 5.5ms", "### 95% confidence intervals"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	page := render(t, "html", f)
	for _, want := range []string{`<table id="trials">`, `<ul id="thresholds"><li class="pass">`, `<li class="fail">FAIL p50 &lt; 5.5ms`, "c=1 (trial 3)"} {
		if !strings.Contains(page, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(render(t, "csv", f))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || rows[0][len(rows[0])-1] != "trial" || rows[6][len(rows[6])-1] != "3" {
		t.Errorf("csv: %d rows, want a row per trial with its number:\n%v", len(rows), rows)
	}
	var js bytes.Buffer
	if err := JSON(&js, f); err != nil || !strings.Contains(js.String(), `"trial": 3`) || !strings.Contains(js.String(), `"interval_bound"`) {
		t.Errorf("json: %v", err)
	}
}

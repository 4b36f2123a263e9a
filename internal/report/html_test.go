package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// comparisonFile is a plan's results: three deployments over four steps.
func comparisonFile() *result.File {
	f := result.New("test", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	f.Complete = true
	f.Environment = &result.Environment{Hostname: "ci", OS: "linux", Arch: "amd64", CPUs: 2, GoVersion: "go1.26"}
	f.Plan = &result.PlanInfo{Path: "plan.yaml", Text: "deployments:\n  - name: <nim-grpc>\nsequence: recommended\n"}
	steps := []struct {
		name string
		c    int
	}{{"baseline", 1}, {"realistic", 8}, {"heavy", 16}, {"stress", 32}}
	type perf struct{ thr, p50, errRate float64 }
	deps := map[string][]perf{
		"base-yolo":    {{38, 26, 0}, {40, 200, 0}, {40, 400, 0.02}, {39, 800, 0.12}},
		"nim-grpc":     {{110, 9, 0}, {600, 13, 0}, {800, 20, 0}, {810, 39, 0.01}},
		"nim-batching": {{90, 11, 0}, {500, 16, 0}, {1300, 12, 0}, {2100, 15, 0}},
	}
	for i, s := range steps {
		for _, d := range []string{"base-yolo", "nim-grpc", "nim-batching"} {
			p := deps[d][i]
			f.Runs = append(f.Runs, result.Run{
				Step: s.name, Deployment: result.Deployment{Name: d, Protocol: "kserve-grpc"},
				Load: result.Load{Mode: result.ModeConcurrency, Concurrency: s.c, Requests: 100}, Status: result.StatusOK,
				Counts: result.Counts{Sent: 100, OK: int64(100 * (1 - p.errRate)), Errors: int64(100 * p.errRate)}, ErrorRate: p.errRate,
				ThroughputRPS: p.thr, LatencyMs: measure.Latency{P50: p.p50, P99: p.p50 * 1.5},
				Assessment: result.Assessment{ErrorBand: "excellent", LatencyVsBaselineP50: p.p50 / deps[d][0].p50},
			})
		}
	}
	return f
}

func TestHTMLIsSelfContainedAndCarriesTheData(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "html", comparisonFile(), Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// No fetches: no external URL in any src or href, no @import.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page fetches something: %s", m)
	}
	if strings.Contains(page, "@import") || strings.Contains(page, "url(") {
		t.Errorf("the style loads something")
	}
	// Every throughput point is in the throughput chart, as data.
	for _, want := range []string{`data-series="nim-batching" data-x="32" data-y="2100"`, `data-series="base-yolo" data-x="1" data-y="38"`, `data-series="nim-grpc p99" data-x="16" data-y="30"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks point %s", want)
		}
	}
	if got := strings.Count(page, `class="pt"`); got != 12+24+12 {
		t.Errorf("%d points, want 48 (12 throughput, 24 latency, 12 latency vs throughput)", got)
	}
	if got := strings.Count(page, `class="bar"`); got != 12 {
		t.Errorf("%d error bars, want 12", got)
	}
	for _, want := range []string{`id="verdict"`, "highest throughput within limits", `id="recommendations"`, "&lt;nim-grpc&gt;", `id="environment"`, "go1.26"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The SVG is well-formed XML.
	for _, svg := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1) {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("malformed SVG: %v", err)
				}
				break
			}
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tt := range []struct {
		max  float64
		want string
	}{{100, "[0 20 40 60 80 100]"}, {7, "[0 2 4 6 8]"}, {0, "[0 0.2 0.4 0.6 0.8 1]"}, {2000, "[0 500 1000 1500 2000]"}, {2100, "[0 500 1000 1500 2000 2500]"}} {
		if got := fmt.Sprint(niceTicks(tt.max, 5)); got != tt.want {
			t.Errorf("niceTicks(%v) = %s, want %s", tt.max, got, tt.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	for _, tt := range []struct {
		min, max float64
		want     string
	}{{9, 1200, "[5 10 20 50 100 200 500 1000 2000]"}, {0.3, 4, "[0.2 0.5 1 2 5]"}, {10, 10, "[10]"}} {
		if got := fmt.Sprint(logTicks(tt.min, tt.max)); got != tt.want {
			t.Errorf("logTicks(%v, %v) = %s, want %s", tt.min, tt.max, got, tt.want)
		}
	}
}

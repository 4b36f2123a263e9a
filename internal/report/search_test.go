package report

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// sweepFile is what `inferbench sweep` writes for two deployments: a
// concurrency search that bisected to a queue limit, and a rate search
// with an SLO.
func sweepFile() *result.File {
	f := result.New("test", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	f.Complete = true
	obj := result.SearchObjective{MaxErrorRate: 0.05, MaxLatencyRatio: 2}
	qd := result.Deployment{Name: "queue-limited", Protocol: "kserve-http"}
	type lv struct {
		c             int
		thr, p50, err float64
		stable        bool
		phase         string
	}
	path := []lv{{1, 49, 20.5, 0, true, "baseline"}, {2, 98, 20.5, 0, true, "rise"}, {4, 196, 20.5, 0, true, "rise"}, {8, 390, 20.4, 0, true, "rise"},
		{16, 760, 20.6, 0, true, "rise"}, {32, 420, 21.5, 0.87, false, "rise"}, {23, 480, 21, 0.83, false, "bisect"}, {19, 750, 20.5, 0, true, "bisect"},
		{21, 14, 22.7, 0.73, false, "bisect"}, {20, 741, 20.8, 0, true, "bisect"}}
	se := result.Search{Deployment: qd, Mode: result.ModeConcurrency, Objective: obj, MaxConcurrency: 64, Status: result.SearchComplete,
		End: "bisected", Reason: "the limit lies between 20 and 21", MaxUsefulConcurrency: 16, RecommendedRange: []float64{16, 16},
		Notes: []string{"3 of 10 levels did not settle ([c=32 c=23 c=21]): their numbers are less certain"}}
	for _, l := range path {
		st := &result.Stability{Stable: l.stable, Windows: 3, WindowRequests: 50, ThroughputSpread: 0.04, P50Spread: 0.01}
		f.Runs = append(f.Runs, result.Run{Deployment: qd, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: l.c}, Status: result.StatusOK,
			Counts: result.Counts{Sent: 200, OK: int64(200 * (1 - l.err)), Errors: int64(200 * l.err)}, ErrorRate: l.err, ThroughputRPS: l.thr,
			LatencyMs: measure.Latency{P50: l.p50, P99: 2 * l.p50}, Stability: st, Assessment: result.Assessment{ErrorBand: "excellent"}})
		p := result.OperatingPoint{Concurrency: l.c, ThroughputRPS: l.thr, P50Ms: l.p50, P99Ms: 2 * l.p50, ErrorRate: l.err, Stable: l.stable}
		se.Path = append(se.Path, result.SearchStep{OperatingPoint: p, Phase: l.phase, Passed: l.err <= 0.05})
		switch l.c {
		case 1:
			se.Baseline = &p
		case 16:
			se.SweetSpot = &p
		case 21:
			se.BreakingPoint = &p
		}
	}
	rd := result.Deployment{Name: "four-instances", Protocol: "kserve-grpc"}
	rs := result.Search{Deployment: rd, Mode: result.ModeRate, Objective: result.SearchObjective{MaxErrorRate: 0.05, MaxLatencyRatio: 2, SLO: "p99<=50ms"},
		MaxConcurrency: 64, MaxRate: 6000, Status: result.SearchComplete, End: "bisected", Reason: "the limit lies between 336.3 and 366.8",
		Baseline: &result.OperatingPoint{Concurrency: 1, ThroughputRPS: 94, P50Ms: 10.7, P99Ms: 12, Stable: true}, MaxUsefulRate: 400,
		RecommendedRange: []float64{282.8, 336.3}, Notes: []string{}}
	for i, r := range []float64{100, 200, 400, 282.8, 336.3, 366.8} {
		p99 := 20 + 30*r/366.8
		p := result.OperatingPoint{Rate: r, ThroughputRPS: r * 0.98, P50Ms: 11, P99Ms: p99, Stable: i != 2}
		f.Runs = append(f.Runs, result.Run{Deployment: rd, Load: result.Load{Mode: result.ModeRate, Rate: r, Arrival: "poisson"}, Status: result.StatusOK,
			Counts: result.Counts{Sent: 300, OK: 300}, ThroughputRPS: p.ThroughputRPS, LatencyMs: measure.Latency{P50: 11, P99: p99},
			Stability: &result.Stability{Stable: p.Stable, Windows: 3}, ServiceTimeMs: &measure.Latency{P50: 10}})
		se := result.SearchStep{OperatingPoint: p, Phase: "bisect", Passed: p99 <= 50}
		rs.Path = append(rs.Path, se)
		if r == 336.3 {
			rs.SweetSpot = &p
		}
		if r == 366.8 {
			rs.BreakingPoint = &p
		}
	}
	f.Searches = []result.Search{se, rs}
	return f
}

func render(t *testing.T, format string, f *result.File) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, format, f, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSearchesInText(t *testing.T) {
	out := render(t, "text", sweepFile())
	for _, want := range []string{
		"Sweet spots (measured by search; objective: errors <= 5%, p50 <= 2x baseline):",
		"queue-limited   20.50 ms      c=16",
		"760.0 req/s",
		"c=21 (73% errors, p99 45.40 ms)",
		"10 (3 unstable)",
		"four-instances  10.70 ms      336.3/s",
		"282.8-336.3/s",
		"four-instances search (rate; objective errors <= 5%, p50 <= 2x baseline, p99<=50ms):",
		"path: 1. c=1 49.0 req/s (ok); 2. c=2 98.0 req/s (ok)",
		"6. c=32 420.0 req/s (miss, unstable)",
		"the limit lies between 20 and 21",
		"NO (3)", "yes (3)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Operating points (measured)") {
		t.Errorf("the operating-point estimate shows beside the searches' measured recommendation:\n%s", out)
	}
}

func TestSearchesInMarkdown(t *testing.T) {
	out := render(t, "md", sweepFile())
	for _, want := range []string{"### Sweet spots (measured by search)", "| DEPLOYMENT | BASELINE P50 | SWEET SPOT |", "| queue-limited | 20.50 ms | c=16 | 760.0 req/s |",
		"- **four-instances** (rate; objective errors <= 5%, p50 <= 2x baseline, p99<=50ms): 1. 100/s", "| STABLE |"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| queue-limited | 20.50") && strings.Count(l, " | ") != len(searchHeader)-1 {
			t.Errorf("searches row with a stray column: %s", l)
		}
	}
}

func TestSearchesInCSV(t *testing.T) {
	r := csv.NewReader(strings.NewReader(render(t, "csv", sweepFile())))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	runs := 16
	if len(rows) != 1+runs+1+2 || rows[1+runs][0] != "search_deployment" {
		t.Fatalf("%d rows; row %d: %v", len(rows), 1+runs, rows[min(1+runs, len(rows)-1)])
	}
	col := func(header []string, name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	if got := rows[1][col(rows[0], "stable")]; got != "true" || rows[6][col(rows[0], "stable")] != "false" || rows[1][col(rows[0], "stability_windows")] != "3" {
		t.Errorf("stability columns: %v", rows[1])
	}
	sh, q, rate := rows[1+runs], rows[2+runs], rows[3+runs]
	if len(sh) != len(searchCSVHeader) || q[col(sh, "sweet_spot_concurrency")] != "16" || q[col(sh, "breaking_point_concurrency")] != "21" ||
		q[col(sh, "recommended_low")] != "16" || q[col(sh, "unstable_levels")] != "3" || rate[col(sh, "sweet_spot_rate")] != "336.3" || rate[col(sh, "slo")] != "p99<=50ms" {
		t.Errorf("searches table:\n%v\n%v\n%v", sh, q, rate)
	}
}

func TestSearchesInHTML(t *testing.T) {
	page := render(t, "html", sweepFile())
	for _, want := range []string{`id="searches"`, `id="chart-search-0"`, `id="chart-search-1"`, "Search path: queue-limited", "arrival rate (req/s, log scale)",
		`data-series="queue-limited" data-order="6" data-x="32" data-y="420"`, `data-series="four-instances" data-order="5" data-x="336.3"`,
		`<th>stable</th>`, "the limit lies between 20 and 21"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Each search chart numbers its points in the order measured, and
	// circles the sweet spot once.
	search := regexp.MustCompile(`(?s)<figure class="chart" id="chart-search-0">.*?</figure>`).FindString(page)
	if n := strings.Count(search, `class="pt"`); n != 10 {
		t.Errorf("%d points in the first search's chart, want 10", n)
	}
	if n := strings.Count(search, `class="num"`); n != 10 || strings.Count(search, `class="spot"`) != 1 {
		t.Errorf("%d numbers, %d spots", n, strings.Count(search, `class="spot"`))
	}
	// The path is drawn in measurement order: 16 -> 32 -> 23, not sorted.
	d := regexp.MustCompile(`<path class="line" d="([^"]+)"`).FindStringSubmatch(search)
	if d == nil || len(strings.Fields(d[1])) != 20 {
		t.Fatalf("path %v", d)
	}
	tokens := strings.Fields(d[1])
	x := func(i int) float64 { // the x of the i-th point of the path
		v, _ := strconv.ParseFloat(strings.TrimLeft(tokens[2*i], "ML"), 64)
		return v
	}
	if !(x(4) < x(5) && x(6) < x(5)) { // c=16, then 32, then 23
		t.Errorf("the path is not in the order measured: %v", tokens)
	}
	// Rings for the levels that missed the objective.
	if n := strings.Count(search, `fill="#fff"`); n != 3 {
		t.Errorf("%d rings, want 3 (c=32, 23, 21)", n)
	}
}

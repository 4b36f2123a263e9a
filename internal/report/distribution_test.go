package report

import (
	"bytes"
	"encoding/csv"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

var update = flag.Bool("update", false, "rewrite the v2 goldens of testdata")

// v2Stall is a result file of inferbench.result/v2, written by `inferbench
// run` (testdata/v2-stall.json's plan) against two reference servers:
//
//	common="--emulator instances --instances 4 --service-time 8ms --jitter lognormal:0.25 --model tiny --input INPUT0:FP32:16 --output OUTPUT0:FP32:16"
//	inferbench serve $common --http-addr 127.0.0.1:18100 --grpc-addr "" --metrics-addr "" &
//	inferbench serve $common --http-addr "" --grpc-addr 127.0.0.1:18111 --metrics-addr "" --stall-at 11500ms --stall-for 1500ms --seed 7 &
//	inferbench run plan.yaml -o out --quiet
//
// The stalling server froze 4.8 s into its busy run: that run's timeline
// shows the stall, and the throughput of its last third fell.
const v2Stall = "v2-stall"

// TestV2FileRendersAsGolden: a v2 file's reports (text, Markdown, CSV,
// HTML, and the text with --percentiles) are those of testdata; -update
// rewrites them.
func TestV2FileRendersAsGolden(t *testing.T) {
	f := readFixture(t, v2Stall)
	for _, tc := range []struct {
		format, golden string
		opts           Options
	}{
		{"text", "text", Options{}},
		{"md", "md", Options{}},
		{"csv", "csv", Options{}},
		{"html", "html", Options{}},
		{"text", "percentiles.text", Options{Percentiles: []float64{50, 99, 99.9, 99.99, 100}}},
	} {
		var b bytes.Buffer
		if err := Write(&b, tc.format, f, tc.opts); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", v2Stall+"."+tc.golden+".golden")
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != string(want) {
			t.Errorf("%s differs from %s (go test -run TestV2FileRendersAsGolden -update rewrites it):\n%s", tc.format, path, firstDiff(got, string(want)))
		}
	}
}

func TestParsePercentiles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []float64
		err  string // part of the error; "" for none
	}{
		{"50,90,99,99.9,99.99", []float64{50, 90, 99, 99.9, 99.99}, ""},
		{"99.9, 50 ,90,50", []float64{50, 90, 99.9}, ""},
		{"100", []float64{100}, ""},
		{"0.001,99.999%", []float64{0.001, 99.999}, ""},
		{"0", nil, `percentile "0" is not in (0, 100]`},
		{"50,100.5", nil, `percentile "100.5" is not in (0, 100]`},
		{"-1", nil, `"-1" is not in`},
		{"NaN", nil, `"NaN" is not in`},
		{"+Inf", nil, `"+Inf" is not in`},
		{"50,p99", nil, `percentile "p99" is not a number`},
		{"50,,90", nil, `an empty percentile in "50,,90"`},
		{"", nil, "an empty percentile"},
	} {
		got, err := ParsePercentiles(tc.in)
		if tc.err == "" {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ParsePercentiles(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParsePercentiles(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

// TestPercentilesFromTheHistogramAreTheStoredOnes: the default percentiles
// asked for again are computed from each run's histogram, and equal the
// stored ones, so the table is the default one.
func TestPercentilesFromTheHistogramAreTheStoredOnes(t *testing.T) {
	f := readFixture(t, v2Stall)
	for i := range f.Runs {
		r := &f.Runs[i]
		vals, ok, why := runPercentiles(r, []float64{50, 90, 95, 99, 99.9, 100})
		l := r.LatencyMs
		if why != "" || !slices.Equal(ok, []bool{true, true, true, true, true, true}) || !slices.Equal(vals, []float64{l.P50, l.P90, l.P95, l.P99, l.P999, l.Max}) {
			t.Errorf("run %d: %v %v %q, stored %+v", i, vals, ok, why, l)
		}
		// Not the stored ones: a histogram gives any percentile.
		r.LatencyMs = measure.Latency{}
		if vals, _, _ := runPercentiles(r, []float64{50, 99.99}); vals[0] == 0 || vals[1] < vals[0] {
			t.Errorf("run %d: percentiles %v not from its histogram", i, vals)
		}
	}
	runsTable := regexp.MustCompile(`(?s)<table id="runs">.*?</table>`)
	for _, format := range []string{"text", "md", "csv", "html"} {
		var def, asked bytes.Buffer
		Write(&def, format, readFixture(t, v2Stall), Options{})
		Write(&asked, format, readFixture(t, v2Stall), Options{Percentiles: []float64{50, 90, 95, 99, 99.9}})
		got, want := asked.String(), def.String()
		if format == "html" { // the distribution charts' dots follow the percentiles asked for
			got, want = runsTable.FindString(got), runsTable.FindString(want)
		}
		if got != want || got == "" {
			t.Errorf("%s: the default percentiles asked for give another report:\n%s", format, firstDiff(got, want))
		}
	}
}

// TestPercentilesOfAV1File: a v1 run shows the percentiles it stored and
// n/a for the others, with a footnote in every table format.
func TestPercentilesOfAV1File(t *testing.T) {
	opts := Options{Percentiles: []float64{50, 99.99, 100}}
	f := readFixture(t, "v1-demo")
	text := renderWith(t, "text", f, opts)
	if !regexp.MustCompile(`P50 +P99.99 +P100 +P50 VS BASE`).MatchString(text) || !strings.Contains(text, "n/a: runs of a file without histograms (inferbench.result/v1) keep only p50") {
		t.Errorf("text:\n%s", text)
	}
	first := f.Runs[0]
	want := regexp.QuoteMeta(ms(first.LatencyMs.P50)) + " +n/a +" + regexp.QuoteMeta(ms(first.LatencyMs.Max))
	if !regexp.MustCompile(want).MatchString(text) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
	if md := renderWith(t, "md", f, opts); !strings.Contains(md, "| P50 | P99.99 | P100 | P50 VS BASE |") || !strings.Contains(md, "\n_n/a: runs of a file") {
		t.Errorf("markdown:\n%s", md)
	}
	if page := renderWith(t, "html", f, opts); !strings.Contains(page, "<th>p99.99</th>") || !strings.Contains(page, `<p class="meta footnote">n/a: runs`) {
		t.Errorf("html lacks the column or the footnote")
	}
	rows, err := csv.NewReader(strings.NewReader(renderWith(t, "csv", f, opts))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0][csvLatencyFrom-1 : csvLatencyFrom+4]; !slices.Equal(got, []string{"latency_stddev_ms", "latency_p50_ms", "latency_p9999_ms", "latency_p100_ms", "latency_max_ms"}) {
		t.Errorf("csv columns %v", got)
	}
	if got := rows[1][csvLatencyFrom : csvLatencyFrom+3]; got[0] != strconv.FormatFloat(first.LatencyMs.P50, 'f', -1, 64) || got[1] != "" || got[2] != strconv.FormatFloat(first.LatencyMs.Max, 'f', -1, 64) {
		t.Errorf("csv cells %v", got)
	}
	for _, row := range rows[1:] {
		if len(row) != len(rows[0]) && len(row) > 1 && row[0] != "" {
			t.Errorf("a row of %d cells under %d columns", len(row), len(rows[0]))
			break
		}
	}
	// The default CSV columns are where csvColumns replaces them.
	if got := csvHeader[csvLatencyFrom:csvLatencyTo]; !slices.Equal(got, []string{"latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms", "latency_p999_ms"}) {
		t.Errorf("csvHeader[%d:%d] = %v", csvLatencyFrom, csvLatencyTo, got)
	}
	if got := header[latencyFrom:latencyTo]; !slices.Equal(got, []string{"P50", "P90", "P95", "P99", "P99.9"}) {
		t.Errorf("header[%d:%d] = %v", latencyFrom, latencyTo, got)
	}
}

// TestAFailedRunKeepsItsColumns: a failed run's row has a dash per asked
// percentile, so the table stays aligned.
func TestAFailedRunKeepsItsColumns(t *testing.T) {
	f := sample()
	opts := Options{Percentiles: []float64{50, 99.99}}
	for _, r := range f.Runs {
		if got, want := len(row(&r, opts.Percentiles)), len(tableHeader(opts.Percentiles)); got != want {
			t.Errorf("%s: %d cells, %d columns", r.Status, got, want)
		}
	}
}

func renderWith(t *testing.T, format string, f *result.File, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, format, f, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestV2Charts: the page of a v2 file draws a distribution chart per step
// and over-time panels per run, the stall shaded where the analysis puts it.
func TestV2Charts(t *testing.T) {
	f := readFixture(t, v2Stall)
	page := renderWith(t, "html", f, Options{})
	for i, want := range []string{"light", "busy", "open"} {
		if !strings.Contains(page, `id="chart-distribution-`+strconv.Itoa(i)+`"`) || !strings.Contains(page, "Latency distribution: "+want) {
			t.Errorf("no distribution chart %d for step %s", i, want)
		}
	}
	if strings.Contains(page, "chart-distribution-3") {
		t.Errorf("more distribution charts than steps")
	}
	// Dots at the default percentiles a run's spectrum reaches: its last
	// point is where less than one request is left above it, so the light
	// run's 341 answers reach p99 but not p99.9, the busy run's 2,630 p99.9
	// but not p99.99.
	for mark, want := range map[string]int{"50": 2, "99": 2, "99.9": 1, "99.99": 0} {
		if got := strings.Count(page, `data-series="stalls" data-x="`+mark+`"`); got != want {
			t.Errorf("%d p%s dots of stalls, want %d", got, mark, want)
		}
	}
	for i := range f.Runs {
		id := `id="chart-timeline-` + strconv.Itoa(i) + `"`
		if !strings.Contains(page, id) {
			t.Errorf("no over-time chart for run %d", i)
		}
	}
	figure := regexp.MustCompile(`(?s)<figure class="chart" id="chart-timeline-2">.*?</figure>`).FindString(page)
	if !strings.Contains(figure, `class="stall"`) || !strings.Contains(figure, `data-at="4.8" data-for="1.5"`) || !strings.Contains(figure, "throughput drifted −74%") {
		t.Errorf("the stalled run's figure lacks its stall or drift:\n%.2000s", figure)
	}
	if got := strings.Count(page, `class="stall"`); got != 1 {
		t.Errorf("%d stalls shaded, want 1", got)
	}
	// Each run's five series, one point per second of it.
	paths := regexp.MustCompile(`<path class="line tl" [^>]*data-series="([^"]+)" data-n="(\d+)"`).FindAllStringSubmatch(figure, -1)
	var names []string
	for _, p := range paths {
		names = append(names, p[1]+"="+p[2])
	}
	if got := strings.Join(names, " "); got != "successes/s=7 errors/s=7 p50=8 p99=8 in flight=8" {
		t.Errorf("the stalled run's series: %s", got)
	}
	// The stall's second shows in the data: p99 of over a second.
	if !regexp.MustCompile(`data-series="p99"`).MatchString(figure) {
		t.Errorf("no p99 line")
	}
}

func TestDownsample(t *testing.T) {
	var pts []xy
	for i := 0; i < 3600; i++ {
		y := 100 + float64(i%7)
		switch i {
		case 1234:
			y = 5000 // a spike
		case 2345:
			y = 0 // a dip
		case 3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007:
			y = math.NaN() // a gap longer than a bucket
		}
		pts = append(pts, xy{float64(i), y})
	}
	out := downsample(pts, 1000)
	if len(out) > 1000 || len(out) < 800 {
		t.Fatalf("%d points from 3600, want at most 1000", len(out))
	}
	var spike, dip, gap bool
	for i, p := range out {
		if i > 0 && p.x <= out[i-1].x {
			t.Fatalf("points out of order at %d: %v after %v", i, p, out[i-1])
		}
		spike = spike || p.y == 5000
		dip = dip || p.y == 0
		gap = gap || math.IsNaN(p.y)
	}
	if !spike || !dip || !gap {
		t.Errorf("spike %v, dip %v, gap %v: each must survive", spike, dip, gap)
	}
	if short := pts[:600]; len(downsample(short, 1000)) != 600 {
		t.Errorf("600 points are drawn as they are")
	}
}

// TestSpectrumAxis: the ticks are 0%, 90%, 99%, ... to the first at or
// past the data's last percentile, at 0, 1, 2, ... on the axis.
func TestSpectrumAxis(t *testing.T) {
	a := spectrumAxis(99.95)
	var labels []string
	for i, tk := range a.ticks {
		labels = append(labels, tk.label)
		if x := a.transform(tk.v); math.Abs(x-float64(i)) > 1e-9 {
			t.Errorf("tick %s at %v, want %d", tk.label, x, i)
		}
	}
	if got := strings.Join(labels, " "); got != "0% 90% 99% 99.9% 99.99%" {
		t.Errorf("ticks %s", got)
	}
}

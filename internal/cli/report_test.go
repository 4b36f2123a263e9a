package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/session"
)

// TestReportNamesAStall: a bench against a model that freezes for a second
// (the reference server's --stall-at 2500ms --stall-for 1s) keeps the
// stall in its timeline; `report` names it in the text, shades it in the
// HTML, and gives any percentile from the histogram.
func TestReportNamesAStall(t *testing.T) {
	spec := reftest.Small("m", refserver.NewInstances(4, 5*time.Millisecond))
	spec.Faults.StallAt, spec.Faults.StallFor = 2500*time.Millisecond, time.Second
	srv := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	dir := t.TempDir()
	results := filepath.Join(dir, "r.json")
	ctx := context.Background()
	if _, log, err := runCLI(ctx, "bench", "--url", urlFor(srv, protocol.KServeHTTP), "--model", "m", "-c", "4", "-d", "6s",
		"--quiet", "--results", results); err != nil {
		t.Fatalf("bench: %v\n%s", err, log)
	}
	out, _, err := runCLI(ctx, "report", results)
	if err != nil {
		t.Fatal(err)
	}
	// The pod started before the measured phase, so the stall began at
	// most 2.5 s into it; it lasted a second, longer on a busy machine.
	m := regexp.MustCompile(`note: stall: no answer for ([\d.]+) s at ([\d.]+) s into the run with (\d+) requests? in flight`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the text report does not name the stall:\n%s", out)
	}
	length, _ := strconv.ParseFloat(m[1], 64)
	at, _ := strconv.ParseFloat(m[2], 64)
	if length < 1 || length > 4 || at < 0 || at > 2.6 || m[3] == "0" {
		t.Errorf("stall of %v s at %v s with %s in flight: want 1..4 s, at 0..2.6 s, some in flight", length, at, m[3])
	}
	page := filepath.Join(dir, "r.html")
	if _, _, err := runCLI(ctx, "report", results, "--format", "html", "-o", page); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `id="chart-timeline-0"`) || !strings.Contains(string(html), `<rect class="stall"`) ||
		!strings.Contains(string(html), `id="chart-distribution-0"`) {
		t.Errorf("the HTML report lacks the timeline, the shaded stall or the distribution")
	}
	out, _, err = runCLI(ctx, "report", results, "--percentiles", "99.99,50")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`P50 +P99.99 +P50 VS BASE`).MatchString(out) || strings.Contains(out, "n/a") {
		t.Errorf("--percentiles 99.99,50:\n%s", out)
	}
}

// TestReportRefusesBadPercentiles: exit code 2 and the bad value named.
func TestReportRefusesBadPercentiles(t *testing.T) {
	for _, bad := range []string{"50,abc", "0", "100.1", "50,,90"} {
		_, _, err := runCLI(context.Background(), "report", "no-such-file.json", "--percentiles", bad)
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "--percentiles") {
			t.Errorf("--percentiles %q: %v, want exit code 2", bad, err)
			continue
		}
		want := strings.Split(bad, ",")[len(strings.Split(bad, ","))-1]
		if bad == "50,,90" {
			want = `"50,,90"`
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("--percentiles %q: %v does not name the bad value", bad, err)
		}
	}
}

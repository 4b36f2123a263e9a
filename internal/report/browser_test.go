//go:build browser

// The HTML report in a real browser: Debian's chromium, headless. Run by
// scripts/test.sh (which installs chromium) as
// go test -tags browser -run Browser ./internal/report/.

package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium finds the browser.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: apt-get install chromium (scripts/test.sh does)")
	return ""
}

// headless runs chromium on a file with the flags this closed network needs.
func headless(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"}
	cmd := exec.CommandContext(ctx, chromium(t), append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

func TestBrowserLoadsTheReport(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, comparisonFile()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, log := headless(t, "--dump-dom", "file://"+page)
	// The page logs nothing: any console line is a problem.
	if m := regexp.MustCompile(`CONSOLE.*`).FindString(log); m != "" {
		t.Errorf("console output: %s", m)
	}
	if tag := regexp.MustCompile(`<html[^>]*>`).FindString(dom); strings.Contains(tag, "data-errors") {
		t.Errorf("the page recorded script errors: %s", tag)
	}
	// The page's script counted the chart marks once the DOM was built:
	// 48 points and 12 bars.
	if !strings.Contains(dom, `data-points="60"`) {
		t.Errorf("the browser's DOM does not hold the 60 chart marks: %s", regexp.MustCompile(`<html[^>]*>`).FindString(dom))
	}
	if !strings.Contains(dom, `data-series="nim-batching" data-x="32" data-y="2100"`) {
		t.Errorf("the throughput chart lacks the batching deployment's point at c=32")
	}
	// A screenshot renders (the README's picture is made the same way).
	shot := filepath.Join(dir, "report.png")
	headless(t, "--screenshot="+shot, "--window-size=1400,1800", "--hide-scrollbars", "file://"+page)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot: %v", err)
	}
}

// TestBrowserLoadsASweepReport: the searches' path charts parse and render
// in a real browser: every point and bar of the page is in its DOM.
func TestBrowserLoadsASweepReport(t *testing.T) {
	page := filepath.Join(t.TempDir(), "sweep.html")
	var b bytes.Buffer
	if err := HTML(&b, sweepFile()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	marks := strings.Count(b.String(), `class="pt"`) + strings.Count(b.String(), `class="bar"`)
	dom, log := headless(t, "--dump-dom", "file://"+page)
	if m := regexp.MustCompile(`CONSOLE.*`).FindString(log); m != "" {
		t.Errorf("console output: %s", m)
	}
	tag := regexp.MustCompile(`<html[^>]*>`).FindString(dom)
	if strings.Contains(tag, "data-errors") || !strings.Contains(tag, fmt.Sprintf(`data-points="%d"`, marks)) {
		t.Errorf("the browser's DOM does not hold the page's %d chart marks, or recorded errors: %s", marks, tag)
	}
	if !strings.Contains(dom, `id="chart-search-1"`) || !strings.Contains(dom, `data-order="6" data-x="32"`) {
		t.Errorf("the search charts are missing from the DOM")
	}
}

// TestBrowserLoadsAV2Report: the distribution and over-time charts of a
// v2 file (a real run with a stall) parse and render in a real browser:
// their dots, lines and the shaded stall are in its DOM, and the page
// logs no error.
func TestBrowserLoadsAV2Report(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "v2.html")
	var b bytes.Buffer
	if err := Write(&b, "html", readFixture(t, v2Stall), Options{Percentiles: []float64{50, 90, 99, 99.9}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	src := b.String()
	marks := strings.Count(src, `class="pt"`) + strings.Count(src, `class="bar"`)
	dom, log := headless(t, "--dump-dom", "file://"+page)
	if m := regexp.MustCompile(`CONSOLE.*`).FindString(log); m != "" {
		t.Errorf("console output: %s", m)
	}
	tag := regexp.MustCompile(`<html[^>]*>`).FindString(dom)
	if strings.Contains(tag, "data-errors") || !strings.Contains(tag, fmt.Sprintf(`data-points="%d"`, marks)) {
		t.Errorf("the browser's DOM does not hold the page's %d chart marks, or recorded errors: %s", marks, tag)
	}
	// The distribution charts: one per step (light, busy, open), a line
	// and dots per deployment: 2 + 2 + 1 lines; dots at p50, p90 and p99
	// for all five runs, p99.9 for the two of more than 1,000 answers.
	charts := regexp.MustCompile(`(?s)<figure class="chart" id="chart-distribution-\d+">.*?</figure>`).FindAllString(dom, -1)
	if len(charts) != 3 {
		t.Fatalf("%d distribution charts in the DOM, want 3", len(charts))
	}
	lines, dots := 0, 0
	for _, c := range charts {
		lines += strings.Count(c, `<path class="line"`)
		dots += strings.Count(c, `class="pt"`)
	}
	if lines != 5 || dots != 5*3+2 {
		t.Errorf("distribution charts: %d lines and %d dots, want 5 and 17", lines, dots)
	}
	// Over time: a figure per run, five series each, one point per second
	// (rates: the seconds of at least half a second), the stall shaded once.
	figures := regexp.MustCompile(`(?s)<figure class="chart" id="chart-timeline-\d+">.*?</figure>`).FindAllString(dom, -1)
	if len(figures) != 5 {
		t.Fatalf("%d over-time figures in the DOM, want 5", len(figures))
	}
	points := 0
	for _, fig := range figures {
		paths := regexp.MustCompile(`<path class="line tl" [^>]*data-n="(\d+)"`).FindAllStringSubmatch(fig, -1)
		if len(paths) != 5 {
			t.Errorf("an over-time figure with %d series, want 5", len(paths))
		}
		for _, p := range paths {
			n, _ := strconv.Atoi(p[1])
			points += n
		}
	}
	if points < 5*5*3 {
		t.Errorf("%d points over time, want at least 3 per series", points)
	}
	if got := regexp.MustCompile(`<rect class="stall"[^>]*data-at="4.8" data-for="1.5"`).FindAllString(dom, -1); len(got) != 1 {
		t.Errorf("the stall is shaded %d times in the DOM, want once", len(got))
	}
	shot := filepath.Join(dir, "v2.png")
	headless(t, "--screenshot="+shot, "--window-size=1400,4000", "--hide-scrollbars", "file://"+page)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot: %v", err)
	}
}

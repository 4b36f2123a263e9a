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

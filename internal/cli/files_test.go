package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

func exitCode(err error) int {
	var ee *session.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		return 1
	}
	return 0
}

// TestRunNeverClobbersResults: results already in the output folder are
// not replaced without --force, and --resume takes only the same plan's.
func TestRunNeverClobbersResults(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, time.Millisecond), 0)
	planText := `
deployments:
  - {name: a, protocol: kserve-http, url: "` + urlFor(r, protocol.KServeHTTP) + `", model: m, metrics_url: "off"}
steps:
  - {name: one, concurrency: 1, requests: 10}
`
	planPath := writePlan(t, planText)
	out := filepath.Join(t.TempDir(), "missing", "folder") // made before the load
	if _, log, err := runCLI(context.Background(), "run", planPath, "-o", out, "-q"); err != nil {
		t.Fatalf("first run: %v\n%s", err, log)
	}
	resultsPath := filepath.Join(out, "results.json")
	first, _ := os.ReadFile(resultsPath)

	_, _, err := runCLI(context.Background(), "run", planPath, "-o", out, "-q")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "already holds results (1 runs of "+planPath+"): --resume finishes those runs, --force replaces them") {
		t.Errorf("a second run into the same folder: %v", err)
	}
	if now, _ := os.ReadFile(resultsPath); !bytes.Equal(now, first) {
		t.Error("the results were replaced")
	}

	other := writePlan(t, strings.Replace(planText, "requests: 10", "requests: 12", 1))
	_, _, err = runCLI(context.Background(), "run", other, "-o", out, "-q", "--resume")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "holds the runs of another plan") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("--resume with another plan: %v", err)
	}
	if now, _ := os.ReadFile(resultsPath); !bytes.Equal(now, first) {
		t.Error("the results were changed by a refused --resume")
	}
	if _, log, err := runCLI(context.Background(), "run", other, "-o", out, "-q", "--resume", "--force"); err != nil {
		t.Errorf("--resume --force with another plan: %v\n%s", err, log)
	}
	if _, log, err := runCLI(context.Background(), "run", planPath, "-o", out, "-q", "--force"); err != nil {
		t.Errorf("--force: %v\n%s", err, log)
	}
	if f, err := result.Read(resultsPath); err != nil || len(f.Runs) != 1 || f.Plan.Text != planText {
		t.Errorf("after --force: %v %+v", err, f)
	}
}

// TestBenchOutputPathsCheckedBeforeTheLoad: the result file and report
// paths are checked before anything is sent (the endpoint here is not
// even reachable: a refusal is exit 2, not the endpoint's exit 1).
func TestBenchOutputPathsCheckedBeforeTheLoad(t *testing.T) {
	dir := t.TempDir()
	readOnly := filepath.Join(dir, "ro.json")
	os.WriteFile(readOnly, []byte("{}"), 0o444)
	existing := filepath.Join(dir, "old.json")
	os.WriteFile(existing, []byte("my file"), 0o644)
	dead := []string{"bench", "--url", "http://127.0.0.1:1", "--model", "m", "-n", "5", "-q"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--results", readOnly}, "is read-only"},
		{[]string{"--results", dir}, "is a folder"},
		{[]string{"--results", existing}, "already holds a file that is not a result file"},
		{[]string{"-o", dir}, "is a folder"},
		{[]string{"--results", filepath.Join(readOnly, "x.json")}, "ro.json/x.json: not a directory"},
	} {
		_, _, err := runCLI(context.Background(), append(dead, tt.args...)...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: exit %d, %v; want exit 2 and %q", tt.args, exitCode(err), err, tt.want)
		}
	}
	if data, _ := os.ReadFile(existing); string(data) != "my file" {
		t.Errorf("the existing file was replaced: %q", data)
	}

	// A link is followed: its target holds the results, the link stays;
	// a missing folder is made.
	r := refServer(t, refserver.NewInstances(4, time.Millisecond), 0)
	target := filepath.Join(dir, "store", "results.json")
	os.MkdirAll(filepath.Dir(target), 0o755)
	link := filepath.Join(dir, "latest.json")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	report := filepath.Join(dir, "new", "report.md")
	if _, log, err := runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-n", "5", "-q",
		"--metrics-url", "off", "--results", link, "--format", "md", "-o", report); err != nil {
		t.Fatalf("bench: %v\n%s", err, log)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if f, err := result.Read(target); err != nil || len(f.Runs) != 1 {
		t.Errorf("the link's target: %v", err)
	}
	if _, err := os.Stat(report); err != nil {
		t.Errorf("report: %v", err)
	}
	// Through the link, the results exist: replaced only with --force.
	args := []string{"bench", "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-n", "5", "-q", "--metrics-url", "off", "--results", link, "--format", "csv"}
	if _, _, err := runCLI(context.Background(), args...); exitCode(err) != 2 {
		t.Errorf("bench onto existing results: %v", err)
	}
	if _, _, err := runCLI(context.Background(), append(args, "--force")...); err != nil {
		t.Errorf("bench --force: %v", err)
	}
}

package cli

import (
	"context"
	"errors"
	"fmt"
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

func writePlan(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunPlanComparesAndResumes(t *testing.T) {
	fast := refServer(t, refserver.NewInstances(8, 5*time.Millisecond), 0)
	slow := refServer(t, refserver.NewFIFO(5*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: fast, protocol: kserve-grpc, url: %q, model: m}
  - {name: slow, protocol: kserve-http, url: %q, model: m}
  - {name: gone, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 1, requests: 30}
  - {name: four, concurrency: 4, requests: 120}
`, urlFor(fast, protocol.KServeGRPC), urlFor(slow, protocol.KServeHTTP)))
	out := t.TempDir()

	// Interrupted during the second step: results.json holds every finished run.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(900*time.Millisecond, cancel)
	_, log, err := runCLI(ctx, "run", planPath, "-o", out, "--format", "json")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Fatalf("err = %v, want an interruption; log:\n%s", err, log)
	}
	partial, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if partial.Complete || len(partial.Runs) == 0 || len(partial.Runs) >= 6 || partial.Plan == nil || partial.Environment == nil {
		t.Fatalf("partial results: complete %v, %d runs", partial.Complete, len(partial.Runs))
	}
	if !strings.Contains(log, "Check gone") || !strings.Contains(log, "FAILED: the server at http://127.0.0.1:1 cannot be reached") {
		t.Errorf("the unreachable deployment is not reported:\n%s", log)
	}

	// --resume finishes the rest, without repeating finished runs.
	stdout, log, err := runCLI(context.Background(), "run", planPath, "-o", out, "--resume", "--format", "text")
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, log)
	}
	final, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !final.Complete || len(final.Runs) != 6 {
		t.Fatalf("final: complete %v, %d runs, want 6 (2 steps x 3 deployments)", final.Complete, len(final.Runs))
	}
	seen := map[string]int{}
	for _, r := range final.Runs {
		seen[r.Step+"/"+r.Deployment.Name]++
		switch r.Deployment.Name {
		case "gone":
			if r.Status != result.StatusFailed || !strings.Contains(r.Failure, "failed its check") {
				t.Errorf("gone: %+v", r)
			}
		default:
			if r.Status != result.StatusOK || r.Counts.Sent != int64(r.Load.Requests) {
				t.Errorf("%s %s: status %s, sent %d of %d", r.Step, r.Deployment.Name, r.Status, r.Counts.Sent, r.Load.Requests)
			}
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s ran %d times", k, n)
		}
	}
	if !strings.Contains(log, "done in an earlier run, skipped") || !strings.HasPrefix(stdout, "OK") {
		t.Errorf("resume log:\n%s\nstdout:\n%s", log, stdout)
	}
	for _, name := range []string{"report.md", "report.csv", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The report command re-renders the file.
	md, _, err := runCLI(context.Background(), "report", filepath.Join(out, "results.json"), "--format", "md")
	if err != nil || !strings.Contains(md, "| fast |") {
		t.Errorf("report: %v\n%s", err, md)
	}
}

func TestRunBadPlansExitTwo(t *testing.T) {
	dep := "deployments:\n  - {name: a, protocol: kserve-grpc, url: \"127.0.0.1:1\", model: m}\n"
	for name, text := range map[string]string{
		"missing url":      "deployments:\n  - {name: a, protocol: kserve-grpc, model: m}\nsequence: baseline\n",
		"unknown protocol": "deployments:\n  - {name: a, protocol: soap, url: x, model: m}\nsequence: baseline\n",
		"concurrency 0":    dep + "steps:\n  - {concurrency: 0, requests: 5}\n",
		"negative":         dep + "steps:\n  - {concurrency: -1, requests: 5}\n",
		"duplicate names":  dep + "  - {name: a, protocol: kserve-grpc, url: \"127.0.0.1:2\", model: m}\nsequence: baseline\n",
		"unknown key":      dep + "sequence: baseline\nspeed: fast\n",
		"syntax":           "deployments: [\n",
		"ftp url":          "deployments:\n  - {name: a, protocol: kserve-http, url: \"ftp://h:21\", model: m}\nsequence: baseline\n",
		"url with a space": "deployments:\n  - {name: a, protocol: kserve-http, url: \"http://h :8000\", model: m}\nsequence: baseline\n",
		"grpc url scheme":  "deployments:\n  - {name: a, protocol: kserve-grpc, url: \"http://h:8001\", model: m}\nsequence: baseline\n",
	} {
		path := writePlan(t, text)
		out := t.TempDir()
		_, _, err := runCLI(context.Background(), "run", path, "-o", out)
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want exit code 2 naming %s", name, err, path)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%s: something ran: %v", name, entries)
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	for _, args := range [][]string{{"schema"}, {"schema", "plan"}} {
		out, _, err := runCLI(context.Background(), args...)
		if err != nil || !strings.Contains(out, `"title": "inferbench plan"`) {
			t.Errorf("%v: %v %s", args, err, out[:min(len(out), 80)])
		}
	}
	out, _, err := runCLI(context.Background(), "schema", "result")
	if err != nil || out != string(result.JSONSchema) || !strings.Contains(out, `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Errorf("schema result: %v %s", err, out[:min(len(out), 80)])
	}
	if _, _, err := runCLI(context.Background(), "schema", "results"); err == nil || !strings.Contains(err.Error(), `schema "results": want plan or result`) {
		t.Errorf("schema results: err = %v", err)
	}
}

// TestRunNothingMeasuredExitsOne: a plan whose deployments are all
// unreachable ends with exit code 1, its file and reports written.
func TestRunNothingMeasuredExitsOne(t *testing.T) {
	planPath := writePlan(t, `
deployments:
  - {name: a, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
  - {name: b, protocol: kserve-grpc, url: "127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 1, requests: 5}
`)
	out := t.TempDir()
	_, log, err := runCLI(context.Background(), "run", planPath, "-o", out)
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "no level could be measured") {
		t.Fatalf("err = %v, want exit 1; log:\n%s", err, log)
	}
	if f, err := result.Read(filepath.Join(out, "results.json")); err != nil || len(f.Runs) != 2 {
		t.Errorf("results: %v, %+v", err, f)
	}
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// hostileServer speaks just enough KServe v2 HTTP JSON for model m (x FP32
// [1,4] -> y FP32 [1,8]) to open, answers the first inference, and fails
// every other with a message of its own: distinct each time (a counter
// nothing can normalise away: letters) and full of terminal escape
// sequences and HTML.
func hostileServer(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	mux.HandleFunc("/v2/health/ready", ok)
	mux.HandleFunc("/v2/models/m/ready", ok)
	mux.HandleFunc("/v2/models/m", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"name":"m","platform":"x","inputs":[{"name":"x","datatype":"FP32","shape":[1,4]}],"outputs":[{"name":"y","datatype":"FP32","shape":[1,8]}]}`)
	})
	mux.HandleFunc("/v2/models/m/infer", func(w http.ResponseWriter, _ *http.Request) {
		i := n.Add(1)
		if i == 1 {
			fmt.Fprint(w, `{"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[1,8],"data":[0,0,0,0,0,0,0,0]}]}`)
			return
		}
		word := ""
		for k := i; k > 0; k /= 26 {
			word += string(rune('a' + k%26))
		}
		msg := "fail " + word + " \x1b]0;pwned\x07\x1b[31mred\x1b[2J\u009b1m\nPASS: forged <script>alert(1)</script>"
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// controlAt is the index of the first control character of s other than a
// newline, -1 if there is none.
func controlAt(s string) int {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f })
}

// TestBenchAgainstAHostileServer: a server whose every error message is
// new and carries escape sequences cannot reach the terminal through
// bench's log, its text report or report's renderings, and its 2,000
// distinct messages make a bounded list of groups whose counts add up.
func TestBenchAgainstAHostileServer(t *testing.T) {
	srv := hostileServer(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	out, log, err := runCLI(context.Background(), "bench", "--url", srv.URL, "--protocol", "kserve-http-json", "--model", "m",
		"-c", "4", "-n", "2000", "--warmup", "0", "--results", results)
	// Every measured request failed: nothing was measured, exit code 1,
	// and still a report and a results file.
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("bench: %v, want exit code 1 (no right answer)\n%s", err, log)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": log} {
		if i := controlAt(s); i >= 0 {
			t.Errorf("%s carries control character %q at %d:\n%s", name, s[i], i, s)
		}
		if strings.Contains(s, "\nPASS: forged") {
			t.Errorf("%s: a server's newline forged a line:\n%s", name, s)
		}
	}
	if lines := strings.Count(out, "\n"); lines > 60 {
		t.Errorf("text report of %d lines for 2000 distinct messages", lines)
	}
	f, err := result.Read(results)
	if err != nil {
		t.Fatal(err)
	}
	run := f.Runs[0]
	var sum int64
	for _, g := range run.Errors {
		sum += g.Count
	}
	if run.Counts.Errors != 2000 || sum != 2000 || len(run.Errors) > measure.GroupsPerClass+1 {
		t.Errorf("%d errors in %d groups adding up to %d: want 2000 in at most %d", run.Counts.Errors, len(run.Errors), sum, measure.GroupsPerClass+1)
	}
	for _, format := range []string{"text", "md", "csv"} {
		rendered, _, err := runCLI(context.Background(), "report", results, "--format", format)
		if err != nil {
			t.Fatalf("report %s: %v", format, err)
		}
		if i := controlAt(rendered); i >= 0 {
			t.Errorf("report %s carries control character %q at %d", format, rendered[i], i)
		}
		if format == "md" && (strings.Contains(rendered, "<script") || !strings.Contains(rendered, "&lt;script>")) {
			t.Errorf("markdown carries the server's HTML raw:\n%s", rendered)
		}
	}
}

// TestNumberFlagsRefusedBeforeConnecting: values no run can mean are
// refused with exit code 2, naming the flag and the value, before
// anything is connected to (the server here counts every request).
func TestNumberFlagsRefusedBeforeConnecting(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	base := []string{"bench", "--url", srv.URL, "--model", "m", "-n", "5"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "NaN"}, "--rate NaN: want a finite number"},
		{[]string{"--rate", "Inf"}, "--rate +Inf: want a finite number"},
		{[]string{"--rate", "-5"}, "--rate -5: must not be negative"},
		{[]string{"--warmup", "-5"}, "--warmup -5: must not be negative"},
		{[]string{"--grace", "-1s"}, "--grace -1s: must not be negative"},
		{[]string{"--batch-size", "0"}, "--batch-size 0: need at least 1"},
		{[]string{"--timeout", "-2s"}, "--timeout -2s: must not be negative"},
		{[]string{"--rate", "many"}, `invalid argument "many" for "--rate"`},
	}
	for _, tt := range tests {
		_, _, err := runCLI(context.Background(), append(base, tt.args...)...)
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("bench %v: err = %v, want exit code 2 and %q", tt.args, err, tt.want)
		}
	}
	for _, args := range [][]string{
		{"sweep", "--url", srv.URL, "--model", "m", "--max-error-rate", "NaN"},
		{"sweep", "--url", srv.URL, "--model", "m", "--stability", "+Inf"},
		{"run", "plan.yaml", "--grace", "-1s"},
	} {
		_, _, err := runCLI(context.Background(), args...)
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 {
			t.Errorf("%v: err = %v, want exit code 2", args, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was called %d times: want nothing sent", n)
	}
}

// TestLevelLabelledWithTheConcurrencyUsed: -c 16 -n 5 runs 5 workers at
// most, and the run says c=5, with a note.
func TestLevelLabelledWithTheConcurrencyUsed(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 0), 0)
	f, _, err := benchJSON(t, context.Background(), "--url", "http://"+r.HTTPAddr, "--model", "m", "-c", "16", "-n", "5")
	if err != nil {
		t.Fatal(err)
	}
	run := f.Runs[0]
	if run.Load.Concurrency != 5 || run.Counts.Sent != 5 {
		t.Errorf("concurrency %d, sent %d: want 5 and 5", run.Load.Concurrency, run.Counts.Sent)
	}
	if !strings.Contains(strings.Join(run.Assessment.Notes, "; "), "concurrency 16 was asked for, but 5 requests keep at most 5 in flight") {
		t.Errorf("notes %q", run.Assessment.Notes)
	}
}

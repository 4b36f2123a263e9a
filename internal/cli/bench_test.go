package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// refServer serves a small model m (x FP32 [4] -> y FP32 [8]) on loopback.
func refServer(t *testing.T, em refserver.Emulator, errorRate float64) *refserver.Running {
	t.Helper()
	spec := reftest.Small("m", em)
	spec.ErrorRate, spec.Seed = errorRate, 3
	return reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
}

func urlFor(r *refserver.Running, kind protocol.Kind) string {
	if kind == protocol.KServeGRPC {
		return r.GRPCAddr
	}
	return "http://" + r.HTTPAddr
}

// runCLI runs the command line with a context, returning stdout, stderr and the error.
func runCLI(ctx context.Context, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	root := NewRootCommand(&stdout, &stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return stdout.String(), stderr.String(), err
}

// benchJSON runs bench with --format json and decodes the result.
func benchJSON(t *testing.T, ctx context.Context, args ...string) (*result.File, string, error) {
	t.Helper()
	out, log, err := runCLI(ctx, append([]string{"bench", "--format", "json"}, args...)...)
	var f result.File
	if jerr := json.Unmarshal([]byte(out), &f); jerr != nil {
		t.Fatalf("output is not a result file (%v): %s\nlog: %s\nerr: %v", jerr, out, log, err)
	}
	return &f, log, err
}

func TestBenchInjectedErrors(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 0), 0.2)
	f, _, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-c", "4", "-n", "400")
	if err != nil {
		t.Fatalf("errors must not fail the run: %v", err)
	}
	run := f.Runs[0]
	if run.ErrorRate < 0.15 || run.ErrorRate > 0.25 {
		t.Errorf("error rate %.3f, want 0.15..0.25", run.ErrorRate)
	}
	var sum int64
	for _, g := range run.Errors {
		sum += g.Count
	}
	if sum != run.Counts.Errors || run.Errors[0].Class != "http_status" || !strings.Contains(run.Errors[0].Example, "HTTP 500") {
		t.Errorf("errors %+v do not add up to %d", run.Errors, run.Counts.Errors)
	}
	if run.Assessment.ErrorBand != "poor" && run.Assessment.ErrorBand != "marginal" {
		t.Errorf("band %q for %.3f", run.Assessment.ErrorBand, run.ErrorRate)
	}
}

func TestBenchTimeouts(t *testing.T) {
	// Every call takes 2 s: the endpoint fails its opening request (tried
	// three times) and bench stops before any load, naming the timeout.
	r := refServer(t, refserver.NewInstances(32, 2*time.Second), 0)
	start := time.Now()
	_, _, err := runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc", "--model", "m", "-c", "4", "-n", "8", "--timeout", "200ms")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v", elapsed)
	}
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), `a first request to model "m"`) || !strings.Contains(err.Error(), "within 200ms") {
		t.Errorf("err = %v, want exit code 1 before any load, naming the timeout", err)
	}
	// One instance of 100 ms answers the opening request in time; under
	// four workers the queue makes the later requests time out, each
	// counted as a timeout, none fatal.
	r = refServer(t, refserver.NewInstances(1, 100*time.Millisecond), 0)
	f, _, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeHTTP), "--model", "m", "-c", "4", "-n", "12", "--warmup", "0", "--timeout", "300ms")
	if err != nil {
		t.Fatal(err)
	}
	run := f.Runs[0]
	timeouts := int64(0)
	for _, g := range run.Errors {
		if g.Class == "timeout" {
			timeouts = g.Count
		}
	}
	if run.Counts.Sent != 12 || timeouts == 0 || timeouts != run.Counts.Errors {
		t.Errorf("run %+v: want 12 sent, some timeouts and no other errors", run)
	}
}

func TestBenchInterruptedStillReports(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 10*time.Millisecond), 0)
	dir := t.TempDir()
	resultsPath := filepath.Join(dir, "results.json")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	out, _, err := runCLI(ctx, "bench", "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc", "--model", "m", "-c", "4", "-n", "100000", "--results", resultsPath)
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Errorf("err = %v, want exit code 130", err)
	}
	if !strings.HasPrefix(out, "INTERRUPTED") {
		t.Errorf("report does not open with the interruption:\n%s", out)
	}
	f, err := result.Read(resultsPath)
	if err != nil {
		t.Fatal(err)
	}
	if f.Complete || len(f.Runs) != 1 || f.Runs[0].Status != result.StatusInterrupted || f.Runs[0].Counts.OK == 0 {
		t.Errorf("results %+v: want complete false and the partial level", f)
	}
}

// dyingEmulator calls die once, in the background, when its n-th request
// arrives: a server killed mid-run after a count of requests, not after a
// time, which a busy machine could reach before the load began.
type dyingEmulator struct {
	refserver.Emulator
	n     int64
	count atomic.Int64
	die   func()
}

func (e *dyingEmulator) Execute(ctx context.Context, batch int) (refserver.Timing, error) {
	if e.count.Add(1) == e.n {
		go e.die()
	}
	return e.Emulator.Execute(ctx, batch)
}

func TestBenchServerKilledMidRun(t *testing.T) {
	em := &dyingEmulator{Emulator: refserver.NewInstances(8, 5*time.Millisecond), n: 60}
	srv := refServer(t, em, 0)
	em.die = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	// The open's request, 10 warmup requests, then the measured phase:
	// the server dies after about 50 measured requests.
	f, _, err := benchJSON(t, context.Background(), "--url", urlFor(srv, protocol.KServeHTTP), "--model", "m", "-c", "4", "-d", "1500ms", "--timeout", "2s")
	if err != nil {
		t.Fatalf("a dead server must not fail the run: %v", err)
	}
	run := f.Runs[0]
	conn := false
	for _, g := range run.Errors {
		conn = conn || g.Class == "connection_refused" || g.Class == "connection_reset"
	}
	if run.Counts.OK == 0 || !conn {
		t.Errorf("run %+v: want successes, then connection errors", run)
	}
}

func TestBenchFormatsAndFlagErrors(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, 0), 0)
	url := urlFor(r, protocol.KServeHTTP)
	dir := t.TempDir()
	for format, want := range map[string]string{"text": "P50 VS BASE", "csv": "deployment,protocol,url", "md": "| DEPLOYMENT |", "json": `"schema": "inferbench.result/v2"`} {
		path := filepath.Join(dir, "report."+format)
		if _, _, err := runCLI(context.Background(), "bench", "--url", url, "--model", "m", "-n", "20", "--format", format, "-o", path, "-q"); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		data, _ := os.ReadFile(path)
		if !strings.Contains(string(data), want) {
			t.Errorf("%s report lacks %q:\n%s", format, want, data)
		}
	}
	text, _ := os.ReadFile(filepath.Join(dir, "report.text"))
	if !strings.HasPrefix(string(text), "OK, ") || strings.Contains(string(text), "\x1b[") {
		t.Errorf("text report must open with the verdict and have no colour in a file:\n%s", text)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "m"}, "--url and --model are required"},
		{[]string{"--url", url, "--model", "m", "--protocol", "soap"}, `--protocol "soap"`},
		{[]string{"--url", url, "--model", "m", "--format", "xml"}, `--format "xml"`},
		{[]string{"--url", url, "--model", "m", "-n", "5", "-d", "1s"}, "not both"},
		{[]string{"--url", url, "--model", "m", "--concurrency-range", "8:1:x2"}, "--concurrency-range"},
		{[]string{"--url", url, "--model", "nope"}, "Request for unknown model: 'nope'"},
		{[]string{"--url", url, "--model", "m", "--shape", "z:1,2"}, "does not have: z"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"bench"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("bench %v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestConcurrencyWarning(t *testing.T) {
	r := refServer(t, refserver.NewInstances(64, 0), 0)
	_, log, err := runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc", "--model", "m", "-c", "51", "-n", "60")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "Warning: concurrency 51 is above 50") || !strings.Contains(log, "8-16") {
		t.Errorf("no warning in:\n%s", log)
	}
}

func TestBenchOpenLoop(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, 5*time.Millisecond), 0)
	f, log, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeGRPC), "--protocol", "kserve-grpc", "--model", "m",
		"--rate", "100", "--arrival", "poisson", "--seed", "5", "-n", "150")
	if err != nil {
		t.Fatal(err)
	}
	run := f.Runs[0]
	if run.Load.Mode != result.ModeRate || run.Load.Rate != 100 || run.Load.Arrival != "poisson" || run.Counts.Sent != 150 {
		t.Errorf("load %+v counts %+v", run.Load, run.Counts)
	}
	if run.ServiceTimeMs == nil || run.ServiceTimeMs.P50 < 5 || run.SendRateRPS < 50 || run.SendRateRPS > 200 {
		t.Errorf("service time %+v, send rate %.1f", run.ServiceTimeMs, run.SendRateRPS)
	}
	if !strings.Contains(log, "Step 100/s poisson: 100/s poisson, 150 requests") {
		t.Errorf("log:\n%s", log)
	}
	_, _, err = runCLI(context.Background(), "bench", "--url", urlFor(r, protocol.KServeGRPC), "--model", "m", "--rate", "10", "--arrival", "uniform")
	if err == nil || !strings.Contains(err.Error(), `--arrival "uniform": want constant, poisson or bursty`) {
		t.Errorf("err = %v", err)
	}
}

// TestBenchRefusesAModelThatIsNotReady: bench opens the endpoint as every
// command does, and a model the server does not serve ends it before any
// load: exit code 1, one line naming the model and the server's answer,
// no report.
func TestBenchRefusesAModelThatIsNotReady(t *testing.T) {
	r := refServer(t, refserver.NewInstances(4, 0), 0)
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
		out, _, err := runCLI(context.Background(), "bench", "--url", urlFor(r, kind), "--protocol", string(kind), "--model", "nope", "-n", "10")
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 1 || out != "" {
			t.Fatalf("%s: err = %v, stdout %q: want exit code 1 and no report", kind, err, out)
		}
		msg := err.Error()
		if !strings.Contains(msg, `model "nope" is not ready at `+urlFor(r, kind)) || !strings.Contains(msg, "unknown model") ||
			!strings.Contains(msg, "no load was sent") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q: want one line naming the model and the server's answer", kind, msg)
		}
	}
}

// benchAt8 runs bench with 8 workers and 800 requests over the protocol
// and returns its one run and its log.
func benchAt8(t *testing.T, r *refserver.Running, kind protocol.Kind) (result.Run, string) {
	t.Helper()
	f, log, err := benchJSON(t, context.Background(), "--url", urlFor(r, kind), "--protocol", string(kind), "--model", "m", "-c", "8", "-n", "800")
	if err != nil {
		t.Fatal(err)
	}
	if f.Schema != result.Schema || !f.Complete || len(f.Runs) != 1 {
		t.Fatalf("result file: %+v", f)
	}
	run := f.Runs[0]
	t.Logf("%s: %.1f req/s, p50 %.3f ms, p99 %.3f ms, client CPU %.1f%%", kind, run.ThroughputRPS, run.LatencyMs.P50, run.LatencyMs.P99, run.Client.CPUPercent)
	return run, log
}

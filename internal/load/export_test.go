package load_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// exportLine is a line of the per-request export, as docs/results.md
// describes it; pointers tell absent fields from zeros.
type exportLine struct {
	Deployment    string   `json:"deployment"`
	Step          string   `json:"step"`
	Concurrency   *int     `json:"concurrency"`
	Rate          *float64 `json:"rate"`
	Intended      *string  `json:"intended"`
	Sent          string   `json:"sent"`
	LatencyMs     *float64 `json:"latency_ms"`
	ServiceTimeMs *float64 `json:"service_time_ms"`
	Status        string   `json:"status"`
	ErrorClass    string   `json:"error_class"`
	Error         string   `json:"error"`
	RequestBytes  *int64   `json:"request_bytes"`
	ResponseBytes *int64   `json:"response_bytes"`
}

func readExport(t *testing.T, b []byte) []exportLine {
	t.Helper()
	var out []exportLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		var l exportLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d %q: %v", n, sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || at.Location() != time.UTC {
		t.Fatalf("time %q: %v (want RFC 3339 in UTC)", s, err)
	}
	return at
}

// TestExportClosedLoop: one line per measured request (the warmup's are
// not exported), errors with their class, times within the run.
func TestExportClosedLoop(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(8, 0), 0.2)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	var buf bytes.Buffer
	log := load.NewRequestLog(&buf)
	before := time.Now()
	res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: 700, Warmup: 10,
		Export: log, ExportLabel: load.ExportLabel{Deployment: `nim "a"`, Step: "c=4"}})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readExport(t, buf.Bytes())
	if int64(len(lines)) != res.Sent || res.Sent != 700 || log.Lines() != 700 {
		t.Fatalf("%d lines (%d counted), %d sent: want 700 each", len(lines), log.Lines(), res.Sent)
	}
	var ok, failed, reqBytes, respBytes int64
	for _, l := range lines {
		if l.Deployment != `nim "a"` || l.Step != "c=4" || l.Concurrency == nil || *l.Concurrency != 4 || l.Rate != nil {
			t.Fatalf("labels of %+v", l)
		}
		if l.Intended != nil || l.ServiceTimeMs != nil {
			t.Fatalf("closed loop line with an intended or service time: %+v", l)
		}
		if sent := parseTime(t, l.Sent); sent.Before(before.Add(-time.Second)) || sent.After(after.Add(time.Second)) {
			t.Errorf("sent %v outside the run (%v to %v)", sent, before, after)
		}
		if l.LatencyMs == nil || *l.LatencyMs <= 0 || l.RequestBytes == nil || *l.RequestBytes <= 0 || l.ResponseBytes == nil {
			t.Fatalf("line %+v lacks a latency or its bytes", l)
		}
		reqBytes += *l.RequestBytes
		respBytes += *l.ResponseBytes
		switch l.Status {
		case "ok":
			ok++
			if l.ErrorClass != "" || *l.ResponseBytes <= 0 {
				t.Errorf("ok line %+v", l)
			}
		case "error":
			failed++
			if l.ErrorClass != measure.ClassHTTPStatus || l.Error == "" {
				t.Errorf("error line %+v, want class %s and a message", l, measure.ClassHTTPStatus)
			}
		default:
			t.Errorf("status %q", l.Status)
		}
	}
	if ok != res.OK || failed != res.Errors || failed == 0 {
		t.Errorf("%d ok and %d error lines, the run counted %d and %d (and wants some errors)", ok, failed, res.OK, res.Errors)
	}
	if reqBytes != res.RequestBytes || respBytes != res.ResponseBytes {
		t.Errorf("bytes %d/%d in the lines, %d/%d in the run", reqBytes, respBytes, res.RequestBytes, res.ResponseBytes)
	}
}

// TestExportOpenLoopAndRuns: an open-loop run and a closed-loop run share
// one log; each line has its run's labels, open-loop lines their
// intended time and service time.
func TestExportOpenLoopAndRuns(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, 2*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	var buf bytes.Buffer
	log := load.NewRequestLog(&buf)
	open, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Rate: 500, Requests: 600, Warmup: 5,
		Export: log, ExportLabel: load.ExportLabel{Deployment: "d", Step: "open"}})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 3, Requests: 50,
		Export: log, ExportLabel: load.ExportLabel{Deployment: "d", Step: "closed"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	n := map[string]int64{}
	for _, l := range readExport(t, buf.Bytes()) {
		n[l.Step]++
		if l.Step != "open" {
			continue
		}
		if l.Rate == nil || *l.Rate != 500 || l.Concurrency != nil || l.Intended == nil || l.ServiceTimeMs == nil || l.Status != "ok" {
			t.Fatalf("open-loop line %+v", l)
		}
		intended, sent := parseTime(t, *l.Intended), parseTime(t, l.Sent)
		if sent.Before(intended.Add(-time.Millisecond)) || *l.LatencyMs < *l.ServiceTimeMs {
			t.Errorf("sent %v before intended %v, or latency %v ms below service time %v ms", sent, intended, *l.LatencyMs, *l.ServiceTimeMs)
		}
	}
	if n["open"] != open.Sent || n["closed"] != closed.Sent || open.Sent != 600 || closed.Sent != 50 {
		t.Errorf("lines per run %v, sent %d and %d: want 600 and 50", n, open.Sent, closed.Sent)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n atomic.Int64 }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n.Add(int64(len(p))) > 100<<10 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestExportWriteErrorNeverBlocks: a writer that fails does not stop or
// hold up the run; Close reports the error.
func TestExportWriteErrorNeverBlocks(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(8, 0), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	log := load.NewRequestLog(&failingWriter{})
	res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: 5000, Export: log})
	if err != nil {
		t.Fatal(err)
	}
	err = log.Close()
	if res.Sent != 5000 || err == nil || err.Error() != "writing the request export: disk full" {
		t.Errorf("sent %d, Close() = %v: want 5000 sent and the disk's error", res.Sent, err)
	}
}

package conformance

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
)

func TestReferencePassesOverEveryKind(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), &out, Options{Reference: true, Model: "yolov8n", Requests: 2, Timeout: 30 * time.Second, ServiceTime: time.Millisecond})
	if err != nil {
		t.Fatalf("check --reference: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "PASS: all 3 endpoint(s) answer correctly.") {
		t.Errorf("no PASS verdict:\n%s", out.String())
	}
	for _, k := range protocol.KServeKinds {
		if !hasRow(out.String(), string(k)+" ", "verified") {
			t.Errorf("%s is not verified:\n%s", k, out.String())
		}
	}
}

func TestEveryKindVerified(t *testing.T) {
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewFIFO(time.Millisecond))}})
	for _, k := range protocol.KServeKinds {
		url := "http://" + r.HTTPAddr
		if k == protocol.KServeGRPC {
			url = r.GRPCAddr
		}
		var out bytes.Buffer
		if err := Run(context.Background(), &out, Options{URL: url, Protocol: string(k), Model: "m", Requests: 3, Timeout: 10 * time.Second}); err != nil {
			t.Errorf("%s: %v\n%s", k, err, out.String())
			continue
		}
		if !hasRow(out.String(), string(k)+" ", "ok  ", "3/3", "verified") {
			t.Errorf("%s:\n%s", k, out.String())
		}
	}
}

func TestUnknownModelFails(t *testing.T) {
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewFIFO(time.Millisecond))}})
	var out bytes.Buffer
	err := Run(context.Background(), &out, Options{URL: "http://" + r.HTTPAddr, Protocol: string(protocol.KServeHTTP), Model: "nope", Requests: 1, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "1 endpoint(s) failed the check") {
		t.Fatalf("error %v, want one endpoint failed\n%s", err, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "FAIL: 1 of 1 endpoint(s)") || !hasRow(s, "kserve-http ", "model not ready", "0/0") {
		t.Errorf("table does not say the model is not ready:\n%s", s)
	}
	if !strings.Contains(s, "\nkserve-http http://"+r.HTTPAddr+": ") || !strings.Contains(s[strings.LastIndex(s, "\nkserve-http "):], `nope`) {
		t.Errorf("the error does not name the model:\n%s", s)
	}
}

// The reference server does not report the headers it received, so its
// HTTP handler is served behind one that records them (gRPC metadata is
// not observed).
func TestHeadersReachServer(t *testing.T) {
	srv, err := refserver.New(refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewFIFO(time.Millisecond))}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	h := srv.HTTPHandler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("X-Check"))
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()
	var out bytes.Buffer
	o := Options{URL: ts.URL, Protocol: string(protocol.KServeHTTP), Model: "m", Requests: 2, Timeout: 10 * time.Second,
		Headers: map[string]string{"X-Check": "yes"}}
	if err := Run(context.Background(), &out, o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	infers := 0
	for _, s := range seen {
		if !strings.HasSuffix(s, " yes") {
			t.Errorf("request %q lacks the header", s)
		}
		if strings.HasSuffix(strings.TrimSuffix(s, " yes"), "/infer") {
			infers++
		}
	}
	if infers < 3 { // the first request of session.Open, then 2
		t.Errorf("%d inference requests seen, want 3: %v", infers, seen)
	}
}

func TestRefusesBadOptions(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Reference: true, Requests: 0}, "--requests 0: need at least 1"},
		{Options{Reference: true, URL: "http://127.0.0.1:1", Requests: 1}, "--reference and --url exclude each other"},
		{Options{Requests: 1}, "give --url"},
		{Options{URL: "http://127.0.0.1:1", Protocol: "nim-http", Requests: 1}, `--protocol "nim-http"`},
	} {
		var out bytes.Buffer
		if err := Run(context.Background(), &out, tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.o, err, tt.want)
		}
	}
}

// hasRow tells whether a line of s starts with prefix and holds every
// field.
func hasRow(s, prefix string, fields ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		all := true
		for _, f := range fields {
			all = all && strings.Contains(line, f)
		}
		if all {
			return true
		}
	}
	return false
}

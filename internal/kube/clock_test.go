package kube

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestAPIServerProbe(t *testing.T) {
	date := time.Date(2026, 11, 30, 17, 4, 5, 0, time.UTC)
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/proxy/k8s/version" || r.Header.Get("Authorization") != "Bearer t0ken" {
			t.Errorf("request %s with Authorization %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Header().Set("Date", date.Format(http.TimeFormat))
		_, _ = w.Write([]byte(`{"major":"1","minor":"34","gitVersion":"v1.34.1"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := &rest.Config{
		Host:            srv.URL + "/proxy/k8s",
		BearerToken:     "t0ken",
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
	}
	probe, err := APIServerProbe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := probe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(date) {
			t.Fatalf("Date %v, want %v", got, date)
		}
	}
	if n.Load() != 2 {
		t.Fatalf("%d requests, want 2", n.Load())
	}

	// Without the CA the server's certificate is refused.
	probe, err = APIServerProbe(&rest.Config{Host: srv.URL, BearerToken: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("error %v, want a certificate error", err)
	}
}

func TestAPIServerProbeBadConfig(t *testing.T) {
	_, err := APIServerProbe(&rest.Config{Host: "https://example.invalid", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("not a PEM")}})
	if err == nil || !strings.Contains(err.Error(), "example.invalid") {
		t.Fatalf("error %v, want one naming the host", err)
	}
}

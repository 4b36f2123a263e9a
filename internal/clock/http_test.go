package clock

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// skewedServer serves a Date header skew off the local clock and counts
// its requests.
func skewedServer(t *testing.T, skew time.Duration, status int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"major":"1","minor":"34"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestOffsetOverLoopback(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		skew   time.Duration // server minus local
		status int
	}{
		{"server 300 ms ahead", 300 * time.Millisecond, http.StatusOK},
		{"server 1.7 s behind", -1700 * time.Millisecond, http.StatusOK},
		{"unauthorized still has a Date", 40 * time.Millisecond, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, n := skewedServer(t, tt.skew, tt.status)
			e, err := Offset(context.Background(), HTTPProbe(srv.Client(), srv.URL+"/version"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", e)
			// The server's clock is the local one, so the true offset lies
			// in the interval; the allowance covers rounding.
			want := -tt.skew
			if d := e.Offset - want; d > e.Uncertainty+time.Millisecond || -d > e.Uncertainty+time.Millisecond {
				t.Fatalf("%v misses the true offset %v by %v", e, want, d)
			}
			if e.Uncertainty <= 0 || e.RTT <= 0 {
				t.Fatalf("%v: no uncertainty or round trip reported", e)
			}
			if got := n.Load(); got != int64(e.Probes) || e.Probes < 2 || e.Probes > defaultMaxProbes {
				t.Fatalf("%d requests served, %d probes reported (2..%d)", got, e.Probes, defaultMaxProbes)
			}
		})
	}
}

func TestHTTPProbeFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		date []string // nil: no Date header at all
		want string
	}{
		{"no Date header", nil, "has no Date header"},
		{"unparsable Date header", []string{"yesterday at noon"}, `Date header "yesterday at noon"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header()["Date"] = tt.date // nil suppresses net/http's own
			}))
			defer srv.Close()
			_, err := Offset(context.Background(), HTTPProbe(srv.Client(), srv.URL), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "clock probe 1: GET "+srv.URL) {
				t.Fatalf("error %v, want one naming probe 1, the URL and %q", err, tt.want)
			}
			if n.Load() != 1 {
				t.Fatalf("%d requests, want 1: the first failure ends it", n.Load())
			}
		})
	}
}

func TestHTTPProbeUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := Offset(context.Background(), HTTPProbe(srv.Client(), url), Options{})
	var ue interface{ Timeout() bool }
	if err == nil || !strings.Contains(err.Error(), url) || !errors.As(err, &ue) {
		t.Fatalf("error %v, want the *url.Error naming %s", err, url)
	}
}

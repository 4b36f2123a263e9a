package protocol_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	measurepkg "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// tlsRef serves the small model m over TLS (HTTP and gRPC) with a
// server certificate, and with clientCA requiring client certificates.
func tlsRef(t *testing.T, cert, key, clientCA string) *refserver.Running {
	t.Helper()
	cfg, err := tlsconf.Server(cert, key, clientCA)
	if err != nil {
		t.Fatal(err)
	}
	return reftest.Serve(t, refserver.Options{TLS: cfg, Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(4, time.Millisecond))}})
}

func clientConfig(t *testing.T, c tlsconf.Client) *tls.Config {
	t.Helper()
	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestTLSEveryKServeKind: the KServe kinds over TLS, with the test CA, and
// with mutual TLS.
func TestTLSEveryKServeKind(t *testing.T) {
	certs := reftest.NewCerts(t)
	plain := tlsRef(t, certs.ServerCert, certs.ServerKey, "")
	mutual := tlsRef(t, certs.ServerCert, certs.ServerKey, certs.CA)
	for _, tc := range []struct {
		name string
		r    *refserver.Running
		c    tlsconf.Client
	}{
		{"tls", plain, tlsconf.Client{CACert: certs.CA}},
		{"mtls", mutual, tlsconf.Client{CACert: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}},
		{"skip verify", plain, tlsconf.Client{InsecureSkipVerify: true}},
	} {
		for _, kind := range protocol.KServeKinds {
			t.Run(tc.name+" "+string(kind), func(t *testing.T) {
				url := "https://" + tc.r.HTTPAddr
				if kind == protocol.KServeGRPC {
					url = "grpcs://" + tc.r.GRPCAddr
				}
				c := newClient(t, protocol.Options{Kind: kind, URL: url, TLS: clientConfig(t, tc.c)})
				ctx := context.Background()
				if ready, err := c.ServerReady(ctx); err != nil || !ready {
					t.Fatalf("ready %v: %v", ready, err)
				}
				md, err := c.ModelMetadata(ctx, "m", "")
				if err != nil {
					t.Fatal(err)
				}
				caller := c.NewCaller(protocol.NewChecker(md, nil))
				defer caller.Close()
				p := prepareSmall(t, c, md)
				for i := range 20 {
					if out := caller.Call(ctx, p); out.Err != nil {
						t.Fatalf("call %d: %v", i, out.Err)
					}
				}
			})
		}
	}
}

// TestTLSFailuresNameTheProblem: each certificate problem, and TLS against
// a plain-text port, is one line that names it, classified tls, over
// HTTP and gRPC.
func TestTLSFailuresNameTheProblem(t *testing.T) {
	certs := reftest.NewCerts(t)
	good := tlsRef(t, certs.ServerCert, certs.ServerKey, "")
	expired := tlsRef(t, certs.ExpiredCert, certs.ExpiredKey, "")
	elsewhere := tlsRef(t, certs.ElsewhereCert, certs.ElsewhereKey, "")
	mutual := tlsRef(t, certs.ServerCert, certs.ServerKey, certs.CA)
	plainText := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(1, time.Millisecond))}})
	trust := tlsconf.Client{CACert: certs.CA}
	for _, tc := range []struct {
		name  string
		r     *refserver.Running
		c     tlsconf.Client
		words string
	}{
		{"unknown authority", good, tlsconf.Client{CACert: certs.OtherCA}, "signed by an unknown authority"},
		{"system roots", good, tlsconf.Client{}, "signed by an unknown authority"},
		{"expired", expired, trust, "has expired"},
		{"name mismatch", elsewhere, trust, "does not match its name"},
		{"no client certificate", mutual, trust, "wants a client certificate"},
		{"plain-text port", plainText, trust, "TLS"},
	} {
		for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
			t.Run(tc.name+" "+string(kind), func(t *testing.T) {
				url := "https://" + tc.r.HTTPAddr
				if kind == protocol.KServeGRPC {
					url = "grpcs://" + tc.r.GRPCAddr
				}
				c := newClient(t, protocol.Options{Kind: kind, URL: url, TLS: clientConfig(t, tc.c)})
				_, err := c.ServerReady(context.Background())
				if err == nil {
					t.Fatal("the server answered")
				}
				class, msg := protocol.Classify(err)
				if class != measurepkg.ClassTLS || !strings.Contains(msg, tc.words) || strings.Contains(msg, "\n") {
					t.Errorf("class %s, message %q: want tls, one line with %q", class, msg, tc.words)
				}
				t.Log(msg)
			})
		}
	}
}

// TestPlainPortWordedForTLS: a TLS client at a plain HTTP server says the
// answer was not TLS; at a plain gRPC server, that it closed the
// connection in the handshake, a plain-text port.
func TestPlainPortWordedForTLS(t *testing.T) {
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{reftest.Small("m", refserver.NewInstances(1, time.Millisecond))}})
	h := newClient(t, protocol.Options{Kind: protocol.KServeHTTP, URL: "https://" + r.HTTPAddr})
	_, err := h.ServerReady(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not look like a TLS handshake") || !strings.Contains(err.Error(), "plain-text port") {
		t.Errorf("HTTP: %v", err)
	}
	g := newClient(t, protocol.Options{Kind: protocol.KServeGRPC, URL: "grpcs://" + r.GRPCAddr})
	_, err = g.ServerReady(context.Background())
	if err == nil || !strings.Contains(err.Error(), "TLS") || !strings.Contains(err.Error(), "plain-text port") {
		t.Errorf("gRPC: %v", err)
	}
}

// TestTLSURLRules: TLS settings with a plain-text scheme are refused, a
// bare host:port with them is TLS, grpcs:// is.
func TestTLSURLRules(t *testing.T) {
	cfg := &tls.Config{}
	for _, tc := range []struct {
		kind    protocol.Kind
		url     string
		withTLS *tls.Config
		bad     string
	}{
		{protocol.KServeHTTP, "http://127.0.0.1:1", cfg, "use https://"},
		{protocol.KServeGRPC, "grpc://127.0.0.1:1", cfg, "use grpcs://"},
		{protocol.KServeGRPC, "https://127.0.0.1:1", nil, "grpcs://host:port"},
		{protocol.KServeGRPC, "grpcs://127.0.0.1:1", nil, ""},
		{protocol.KServeGRPC, "127.0.0.1:1", cfg, ""},
		{protocol.KServeHTTP, "127.0.0.1:1", cfg, ""},
	} {
		_, err := protocol.New(protocol.Options{Kind: tc.kind, URL: tc.url, TLS: tc.withTLS})
		if tc.bad == "" && err != nil || tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%s %s: %v, want %q", tc.kind, tc.url, err, tc.bad)
		}
	}
}

// TestAuthorityAndHost: --authority and a Host header reach the server as
// gRPC's :authority and HTTP's Host, as grpcurl and curl send them; a Host
// header is not sent as gRPC metadata.
func TestAuthorityAndHost(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	record := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+" "+strings.Join(r.Header.Values("Host"), ","))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return ""
		}
		return strings.TrimSpace(seen[len(seen)-1])
	}
	grpcAddr := h2cServer(t, record, nil)
	hs := httptest.NewServer(http.HandlerFunc(record))
	t.Cleanup(hs.Close)
	ctx := context.Background()
	for _, tc := range []struct {
		kind      protocol.Kind
		url       string
		authority string
		host      string
		want      string
	}{
		{protocol.KServeGRPC, grpcAddr, "", "", grpcAddr},
		{protocol.KServeGRPC, grpcAddr, "model.example.com", "", "model.example.com"},
		{protocol.KServeGRPC, grpcAddr, "", "from-header.example.com", "from-header.example.com"},
		{protocol.KServeGRPC, grpcAddr, "model.example.com", "from-header.example.com", "model.example.com"},
		{protocol.KServeHTTP, hs.URL, "", "from-header.example.com", "from-header.example.com"},
		{protocol.KServeHTTP, hs.URL, "model.example.com", "", "model.example.com"},
		{protocol.KServeHTTP, hs.URL, "model.example.com", "from-header.example.com", "model.example.com"},
	} {
		opts := protocol.Options{Kind: tc.kind, URL: tc.url, Authority: tc.authority}
		if tc.host != "" {
			opts.Headers = map[string]string{"Host": tc.host}
		}
		c := newClient(t, opts)
		c.ModelReady(ctx, "m", "")
		if got := last(); got != tc.want {
			t.Errorf("%s authority %q Host %q: the server saw %q, want %q", tc.kind, tc.authority, tc.host, got, tc.want)
		}
	}
}

// TestTLSNoALPNh2: a gRPC client at an HTTPS server that speaks only
// HTTP/1.1 says it is not a gRPC port.
func TestTLSNoALPNh2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	g := newClient(t, protocol.Options{Kind: protocol.KServeGRPC, URL: srv.Listener.Addr().String(), TLS: &tls.Config{InsecureSkipVerify: true}})
	_, err := g.ServerReady(context.Background())
	if class, msg := protocol.Classify(err); err == nil || class != measurepkg.ClassTLS || !strings.Contains(msg, "h2") {
		t.Errorf("%v (class %s), want a tls error about ALPN h2", err, class)
	}
}

// prepareSmall encodes a request of random inputs for md.
func prepareSmall(t testing.TB, c protocol.Client, md *kserve.ModelMetadata) protocol.Payload {
	t.Helper()
	ins, err := inputs.Random(md.Inputs, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Prepare(md.Name, "", &kserve.InferRequest{Inputs: ins})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

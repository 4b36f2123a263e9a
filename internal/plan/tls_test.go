package plan

import (
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/tlsconf"
)

// TestTLSKeys: a deployment's tls section and authority are read, written
// back, and checked at their line.
func TestTLSKeys(t *testing.T) {
	good := `deployments:
  - name: g
    protocol: kserve-grpc
    url: grpcs://nim.example.com:443
    model: m
    authority: nim.internal
    tls: {ca_cert: ca.pem, cert: c.pem, key: k.pem, server_name: nim.internal}
  - name: h
    protocol: kserve-http
    url: nim.example.com:8443
    model: m
    tls: {insecure_skip_verify: true}
  - name: plain
    protocol: kserve-grpc
    url: nim.example.com:8001
    model: m
sequence: recommended
`
	p, err := Parse("p.yaml", []byte(good), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	g, h, plain := p.Deployments[0], p.Deployments[1], p.Deployments[2]
	if g.TLS != (tlsconf.Client{CACert: "ca.pem", Cert: "c.pem", Key: "k.pem", ServerName: "nim.internal"}) || g.Authority != "nim.internal" || !g.UsesTLS() {
		t.Errorf("g: %+v %q", g.TLS, g.Authority)
	}
	if !h.UsesTLS() || !h.TLS.InsecureSkipVerify || plain.UsesTLS() {
		t.Errorf("UsesTLS: h %v, plain %v", h.UsesTLS(), plain.UsesTLS())
	}
	out, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("again.yaml", out, env(nil))
	if err != nil || again.Deployments[0].TLS != g.TLS || again.Deployments[0].Authority != g.Authority || again.Deployments[1].TLS != h.TLS {
		t.Errorf("written back: %v\n%s", err, out)
	}

	for _, tt := range []struct{ yaml, want string }{
		{"url: http://x:1\n    tls: {ca_cert: ca.pem}", `p.yaml:6:10: deployment "a" tls: TLS settings are given but the URL http:// is plain text: use https://`},
		{"url: grpc://x:1\n    protocol: kserve-grpc\n    tls: {enabled: true}", "use grpcs://"},
		{"url: https://x:1\n    tls: {cert: c.pem}", "needs its private key"},
		{"url: https://x:1\n    tls: {ca: c.pem}", `unknown key "ca"`},
		{"url: https://x:1\n    authority: a b", `authority "a b": want host or host:port`},
	} {
		yaml := "deployments:\n  - name: a\n    model: m\n    " + tt.yaml + "\nsequence: recommended\n"
		if !strings.Contains(yaml, "protocol:") {
			yaml = strings.Replace(yaml, "    model: m\n", "    model: m\n    protocol: kserve-http\n", 1)
		}
		_, err := Parse("p.yaml", []byte(yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

// TestGRPCSURL: grpcs:// is a gRPC address; its credentials are redacted
// and left out of the address dialled, its scheme kept.
func TestGRPCSURL(t *testing.T) {
	e, err := CheckURL("kserve-grpc", "grpcs://u:pw@h.example.com:443")
	if err != nil || e.Shown != "grpcs://u:xxxxx@h.example.com:443" || e.Authorization == "" {
		t.Fatalf("%+v %v", e, err)
	}
	if got := DialURL(e.Shown); got != "grpcs://h.example.com:443" {
		t.Errorf("DialURL %q", got)
	}
	if _, err := CheckURL("kserve-grpc", "https://h:443"); err == nil || !strings.Contains(err.Error(), "grpcs://host:port") {
		t.Errorf("https:// for gRPC: %v", err)
	}
}

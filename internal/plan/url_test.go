package plan

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/protocol"
)

func TestCheckURL(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct {
		kind      protocol.Kind
		raw       string
		shown     string
		auth      string
		dial      string
		errSubstr string
	}{
		{kind: protocol.KServeHTTP, raw: "http://h:8000", shown: "http://h:8000", dial: "http://h:8000"},
		{kind: protocol.KServeHTTP, raw: "h:8000", shown: "h:8000", dial: "h:8000"},
		{kind: protocol.HTTPJSON, raw: "https://h/api/v1", shown: "https://h/api/v1", dial: "https://h/api/v1"},
		{kind: protocol.KServeHTTP, raw: "http://[::1]:8000", shown: "http://[::1]:8000", dial: "http://[::1]:8000"},
		{kind: protocol.KServeHTTP, raw: "http://bob:s3cret@h:8000", shown: "http://bob:xxxxx@h:8000", auth: basic("bob:s3cret"), dial: "http://h:8000"},
		{kind: protocol.NIMHTTP, raw: "bob:p%40ss@h:8000/x", shown: "http://bob:xxxxx@h:8000/x", auth: basic("bob:p@ss"), dial: "http://h:8000/x"},
		{kind: protocol.KServeHTTP, raw: "http://token@h:8000", shown: "http://token@h:8000", auth: basic("token:"), dial: "http://h:8000"},
		{kind: protocol.KServeGRPC, raw: "h:8001", shown: "h:8001", dial: "h:8001"},
		{kind: protocol.KServeGRPC, raw: "grpc://h:8001", shown: "grpc://h:8001", dial: "grpc://h:8001"},
		{kind: protocol.KServeGRPC, raw: "grpc://bob:s3cret@h:8001", shown: "grpc://bob:xxxxx@h:8001", auth: basic("bob:s3cret"), dial: "grpc://h:8001"},
		{kind: protocol.KServeHTTP, raw: "ftp://h:21", errSubstr: `scheme "ftp": want http:// or https://`},
		{kind: protocol.KServeHTTP, raw: "http://h :8000", errSubstr: "has a space at character 9"},
		{kind: protocol.KServeHTTP, raw: "http://h:8000\t", errSubstr: "control or blank character"},
		{kind: protocol.KServeHTTP, raw: "http://h:80000", errSubstr: `port "80000"`},
		{kind: protocol.KServeHTTP, raw: "http://:8000", errSubstr: "no host"},
		{kind: protocol.KServeHTTP, raw: "http://h:8000/?q=1", errSubstr: "no query"},
		{kind: protocol.KServeHTTP, raw: "", errSubstr: "empty"},
		{kind: protocol.KServeGRPC, raw: "http://h:8001", errSubstr: `scheme "http": gRPC takes host:port`},
		{kind: protocol.KServeGRPC, raw: "h", errSubstr: "want host:port"},
		{kind: protocol.KServeGRPC, raw: "h:8001/x", errSubstr: "without a path"},
		{kind: protocol.KServeGRPC, raw: "bob:s3cret@h:8001", errSubstr: "need the grpc:// form"},
		{kind: protocol.KServeHTTP, raw: "http://bob:s3cret@h :1", errSubstr: `"http://bob:xxxxx@h :1" has a space`},
		{kind: protocol.KServeHTTP, raw: "http://bob:s3cret@h:x", errSubstr: "invalid port"},
	} {
		e, err := CheckURL(tt.kind, tt.raw)
		if tt.errSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSubstr) {
				t.Errorf("%s %q: err = %v, want %q", tt.kind, tt.raw, err, tt.errSubstr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s %q: the error quotes the password: %v", tt.kind, tt.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.kind, tt.raw, err)
			continue
		}
		if e.Shown != tt.shown || e.Authorization != tt.auth || DialURL(e.Shown) != tt.dial {
			t.Errorf("%s %q: shown %q auth %q dial %q, want %q %q %q", tt.kind, tt.raw, e.Shown, e.Authorization, DialURL(e.Shown), tt.shown, tt.auth, tt.dial)
		}
	}
}

func TestPlanURLsCheckedAtLoad(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{`"ftp://h:21"`, `p.yaml:3:53: deployment "a" url: URL "ftp://h:21": scheme "ftp"`},
		{`"http://h x:8000"`, `p.yaml:3:53: deployment "a" url: URL "http://h x:8000" has a space`},
	} {
		text := "deployments:\n" +
			"  - {name: b, protocol: kserve-http, url: \"http://h:1\", model: m}\n" +
			"  - {name: a, protocol: kserve-http, model: m, url: " + tt.url + "}\nsequence: baseline\n"
		_, err := Parse("p.yaml", []byte(text), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.url, err, tt.want)
		}
	}
}

func TestPlanCredentialsBecomeBasicAuthAndAreRedacted(t *testing.T) {
	text := `# the token for http://ops:0ld-pass@h is gone
deployments:
  - {name: a, protocol: kserve-http, url: "http://bob:s3cret@h:8000", model: m}
  - {name: b, protocol: kserve-grpc, url: "grpc://eve:t%2Fp@h:8001", model: m}
  - {name: c, protocol: kserve-http, url: "carol:pl41n@h:8000", model: m}
sequence: baseline
`
	p, err := Parse("p.yaml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for i, want := range []struct{ url, auth string }{
		{"http://bob:xxxxx@h:8000", basic("bob:s3cret")},
		{"grpc://eve:xxxxx@h:8001", basic("eve:t/p")},
		{"http://carol:xxxxx@h:8000", basic("carol:pl41n")},
	} {
		d := p.Deployments[i]
		if d.URL != want.url || d.Headers["Authorization"] != want.auth || len(d.HeadersAsWritten) != 0 {
			t.Errorf("%s: url %q headers %v as written %v, want %q and %q", d.Name, d.URL, d.Headers, d.HeadersAsWritten, want.url, want.auth)
		}
	}
	redacted := p.RedactText(text)
	for _, secret := range []string{"s3cret", "t%2Fp", "pl41n", "0ld-pass"} {
		if strings.Contains(redacted, secret) {
			t.Errorf("the stored text keeps %q:\n%s", secret, redacted)
		}
	}
	if !strings.Contains(redacted, "http://bob:xxxxx@h:8000") || !strings.Contains(redacted, "carol:xxxxx@h:8000") {
		t.Errorf("redacted text:\n%s", redacted)
	}

	both := "deployments:\n  - {name: a, protocol: kserve-http, url: \"http://u:p@h:1\", model: m, headers: {authorization: Bearer x}}\nsequence: baseline\n"
	if _, err := Parse("p.yaml", []byte(both), nil); err == nil || !strings.Contains(err.Error(), "give one of them") {
		t.Errorf("credentials twice: %v", err)
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"metrics http://prom:s3cret@10.0.0.1:8002/metrics: refused": "metrics http://prom:xxxxx@10.0.0.1:8002/metrics: refused",
		"no password http://host:8002/metrics":                      "no password http://host:8002/metrics",
		"user only https://prom@host/metrics":                       "user only https://prom@host/metrics",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

package cli

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// The acceptance of TLS, end to end through the command line against the
// reference server serving TLS: every protocol with --ca-cert, mutual TLS
// with and without a client certificate, a wrong CA.

// tlsPods are a KServe pod (kserve-http, kserve-http-json, nim-http,
// kserve-grpc) and a plain-API pod (http-json), both over TLS, requiring
// client certificates signed by clientCA when it is given.
type tlsPods struct{ kserve, plain *refserver.Running }

func startTLSPods(t *testing.T, certs *reftest.Certs, clientCA string) tlsPods {
	t.Helper()
	cfg, err := tlsconf.Server(certs.ServerCert, certs.ServerKey, clientCA)
	if err != nil {
		t.Fatal(err)
	}
	pod := func(api string) *refserver.Running {
		return reftest.Serve(t, refserver.Options{HTTPAPI: api, TLS: cfg, Models: []refserver.ModelSpec{{Name: "yolov8n", Emulator: refserver.NewInstances(4, time.Millisecond),
			Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}},
			Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 84}}}}}})
	}
	return tlsPods{kserve: pod(refserver.APIKServe), plain: pod(refserver.APIPlain)}
}

// endpoints are the five protocols' --protocol and --url (and flags)
// against the pods.
func (p tlsPods) endpoints() map[string][]string {
	return map[string][]string{
		"kserve-http":         {"--protocol", "kserve-http", "--url", "https://" + p.kserve.HTTPAddr},
		"kserve-http-json":    {"--protocol", "kserve-http-json", "--url", "https://" + p.kserve.HTTPAddr},
		"nim-http":            {"--protocol", "nim-http", "--url", "https://" + p.kserve.HTTPAddr},
		"http-json":           {"--protocol", "http-json", "--url", "https://" + p.plain.HTTPAddr},
		"kserve-grpc":         {"--protocol", "kserve-grpc", "--url", "grpcs://" + p.kserve.GRPCAddr},
		"kserve-grpc --tls":   {"--protocol", "kserve-grpc", "--url", p.kserve.GRPCAddr, "--tls"},
		"kserve-grpc grpc-go": {"--protocol", "kserve-grpc", "--url", "grpcs://" + p.kserve.GRPCAddr, "--grpc-transport", "grpc-go"},
	}
}

// inferences reads the inference requests a pod served (successes and
// failures) from its metrics, which stay plain text.
func inferences(t *testing.T, r *refserver.Running) int {
	t.Helper()
	res, err := http.Get("http://" + r.MetricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	n := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "nv_inference_request_success{") || strings.HasPrefix(line, "nv_inference_request_failure{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}

func TestBenchOverTLS(t *testing.T) {
	certs := reftest.NewCerts(t)
	pods := startTLSPods(t, certs, "")
	for name, ep := range pods.endpoints() {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"--model", "yolov8n", "-c", "2", "-n", "20", "--metrics-url", "off", "--ca-cert", certs.CA}, ep...)
			f, log, err := benchJSON(t, context.Background(), args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if r := f.Runs[0]; r.Status != result.StatusOK || r.Counts.OK != 20 || r.Counts.Sent != 20 {
				t.Errorf("run %+v\n%s", r.Counts, log)
			}
		})
	}
}

// TestBenchMutualTLS: with a client certificate every protocol succeeds;
// without one each fails with one line that asks for it, exit 1, before
// any load: the server served no inference.
func TestBenchMutualTLS(t *testing.T) {
	certs := reftest.NewCerts(t)
	pods := startTLSPods(t, certs, certs.CA)
	for name, ep := range pods.endpoints() {
		t.Run(name, func(t *testing.T) {
			base := append([]string{"--model", "yolov8n", "-c", "2", "-n", "20", "--metrics-url", "off", "--ca-cert", certs.CA}, ep...)
			served := inferences(t, pods.kserve) + inferences(t, pods.plain)
			_, log, err := runCLI(context.Background(), append([]string{"bench", "-q"}, base...)...)
			words := []string{"wants a client certificate", "--cert and --key", "no load was sent"}
			if strings.Contains(name, "grpc-go") {
				// grpc-go loses the server's alert (it reports the write
				// that followed it, "broken pipe"): only the fast transport
				// names the problem.
				words = []string{"no load was sent"}
			}
			if exitCode(err) != 1 || err == nil || strings.Contains(err.Error(), "\n") || !containsAll(err.Error(), words) {
				t.Errorf("without a client certificate: exit %d, %v\n%s", exitCode(err), err, log)
			}
			if n := inferences(t, pods.kserve) + inferences(t, pods.plain); n != served {
				t.Errorf("%d inferences served without a client certificate, want none", n-served)
			}
			f, log, err := benchJSON(t, context.Background(), append(base, "--cert", certs.ClientCert, "--key", certs.ClientKey)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if r := f.Runs[0]; r.Status != result.StatusOK || r.Counts.OK != 20 {
				t.Errorf("run %+v\n%s", r.Counts, log)
			}
		})
	}
}

// TestBenchWrongCA: a CA that did not sign the server's certificate fails
// every protocol with one line naming the problem, exit 1, no load sent.
func TestBenchWrongCA(t *testing.T) {
	certs := reftest.NewCerts(t)
	pods := startTLSPods(t, certs, "")
	for name, ep := range pods.endpoints() {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"bench", "-q", "--model", "yolov8n", "-n", "20", "--metrics-url", "off", "--ca-cert", certs.OtherCA}, ep...)
			_, log, err := runCLI(context.Background(), args...)
			words := []string{"signed by an unknown authority", "--ca-cert", "no load was sent"}
			if strings.Contains(name, "grpc-go") {
				words = []string{"signed by unknown authority", "no load was sent"} // grpc-go's words
			}
			if exitCode(err) != 1 || err == nil || strings.Contains(err.Error(), "\n") || !containsAll(err.Error(), words) {
				t.Errorf("exit %d, %v\n%s", exitCode(err), err, log)
			}
			if n := inferences(t, pods.kserve) + inferences(t, pods.plain); n != 0 {
				t.Errorf("%d inferences served", n)
			}
		})
	}
}

// TestTLSFlagErrors: TLS settings that cannot work are refused before
// anything is sent, each with one line.
func TestTLSFlagErrors(t *testing.T) {
	certs := reftest.NewCerts(t)
	missing := filepath.Join(t.TempDir(), "nope.pem")
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		args  []string
		words string
	}{
		{[]string{"--url", "http://127.0.0.1:1", "--ca-cert", certs.CA}, "use https://"},
		{[]string{"--protocol", "kserve-grpc", "--url", "grpc://127.0.0.1:1", "--tls"}, "use grpcs://"},
		{[]string{"--url", "https://127.0.0.1:1", "--cert", certs.ClientCert}, "needs its private key"},
		{[]string{"--url", "https://127.0.0.1:1", "--ca-cert", missing}, "nope.pem: no such file"},
		{[]string{"--url", "https://127.0.0.1:1", "--ca-cert", notPEM}, "no PEM certificate"},
		{[]string{"--url", "https://127.0.0.1:1", "--cert", certs.ClientCert, "--key", certs.ServerKey}, "private key does not match public key"},
		{[]string{"--protocol", "kserve-grpc", "--url", "127.0.0.1:1", "--authority", "a b"}, "--authority"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"bench", "-q", "--model", "m", "-n", "1"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.words) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", tc.args, err, tc.words)
		}
	}
}

// TestRunPlanTLS: a plan's tls sections, one deployment with
// insecure_skip_verify, which every report and the log warn about.
func TestRunPlanTLS(t *testing.T) {
	certs := reftest.NewCerts(t)
	pods := startTLSPods(t, certs, certs.CA)
	path := writePlan(t, `deployments:
  - name: verified
    protocol: kserve-grpc
    url: grpcs://`+pods.kserve.GRPCAddr+`
    model: yolov8n
    metrics_url: "off"
    tls:
      ca_cert: `+certs.CA+`
      cert: `+certs.ClientCert+`
      key: `+certs.ClientKey+`
  - name: unverified
    protocol: kserve-http
    url: `+pods.kserve.HTTPAddr+`
    model: yolov8n
    metrics_url: "off"
    tls:
      insecure_skip_verify: true
      cert: `+certs.ClientCert+`
      key: `+certs.ClientKey+`
steps:
  - {name: s, concurrency: 2, requests: 20}
`)
	dir := t.TempDir()
	out, log, err := runCLI(context.Background(), "run", path, "-o", dir)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, log)
	}
	f, err := result.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Runs {
		warned := strings.Contains(strings.Join(r.Facts.Notes, " "), "insecure_skip_verify")
		if r.Counts.OK != 20 || warned != (r.Deployment.Name == "unverified") {
			t.Errorf("%s: %+v, notes %q", r.Deployment.Name, r.Counts, r.Facts.Notes)
		}
	}
	if !strings.Contains(out, "insecure_skip_verify") || !strings.Contains(log, "WARNING unverified") {
		t.Errorf("the report or the log does not warn:\n%s\n%s", out, log)
	}
}

// containsAll reports whether s contains every one of words.
func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

package refserver_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
)

// TestConfigTLS: a pod's tls section serves TLS; its errors name the pod,
// the key or the file.
func TestConfigTLS(t *testing.T) {
	certs := reftest.NewCerts(t)
	yaml := strings.Replace(goodPod("        emulator: {kind: fifo}\n"), "    http: 127.0.0.1:0\n", "    http: 127.0.0.1:0\n    grpc: 127.0.0.1:0\n    tls: {cert: "+certs.ServerCert+", key: "+certs.ServerKey+", client_ca: "+certs.CA+"}\n", 1)
	c, err := refserver.ParseConfig("tls.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	if cfg := specs[0].Options.TLS; cfg == nil || len(cfg.Certificates) != 1 || cfg.ClientCAs == nil {
		t.Fatalf("TLS %+v", cfg)
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		t.Fatal(err)
	}
	var banner bytes.Buffer
	refserver.WriteBanner(&banner, pods, "", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	refserver.ShutdownPods(ctx, pods)
	if !strings.Contains(banner.String(), "https://") || !strings.Contains(banner.String(), "grpcs://") || !strings.Contains(banner.String(), "client certificates required") {
		t.Errorf("banner:\n%s", banner.String())
	}

	for _, tc := range []struct{ tls, words string }{
		{"{cert: " + certs.ServerCert + ", kee: x}", `tls.yaml:4:`},
		{"{cert: " + certs.ServerCert + "}", "needs a certificate and its key"},
		{"{cert: /nonexistent.pem, key: " + certs.ServerKey + "}", "/nonexistent.pem: no such file"},
		{"{cert: " + certs.ServerCert + ", key: " + certs.ClientKey + "}", "private key does not match"},
	} {
		yaml := strings.Replace(goodPod("        emulator: {kind: fifo}\n"), "    http: 127.0.0.1:0\n", "    http: 127.0.0.1:0\n    tls: "+tc.tls+"\n", 1)
		_, err := refserver.ParseConfig("tls.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("tls %s: %v, want %q", tc.tls, err, tc.words)
		}
	}
}

// TestServeOptionsTLS: the TLS flags apply to the single model's pod, and
// to the pods of a preset.
func TestServeOptionsTLS(t *testing.T) {
	certs := reftest.NewCerts(t)
	o := refserver.ServeOptions{SingleModel: refserver.SingleModel{HTTPAddr: "127.0.0.1:0", Model: "m", Emulator: "fifo", ServiceTime: time.Millisecond,
		Inputs: []string{"x:FP32:4"}, Outputs: []string{"y:FP32:8"}}, TimeScale: 1,
		TLS: refserver.TLSFiles{Cert: certs.ServerCert, Key: certs.ServerKey}}
	c, _, err := o.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.Pods[0].TLS.Cert != certs.ServerCert {
		t.Errorf("pod TLS %+v", c.Pods[0].TLS)
	}
	o = refserver.ServeOptions{Preset: "field-guide", BasePort: 0, TimeScale: 1, TLS: refserver.TLSFiles{Cert: certs.ServerCert, Key: certs.ServerKey}}
	if c, _, err = o.Resolve(); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Pods {
		if p.TLS.Cert != certs.ServerCert {
			t.Errorf("pod %s TLS %+v", p.Name, p.TLS)
		}
	}
	o.TLS.Key = ""
	if _, _, err := o.Resolve(); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("a certificate without its key: %v", err)
	}
}

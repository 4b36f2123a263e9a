package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxResponseSizeFlag: --max-response-size reads sizes with units
// into the deployment, and a bad one is refused before anything connects
// (the URL is a port nothing listens on), on every command that has it.
func TestMaxResponseSizeFlag(t *testing.T) {
	f := &endpointFlags{url: "127.0.0.1:1", protocol: "kserve-grpc", model: "m", timeout: 1, connectTimeout: 1, connections: 1, format: "text", maxResponseSize: "16MiB"}
	d, err := f.deployment()
	if err != nil || d.MaxResponseSize != 16<<20 {
		t.Fatalf("--max-response-size 16MiB: %d bytes, %v", d.MaxResponseSize, err)
	}
	f.maxResponseSize = ""
	if d, err := f.deployment(); err != nil || d.MaxResponseSize != 0 {
		t.Fatalf("no --max-response-size: %d bytes, %v (want 0, the default)", d.MaxResponseSize, err)
	}

	planPath := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(planPath, []byte("deployments:\n  - {name: a, protocol: kserve-grpc, url: \"127.0.0.1:1\", model: m}\nsequence: baseline\n"), 0o644)
	for _, args := range [][]string{
		{"bench", "--url", "127.0.0.1:1", "--protocol", "kserve-grpc", "--model", "m"},
		{"sweep", "--url", "127.0.0.1:1", "--protocol", "kserve-grpc", "--model", "m"},
		{"check", "--url", "127.0.0.1:1", "--protocol", "kserve-grpc"},
		{"run", planPath, "-o", t.TempDir()},
	} {
		for bad, want := range map[string]string{
			"64":      "64 bytes is below 1 KiB: give a unit, for example 64MiB",
			"64 megs": `unknown unit "megs"`,
			"-1MiB":   "is negative",
		} {
			_, _, err := runCLI(context.Background(), append(args, "--max-response-size", bad)...)
			if err == nil || !strings.Contains(err.Error(), "--max-response-size") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "refused") {
				t.Errorf("%s --max-response-size %q: %v, want %q", args[0], bad, err, want)
			}
		}
	}
}

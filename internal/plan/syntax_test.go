package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyntaxErrorPlace: a YAML syntax error is placed at its cause, not
// where yaml.v3 says the construct around it began.
func TestSyntaxErrorPlace(t *testing.T) {
	const head = "deployments:\n  - name: a\n    url: http://127.0.0.1:8000\n"
	tests := []struct {
		name, text, want string
	}{
		{"bad indentation on line 4", head + "   model: m\n    protocol: kserve-http\nsequence: recommended\n", "p.yaml:4:4: YAML syntax: did not find expected '-' indicator"},
		{"a tab on line 4", head + "\tmodel: m\nsequence: recommended\n", "p.yaml:4:1: YAML syntax: found a tab character that violates indentation"},
		{"an unclosed { on line 7", head + "    model: m\n    protocol: kserve-http\n    timeout: 5s\n    headers: {a: b\n\nsteps:\n  - {name: s, concurrency: 1}\n",
			"p.yaml:7:14: YAML syntax: did not find expected ',' or '}'"},
		{"an unclosed [ at the end", "deployments: [\n", "p.yaml:1:1: YAML syntax: did not find expected node content"},
		{"a key inside a value on line 5", head + "    model: m\n    protocol: kserve-http: x\n", "p.yaml:5:5: YAML syntax: mapping values are not allowed in this context"},
		{"an unterminated quote on line 4", head + "    model: 'm\n", "p.yaml:4:5: YAML syntax: found unexpected end of stream"},
		{"a multi-line flow list before a bad indentation", "sequence: recommended\nx: [1,\n  2]\ndeployments:\n  - name: a\n    url: u\n   model: m\n",
			"p.yaml:7:4: YAML syntax: did not find expected '-' indicator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.text), env(nil))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestPlanSizeIsCapped: a plan larger than MaxSize is refused, from a
// file without reading it all, and in memory.
func TestPlanSizeIsCapped(t *testing.T) {
	big := "sequence: recommended\n# " + strings.Repeat("x", MaxSize) + "\n"
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "the plan is larger than 1024 KiB"
	if _, err := LoadFile(path, env(nil)); err == nil || !strings.Contains(err.Error(), want) || !IsPlanError(err) {
		t.Errorf("LoadFile: %v, want a plan error %q", err, want)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile: %v", err)
	}
	if _, err := Parse("p.yaml", []byte(big), env(nil)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Parse: %v", err)
	}
}

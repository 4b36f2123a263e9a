package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// check's flags reach the conformance checks: --reference over every
// protocol, and a malformed --header refused before anything starts.
func TestCheckCommand(t *testing.T) {
	var out bytes.Buffer
	root := NewRootCommand(&out, &out)
	root.SetArgs([]string{"check", "--reference", "-n", "1", "--service-time", "1ms", "-H", "X-A: b"})
	if err := root.ExecuteContext(context.Background()); err != nil || !strings.Contains(out.String(), "PASS: all 3 endpoint(s)") {
		t.Errorf("check --reference: %v\n%s", err, out.String())
	}

	out.Reset()
	root = NewRootCommand(&out, &out)
	root.SetArgs([]string{"check", "--reference", "-H", "no colon"})
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), `--header "no colon": want "Name: value"`) {
		t.Errorf("check -H 'no colon': error %v", err)
	}
}

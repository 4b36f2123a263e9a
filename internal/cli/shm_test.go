//go:build linux

package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/session"
)

// shmLeft lists what of this process is in /dev/shm, and the regions the
// server still has registered ("" when it cannot be asked).
func shmLeft(t *testing.T, r *refserver.Running) (files []string, registered string) {
	t.Helper()
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), protocol.SHMPrefix()) {
			files = append(files, e.Name())
		}
	}
	res, err := http.Get("http://" + r.HTTPAddr + "/v2/systemsharedmemory/status")
	if err != nil {
		return files, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return files, strings.TrimSpace(string(b))
}

// TestBenchSharedMemory: bench with --shared-memory system runs clean and
// leaves nothing behind, after a full run, after Ctrl-C and after the
// server died mid-run; cuda and gRPC are refused before anything is sent.
func TestBenchSharedMemory(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, 0), 0)
	url := urlFor(r, protocol.KServeHTTP)
	f, _, err := benchJSON(t, context.Background(), "--url", url, "--model", "m", "-c", "4", "-n", "200", "--shared-memory", "system")
	if err != nil {
		t.Fatal(err)
	}
	if run := f.Runs[0]; run.Counts.OK != 200 || run.Counts.Errors != 0 {
		t.Errorf("counts %+v, want 200 ok", run.Counts)
	}
	if files, reg := shmLeft(t, r); len(files) > 0 || reg != "[]" {
		t.Errorf("after the run: /dev/shm has %v, the server %s", files, reg)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel) // Ctrl-C
	_, _, err = runCLI(ctx, "bench", "--url", url, "--model", "m", "-c", "4", "-n", "1000000", "--shared-memory", "system")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Errorf("interrupted: err = %v, want exit code 130", err)
	}
	if files, reg := shmLeft(t, r); len(files) > 0 || reg != "[]" {
		t.Errorf("after Ctrl-C: /dev/shm has %v, the server %s", files, reg)
	}

	em := &dyingEmulator{Emulator: refserver.NewInstances(8, time.Millisecond), n: 60}
	dying := refServer(t, em, 0)
	em.die = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dying.Shutdown(ctx)
	}
	if _, _, err := benchJSON(t, context.Background(), "--url", urlFor(dying, protocol.KServeHTTP), "--model", "m", "-c", "4", "-d", "1s", "--timeout", "2s", "--shared-memory", "system"); err != nil {
		t.Fatalf("a dead server must not fail the run: %v", err)
	}
	if files, _ := shmLeft(t, dying); len(files) > 0 {
		t.Errorf("after the server died: /dev/shm has %v", files)
	}

	for _, tc := range []struct{ args, want string }{
		{"--shared-memory cuda", "needs a GPU"},
		{"--shared-memory system --protocol nim-http", "not for protocol nim-http"},
	} {
		u := url
		_, _, err := runCLI(context.Background(), append([]string{"bench", "--url", u, "--model", "m", "-n", "5"}, strings.Fields(tc.args)...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.args, err, tc.want)
		}
	}
}

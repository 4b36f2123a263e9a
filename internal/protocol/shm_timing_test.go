//go:build timing && linux

package protocol_test

import "testing"

// TestSharedMemoryClientCPUTenfold is the acceptance: at c=8 on
// the YOLO model, shared memory costs the client at least 10x less CPU
// per request than binary HTTP. Run on a quiet machine:
// go test -tags timing -run Tenfold ./internal/protocol/
func TestSharedMemoryClientCPUTenfold(t *testing.T) {
	binary, shm := shmCPUPerRequest(t, 100)
	if binary < 10*shm {
		t.Errorf("client CPU per request: binary HTTP %v, shared memory %v: want at least 10x lower", binary, shm)
	}
}

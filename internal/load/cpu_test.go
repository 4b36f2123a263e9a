package load

import (
	"runtime"
	"testing"
	"time"
)

// TestProcessCPU: where the operating system gives the process's CPU time
// (every unix and Windows), it is read and grows while the process works.
func TestProcessCPU(t *testing.T) {
	before, ok := processCPU()
	switch runtime.GOOS {
	case "js", "wasip1", "plan9":
		if ok {
			t.Fatalf("processCPU on %s = %v, measured; want not measured", runtime.GOOS, before)
		}
		return
	}
	if !ok {
		t.Fatalf("processCPU on %s: not measured", runtime.GOOS)
	}
	// Spin until the figure moves (the kernel may account in ticks).
	x := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 1e6; i++ {
			x += i
		}
		if after, _ := processCPU(); after > before {
			return
		}
	}
	t.Errorf("processCPU did not grow in 5 s of spinning (%v, %d)", before, x)
}

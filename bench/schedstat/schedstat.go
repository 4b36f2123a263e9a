// Package schedstat reads how long this process's threads ran on a CPU
// and waited for one, from Linux's /proc/self/task/*/schedstat: the
// bench programs' measure of a machine that does not give them the CPU.
package schedstat

import (
	"fmt"
	"os"
	"path/filepath"
)

// Sum is the CPU time and the time waiting for a CPU (run_delay) of the
// process's threads, in ns, summed (zeros where /proc has none).
func Sum() (ran, waited int64) {
	paths, _ := filepath.Glob("/proc/self/task/*/schedstat")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var r, w int64
		if _, err := fmt.Sscan(string(b), &r, &w); err == nil {
			ran += r
			waited += w
		}
	}
	return ran, waited
}

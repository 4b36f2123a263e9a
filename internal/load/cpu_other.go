//go:build !unix && !windows

package load

import "time"

// processCPU reports no figure: this operating system (Plan 9, WebAssembly
// hosts) has no process CPU time that the standard library reads. The
// result then says the client's CPU was not measured.
func processCPU() (time.Duration, bool) {
	return 0, false
}

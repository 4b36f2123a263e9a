//go:build windows

package load

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and kernel, and
// whether the operating system gave it.
func processCPU() (time.Duration, bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, false
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, false
	}
	return filetimeDuration(kernel) + filetimeDuration(user), true
}

// filetimeDuration reads a FILETIME that holds a duration (a count of 100 ns
// intervals), not a date: Filetime.Nanoseconds would subtract the 1601 epoch.
func filetimeDuration(ft syscall.Filetime) time.Duration {
	return time.Duration(uint64(ft.HighDateTime)<<32|uint64(ft.LowDateTime)) * 100
}

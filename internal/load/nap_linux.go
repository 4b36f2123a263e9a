package load

import (
	"syscall"
	"time"
)

// nap sleeps d in the kernel (nanosleep), to the tens of µs: the goroutine
// holds its thread meanwhile, and the process may go idle without the
// runtime's poller rounding its wake-up up to the next millisecond.
func nap(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

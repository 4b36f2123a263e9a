//go:build !linux

package load

import "time"

// nap sleeps d (see nap_linux.go: elsewhere, the runtime's own sleep).
func nap(d time.Duration) { time.Sleep(d) }

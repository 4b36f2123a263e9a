//go:build !windows && !plan9

package protocol

import (
	"errors"
	"syscall"
)

// connectionRefused reports whether err is the peer refusing the
// connection (no server listening).
func connectionRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// connectionReset reports whether err is the peer resetting the
// connection, or writing to one it closed.
func connectionReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

package protocol

import (
	"errors"
	"syscall"
)

// Winsock's own error numbers: on Windows the net package returns these,
// not the POSIX-like constants the syscall package defines for it.
const (
	wsaECONNABORTED syscall.Errno = 10053
	wsaECONNRESET   syscall.Errno = 10054
	wsaECONNREFUSED syscall.Errno = 10061
)

// connectionRefused reports whether err is the peer refusing the
// connection (no server listening).
func connectionRefused(err error) bool {
	return errors.Is(err, wsaECONNREFUSED) || errors.Is(err, syscall.ECONNREFUSED)
}

// connectionReset reports whether err is the peer resetting or aborting
// the connection, or writing to one it closed.
func connectionReset(err error) bool {
	return errors.Is(err, wsaECONNRESET) || errors.Is(err, wsaECONNABORTED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

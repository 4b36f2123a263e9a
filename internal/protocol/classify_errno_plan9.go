package protocol

import "strings"

// connectionRefused reports whether err is the peer refusing the
// connection: Plan 9 has no error numbers, only its messages.
func connectionRefused(err error) bool { return strings.Contains(err.Error(), "connection refused") }

// connectionReset reports whether err is the peer resetting the
// connection, or writing to one it closed.
func connectionReset(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "hungup") || strings.Contains(msg, "broken pipe")
}

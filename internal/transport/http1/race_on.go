//go:build race

package http1

// raceEnabled: the race detector cannot see the kernel's socket as the
// synchronisation between a server's write and the client's read, which
// net.Conn declares to it (internal/poll's ioSync) and raw system calls do
// not; under it connections go through net.Conn.
const raceEnabled = true

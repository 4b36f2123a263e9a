package http1

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a plain TCP connection's non-blocking socket
// with raw system calls, waiting on Go's network poller (with the
// connection's deadline) only when the socket is not ready, as net.Conn
// does, but without the runtime's syscall entry and exit. That entry is
// what costs at low concurrency: while a worker waits for its answer every
// P is idle and sysmon sleeps, and the next entersyscall (the next
// request's write) wakes it again, a futex wake and two of sysmon's
// context switches per request, measured at a fifth of the client's CPU at
// concurrency 1 (bench/README.md, "Client overhead: inferbench against
// wrk"). A raw call on a non-blocking socket returns at once, so not
// telling the scheduler loses nothing; calls of more than rawMax bytes,
// whose copy takes long enough for the scheduler to want the P back, go
// through net.Conn.
type rawIO struct {
	nc  net.Conn
	raw syscall.RawConn
	// The callbacks given to raw, made once (a closure per call would be
	// allocated), and what they read into and write from.
	readFn, writeFn func(fd uintptr) bool
	rp, wp          []byte
	rn, wn          int
	rerr, werr      syscall.Errno
}

// rawMax is the largest read or write made with a raw system call.
const rawMax = 64 << 10

func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > rawMax {
		return r.nc.Read(p)
	}
	r.rp, r.rn, r.rerr = p, 0, 0
	err := r.raw.Read(r.readFn)
	n, rerr := r.rn, r.rerr
	r.rp = nil
	switch {
	case err != nil:
		return 0, err // the deadline, or closed
	case rerr != 0:
		return 0, r.opError("read", rerr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// read is readFn: one read(2), or false to wait on the poller when the
// socket has nothing yet.
func (r *rawIO) read(fd uintptr) bool {
	for {
		k, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.rp[0])), uintptr(len(r.rp)))
		if e == syscall.EINTR {
			continue
		}
		r.rn, r.rerr = int(k), e
		return e != syscall.EAGAIN
	}
}

func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) > rawMax {
		return r.nc.Write(p)
	}
	r.wp, r.wn, r.werr = p, 0, 0
	err := r.raw.Write(r.writeFn)
	n, werr := r.wn, r.werr
	r.wp = nil
	switch {
	case err != nil:
		return n, err
	case werr != 0:
		return n, r.opError("write", werr)
	}
	return n, nil
}

// write is writeFn: write(2) until all of wp is written, or false to wait
// on the poller when the socket's buffer is full.
func (r *rawIO) write(fd uintptr) bool {
	for r.wn < len(r.wp) {
		k, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.wp[r.wn])), uintptr(len(r.wp)-r.wn))
		switch e {
		case 0:
			r.wn += int(k)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.werr = e
			return true
		}
	}
	return true
}

// opError words a socket error as net.Conn would.
func (r *rawIO) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: r.nc.LocalAddr(), Addr: r.nc.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}

// newRawIO returns the raw reads and writes of a plain TCP connection, or
// nil under the race detector (see raceEnabled).
func newRawIO(nc net.Conn, raw syscall.RawConn) io.ReadWriter {
	if raceEnabled {
		return nil
	}
	r := &rawIO{nc: nc, raw: raw}
	r.readFn, r.writeFn = r.read, r.write
	return r
}

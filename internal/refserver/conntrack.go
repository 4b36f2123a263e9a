package refserver

import (
	"net"
	"sync"
)

// connTracker remembers a listener's open connections by their remote
// address, so that a handler that knows its peer (gRPC's peer.FromContext)
// can break its transport: the drop fault over gRPC.
type connTracker struct {
	mu    sync.Mutex
	conns map[string]*trackedConn
}

// wrap makes l record the connections it accepts.
func (t *connTracker) wrap(l net.Listener) net.Listener { return &trackingListener{Listener: l, t: t} }

// drop closes the connection from the remote address addr, reporting
// whether there was one.
func (t *connTracker) drop(addr string) bool {
	t.mu.Lock()
	c := t.conns[addr]
	t.mu.Unlock()
	if c == nil {
		return false
	}
	c.Close()
	return true
}

type trackingListener struct {
	net.Listener
	t *connTracker
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: l.t, key: c.RemoteAddr().String()}
	l.t.mu.Lock()
	if l.t.conns == nil {
		l.t.conns = map[string]*trackedConn{}
	}
	l.t.conns[tc.key] = tc
	l.t.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	key  string
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		if c.t.conns[c.key] == c {
			delete(c.t.conns, c.key)
		}
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

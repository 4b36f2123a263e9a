package protocol

import (
	"context"
	"net"
	"sync"
	"time"
)

// aLongTimeAgo is a deadline that has passed: setting it interrupts any
// blocked read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// abortWatch interrupts a caller's blocked I/O when the context of its
// calls ends, by setting a past deadline on the connection in use. It
// registers with the context once (context.AfterFunc allocates), not per
// call: a load worker's calls share one context.
type abortWatch struct {
	mu      sync.Mutex
	done    <-chan struct{} // of the context watched; nil for none
	stop    func() bool     // unregisters from it
	conn    net.Conn        // in use by a call, or nil
	aborted bool            // the context ended
}

// follow makes w watch ctx; a context that ends with the one already
// watched (the same Done channel) changes nothing.
func (w *abortWatch) follow(ctx context.Context) {
	done := ctx.Done()
	if done == w.done {
		return
	}
	w.release()
	w.mu.Lock()
	w.done, w.aborted = done, false
	w.mu.Unlock()
	if done != nil {
		w.stop = context.AfterFunc(ctx, w.abort)
	}
}

// abort runs when the context ends.
func (w *abortWatch) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = true
	if w.conn != nil {
		w.conn.SetDeadline(aLongTimeAgo)
	}
}

// attach marks nc in use; false when the context has already ended.
func (w *abortWatch) attach(nc net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.aborted {
		return false
	}
	w.conn = nc
	return true
}

// detach marks the end of the I/O on the connection.
func (w *abortWatch) detach() {
	w.mu.Lock()
	w.conn = nil
	w.mu.Unlock()
}

// release stops watching.
func (w *abortWatch) release() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.mu.Lock()
	w.done, w.aborted = nil, false
	w.mu.Unlock()
}

// Package transport holds what inferbench's two wires share: dialing with
// a connect timeout, a call's deadline, the watch that interrupts blocked
// I/O when a call's context ends, header fields, and the errors a call
// over either wire fails with. The HTTP/1.1 client (http1) and the HTTP/2
// gRPC transport (h2) are built on it; neither knows of KServe.
package transport

import (
	"context"
	"net"
	"sync"
	"time"
)

// aLongTimeAgo is a deadline that has passed: setting it interrupts any
// blocked read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// AbortWatch interrupts a caller's blocked I/O when the context of its
// calls ends, by setting a past deadline on the connection in use. It
// registers with the context once (context.AfterFunc allocates), not per
// call: a load worker's calls share one context.
type AbortWatch struct {
	mu      sync.Mutex
	done    <-chan struct{} // of the context watched; nil for none
	stop    func() bool     // unregisters from it
	conn    net.Conn        // in use by a call, or nil
	aborted bool            // the context ended
}

// Follow makes w watch ctx; a context that ends with the one already
// watched (the same Done channel) changes nothing.
func (w *AbortWatch) Follow(ctx context.Context) {
	done := ctx.Done()
	if done == w.done {
		return
	}
	w.Release()
	w.mu.Lock()
	w.done, w.aborted = done, false
	w.mu.Unlock()
	if done != nil {
		w.stop = context.AfterFunc(ctx, func() { w.abort(done) })
	}
}

// abort runs when the context whose Done channel is done ends. It may run
// late, after Follow moved on to another context (Release cannot stop an
// AfterFunc that has started): then it must not touch the next context's
// calls.
func (w *AbortWatch) abort(done <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != done {
		return
	}
	w.aborted = true
	if w.conn != nil {
		w.conn.SetDeadline(aLongTimeAgo)
	}
}

// Attach marks nc in use; false when the context has already ended.
func (w *AbortWatch) Attach(nc net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.aborted {
		return false
	}
	w.conn = nc
	return true
}

// Detach marks the end of the I/O on the connection.
func (w *AbortWatch) Detach() {
	w.mu.Lock()
	w.conn = nil
	w.mu.Unlock()
}

// Release stops watching.
func (w *AbortWatch) Release() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.mu.Lock()
	w.done, w.aborted = nil, false
	w.mu.Unlock()
}

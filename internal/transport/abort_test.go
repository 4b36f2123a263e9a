package transport

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestAbortOfAnEarlierContextIsIgnored: an abort that runs late, after the
// watch moved on to the next call's context, leaves that call alone (it
// made a call on a fresh context fail at once as "canceled" on a busy
// machine).
func TestAbortOfAnEarlierContextIsIgnored(t *testing.T) {
	var w AbortWatch
	first, cancel := context.WithCancel(context.Background())
	w.Follow(first)
	stale := w.done
	w.Follow(context.Background()) // the next call's context: never ends
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if !w.Attach(a) {
		t.Fatal("a fresh context refused the connection")
	}
	cancel()
	w.abort(stale) // as the first context's AfterFunc, scheduled late, would
	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	go b.Write([]byte("x"))
	buf := make([]byte, 1)
	if _, err := a.Read(buf); err != nil {
		t.Fatalf("the connection of the next call was aborted: %v", err)
	}
	w.Detach()
	if !w.Attach(a) {
		t.Error("the next call's context was marked aborted")
	}

	// The abort of the context watched still works.
	ctx, cancel2 := context.WithCancel(context.Background())
	w.Follow(ctx)
	cancel2()
	deadline := time.Now().Add(5 * time.Second)
	for w.Attach(a) && time.Now().Before(deadline) {
		w.Detach()
		time.Sleep(time.Millisecond)
	}
	if w.Attach(a) {
		t.Error("the watched context ended and the watch did not abort")
	}
	w.Release()
}

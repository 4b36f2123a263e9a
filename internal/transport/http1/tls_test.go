//go:build unix

// The idle probe these tests exercise peeks the socket (probe_unix.go);
// elsewhere a connection is not probed (probe_other.go).

package http1

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/transport"
)

// The idle probe under TLS. TLS 1.3 servers send session tickets after
// the handshake, and close_notify before they close: records the raw
// socket holds while a connection is idle. A ticket must not make a live
// connection look dead (which would put a new handshake inside the next
// measured call); a close_notify must.

// tlsServer is an httptest TLS server (TLS 1.3, session tickets on, as Go's
// default) that counts its handshakes, and the client configuration that
// trusts it, with a session cache as protocol.clientTLS sets (a client
// without one is sent no tickets). It asks for a client certificate (and
// takes none), as a mutual-TLS server does: its tickets then follow the
// client's Finished, after the client's handshake is over, so they wait
// unread on the socket (without a request for a certificate Go's server
// sends them in its first flight, and the client's handshake reads them
// with it).
func tlsServer(t *testing.T, h http.HandlerFunc) (srv *httptest.Server, handshakes *atomic.Int64, cfg *tls.Config) {
	t.Helper()
	handshakes = &atomic.Int64{}
	srv = httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequestClientCert, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		handshakes.Add(1)
		return nil, nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}, ClientSessionCache: &countingCache{ClientSessionCache: tls.NewLRUClientSessionCache(8)}}
	return srv, handshakes, cfg
}

// countingCache counts the session tickets the client stored.
type countingCache struct {
	tls.ClientSessionCache
	puts atomic.Int64
}

func (c *countingCache) Put(key string, cs *tls.ClientSessionState) {
	c.puts.Add(1)
	c.ClientSessionCache.Put(key, cs)
}

// pending waits until the connection's socket holds unread bytes, or the
// server's close.
func pending(t *testing.T, c *conn) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		var buf [1]byte
		n := 0
		var perr error
		c.raw.Read(func(fd uintptr) bool {
			n, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return true
		})
		if n > 0 || perr == nil { // bytes, or EOF
			return
		}
	}
	t.Fatal("nothing arrived on the idle connection")
}

// TestProbeUnreadTicket: a connection whose session ticket arrived after
// its handshake and was never read (the raw socket holds it) is alive; the
// probe hands the ticket to TLS, and a request on the connection then
// succeeds without a new handshake.
func TestProbeUnreadTicket(t *testing.T) {
	srv, handshakes, cfg := tlsServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	d := &transport.Dialer{Addr: srv.Listener.Addr().String(), TLS: cfg, Timeout: 10 * time.Second}
	c, err := dial(context.Background(), d, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	pending(t, c) // the ticket, sent after the server's Finished
	if !c.alive() {
		t.Fatal("a connection holding an unread session ticket was taken for dead")
	}
	if puts := cfg.ClientSessionCache.(*countingCache).puts.Load(); puts < 1 {
		t.Errorf("the probe stored %d session tickets, want at least 1", puts)
	}
	if !c.alive() {
		t.Fatal("the connection is not alive at the second probe")
	}
	tr := New(Config{Timeout: time.Minute, Limit: 1 << 20})
	tr.pool.put(c)
	c.idle = time.Now().Add(-time.Hour) // probed again before reuse
	var (
		w    transport.AbortWatch
		res  Response
		body []byte
	)
	req := AppendRequestHead(nil, "GET", "/", []transport.HeaderField{{Name: "Host", Value: "x"}}, -1)
	if err := tr.Exchange(context.Background(), &w, "GET /", req, "GET", &res, &body); err != nil || res.Status != 200 || string(body) != "ok" {
		t.Fatalf("request on the probed connection: %v, status %d, body %q", err, res.Status, body)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d handshakes, want 1: the connection was replaced", n)
	}
}

// TestProbeCloseNotify: a connection the server closed with close_notify
// is dead, and one whose server closed the socket alone too.
func TestProbeCloseNotify(t *testing.T) {
	for _, notify := range []bool{true, false} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		srv, _, cfg := tlsServer(t, nil) // for its certificate
		serverCfg := &tls.Config{Certificates: srv.TLS.Certificates, NextProtos: []string{"http/1.1"}, ClientAuth: tls.RequestClientCert}
		done := make(chan struct{})
		go func() {
			defer close(done)
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			tc := tls.Server(nc, serverCfg)
			if tc.Handshake() != nil {
				nc.Close()
				return
			}
			if notify {
				tc.Close() // close_notify, then the socket
			} else {
				nc.Close()
			}
		}()
		d := &transport.Dialer{Addr: ln.Addr().String(), TLS: cfg, Timeout: 10 * time.Second}
		c, err := dial(context.Background(), d, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		<-done
		pending(t, c)
		if c.alive() {
			t.Errorf("close_notify %v: a closed connection was taken for alive", notify)
		}
		c.close()
	}
}

// TestTLSIdleReuse: 1,000 requests at concurrency 4 with a 2 s pause in the
// middle (every connection then idle longer than probeIdleAfter, so
// probed) against a TLS 1.3 server that sends session tickets: exactly 4
// handshakes, one per connection. A probe that took a connection for dead
// would open another, with its handshake inside a call.
func TestTLSIdleReuse(t *testing.T) {
	srv, handshakes, cfg := tlsServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	const workers, requests = 4, 1000
	tr := New(Config{Dialer: transport.Dialer{Addr: srv.Listener.Addr().String(), TLS: cfg, Timeout: 10 * time.Second},
		MaxIdle: workers, Timeout: time.Minute, Limit: 1 << 20})
	defer tr.Close()
	req := AppendRequestHead(nil, "GET", "/", []transport.HeaderField{{Name: "Host", Value: "x"}}, -1)
	var failed atomic.Int64
	half := func() {
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var (
					w    transport.AbortWatch
					res  Response
					body []byte
				)
				for range requests / 2 / workers {
					if err := tr.Exchange(context.Background(), &w, "GET /", req, "GET", &res, &body); err != nil || res.Status != 200 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	}
	half()
	time.Sleep(2 * time.Second)
	half()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed", n, requests)
	}
	if n := handshakes.Load(); n != workers {
		t.Errorf("%d TLS handshakes for %d requests at c=%d with a pause, want %d (one per connection)", n, requests, workers, workers)
	}
	if puts := cfg.ClientSessionCache.(*countingCache).puts.Load(); puts < 1 {
		t.Errorf("the server sent no session ticket the client read (%d): the test does not exercise them", puts)
	}
}

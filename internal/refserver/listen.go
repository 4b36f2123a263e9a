package refserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Addrs are the addresses to listen on; a port of 0 picks a free port and
// an empty address leaves that listener off.
type Addrs struct {
	HTTP, GRPC, Metrics string
}

// DefaultAddrs are Triton's ports on loopback.
var DefaultAddrs = Addrs{HTTP: "127.0.0.1:8000", GRPC: "127.0.0.1:8001", Metrics: "127.0.0.1:8002"}

// rebindAttempts and rebindPause bound how long a restarting pod tries to
// bind its addresses again.
const (
	rebindAttempts = 50
	rebindPause    = 100 * time.Millisecond
)

// Running is a server bound to its listeners: one pod. A pod whose memory
// limit is exceeded goes down (every listener and connection closed) and
// comes back on the same addresses after its restart time.
type Running struct {
	// Bound addresses, "" for a listener that is off. A restart binds the
	// same ones.
	HTTPAddr, GRPCAddr, MetricsAddr string

	s    *Server
	stop chan struct{} // closed by Shutdown

	mu                        sync.Mutex
	httpServer, metricsServer *http.Server
	grpcServer                *grpc.Server
	stopped                   bool

	wg    sync.WaitGroup
	errMu sync.Mutex
	err   error

	// fresh remembers the HTTP connections that have not sent a request
	// yet, so that Shutdown can close them at once.
	fresh freshConns
}

// freshConns tracks HTTP connections in http.StateNew. http.Server's
// Shutdown waits up to 5 s for such a connection to send its first
// request (Go issue 22682); a client's transport often dials a spare one it
// never uses, which would hold a shutdown for those 5 s.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// track is an http.Server's ConnState hook.
func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		f.conns = map[net.Conn]bool{}
	}
	if state == http.StateNew {
		f.conns[c] = true
	} else {
		delete(f.conns, c)
	}
}

// closeAll closes the connections that never sent a request.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
		delete(f.conns, c)
	}
}

// listeners are a pod's bound listeners, nil for those off.
type listeners struct{ http, grpc, metrics net.Listener }

// bind binds every address; if any cannot be bound, nothing is left open.
func bind(addrs Addrs) (listeners, error) {
	var ls listeners
	var opened []net.Listener
	one := func(addr, what string) (net.Listener, error) {
		if addr == "" {
			return nil, nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, o := range opened {
				o.Close()
			}
			return nil, fmt.Errorf("%s listener on %s: %w", what, addr, err)
		}
		opened = append(opened, l)
		return l, nil
	}
	var err error
	if ls.http, err = one(addrs.HTTP, "HTTP"); err != nil {
		return listeners{}, err
	}
	if ls.grpc, err = one(addrs.GRPC, "gRPC"); err != nil {
		return listeners{}, err
	}
	if ls.metrics, err = one(addrs.Metrics, "metrics"); err != nil {
		return listeners{}, err
	}
	return ls, nil
}

// Listen binds every listener, then serves in the background until
// Shutdown. If any address cannot be bound, nothing is left listening.
func (s *Server) Listen(addrs Addrs) (*Running, error) {
	ls, err := bind(addrs)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", s.name, err)
	}
	r := &Running{s: s, stop: make(chan struct{})}
	addr := func(l net.Listener) string {
		if l == nil {
			return ""
		}
		return l.Addr().String()
	}
	r.HTTPAddr, r.GRPCAddr, r.MetricsAddr = addr(ls.http), addr(ls.grpc), addr(ls.metrics)
	r.mu.Lock()
	r.serveLocked(ls)
	r.mu.Unlock()
	kill := func() {
		if s.down.CompareAndSwap(false, true) {
			go r.crash()
		}
	}
	s.kill.Store(&kill)
	if s.deploy != nil {
		s.deploy.start()
	}
	return r, nil
}

// serveLocked starts a server on each listener.
func (r *Running) serveLocked(ls listeners) {
	serve := func(f func() error) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
				r.errMu.Lock()
				r.err = errors.Join(r.err, err)
				r.errMu.Unlock()
			}
		}()
	}
	if ls.http != nil {
		handler := r.s.HTTPHandler()
		if r.s.httpAPI == APIPlain {
			handler = r.s.PlainHandler()
		}
		hs := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute, ConnState: r.fresh.track}
		r.httpServer = hs
		l := ls.http
		if r.s.tls != nil {
			// HTTP/1.1 only, as Triton's HTTP endpoint: KServe clients speak it.
			cfg := r.s.tls.Clone()
			cfg.NextProtos = []string{"http/1.1"}
			l = tls.NewListener(l, cfg)
		}
		serve(func() error { return hs.Serve(l) })
	}
	if ls.grpc != nil {
		gs := r.s.NewGRPCServer()
		r.grpcServer = gs
		l := r.s.grpcConns.wrap(ls.grpc)
		serve(func() error { return gs.Serve(l) })
	}
	if ls.metrics != nil {
		ms := &http.Server{Handler: r.s.MetricsHandler(), ReadHeaderTimeout: 30 * time.Second, ConnState: r.fresh.track}
		r.metricsServer = ms
		serve(func() error { return ms.Serve(ls.metrics) })
	}
}

// takeServersLocked returns the current servers and forgets them.
func (r *Running) takeServersLocked() (hs, ms *http.Server, gs *grpc.Server) {
	hs, ms, gs = r.httpServer, r.metricsServer, r.grpcServer
	r.httpServer, r.metricsServer, r.grpcServer = nil, nil, nil
	return hs, ms, gs
}

// crash is the pod being OOM-killed: every listener and connection closes
// at once, requests in flight lose their connections, and after the
// restart time the pod serves again.
func (r *Running) crash() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.s.restarts.Add(1)
	hs, ms, gs := r.takeServersLocked()
	r.wg.Add(1)
	r.mu.Unlock()
	for _, h := range []*http.Server{hs, ms} {
		if h != nil {
			h.Close()
		}
	}
	if gs != nil {
		gs.Stop()
	}
	go r.restart()
}

// restart waits out the restart time, then binds the same addresses again
// and serves with fresh Triton statistics, as a restarted container.
func (r *Running) restart() {
	defer r.wg.Done()
	select {
	case <-time.After(r.s.restartTime):
	case <-r.stop:
		return
	}
	for _, m := range r.s.models {
		m.stats.Store(newModelStats())
	}
	var ls listeners
	for attempt := 1; ; attempt++ {
		var err error
		ls, err = bind(Addrs{HTTP: r.HTTPAddr, GRPC: r.GRPCAddr, Metrics: r.MetricsAddr})
		if err == nil {
			break
		}
		if attempt == rebindAttempts {
			r.errMu.Lock()
			r.err = errors.Join(r.err, fmt.Errorf("pod %s could not restart: %w", r.s.name, err))
			r.errMu.Unlock()
			return
		}
		select {
		case <-time.After(rebindPause):
		case <-r.stop:
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		for _, l := range []net.Listener{ls.http, ls.grpc, ls.metrics} {
			if l != nil {
				l.Close()
			}
		}
		return
	}
	r.serveLocked(ls)
	r.s.down.Store(false)
}

// Shutdown stops accepting, lets requests in flight finish until ctx ends,
// then closes everything; a restart under way is abandoned. It returns any
// error the listeners met.
func (r *Running) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		close(r.stop)
	}
	hs, ms, gs := r.takeServersLocked()
	r.mu.Unlock()
	var errs []error
	for _, h := range []*http.Server{hs, ms} {
		if h == nil {
			continue
		}
		h.SetKeepAlivesEnabled(false)
		r.fresh.closeAll()
		if err := h.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			h.Close()
		}
	}
	if gs != nil {
		stopped := make(chan struct{})
		go func() { gs.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			gs.Stop()
			<-stopped
		}
	}
	r.wg.Wait()
	// The shared-memory regions go with the server, as a restarted
	// Triton forgets them: unmapped, whatever their clients did.
	if err := r.s.shm.unregister(""); err != nil {
		errs = append(errs, err)
	}
	if r.s.deploy != nil {
		r.s.deploy.stopAutoscaler()
	}
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return errors.Join(append(errs, r.err)...)
}

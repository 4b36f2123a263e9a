package refserver

import (
	"context"
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

// Running is a server bound to its listeners.
type Running struct {
	// Bound addresses, "" for a listener that is off.
	HTTPAddr, GRPCAddr, MetricsAddr string

	httpServer, metricsServer *http.Server
	grpcServer                *grpc.Server
	wg                        sync.WaitGroup
	errMu                     sync.Mutex
	err                       error
}

// Listen binds every listener, then serves in the background until
// Shutdown. If any address cannot be bound, nothing is left listening.
func (s *Server) Listen(addrs Addrs) (*Running, error) {
	var listeners []net.Listener
	bind := func(addr, what string) (net.Listener, error) {
		if addr == "" {
			return nil, nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, o := range listeners {
				o.Close()
			}
			return nil, fmt.Errorf("%s listener on %s: %w", what, addr, err)
		}
		listeners = append(listeners, l)
		return l, nil
	}
	hl, err := bind(addrs.HTTP, "HTTP")
	if err != nil {
		return nil, err
	}
	gl, err := bind(addrs.GRPC, "gRPC")
	if err != nil {
		return nil, err
	}
	ml, err := bind(addrs.Metrics, "metrics")
	if err != nil {
		return nil, err
	}

	r := &Running{}
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
	if hl != nil {
		r.HTTPAddr = hl.Addr().String()
		r.httpServer = &http.Server{Handler: s.HTTPHandler(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute}
		serve(func() error { return r.httpServer.Serve(hl) })
	}
	if gl != nil {
		r.GRPCAddr = gl.Addr().String()
		r.grpcServer = s.NewGRPCServer()
		serve(func() error { return r.grpcServer.Serve(gl) })
	}
	if ml != nil {
		r.MetricsAddr = ml.Addr().String()
		r.metricsServer = &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 30 * time.Second}
		serve(func() error { return r.metricsServer.Serve(ml) })
	}
	return r, nil
}

// Shutdown stops accepting, lets requests in flight finish until ctx ends,
// then closes everything. It returns any error the listeners met.
func (r *Running) Shutdown(ctx context.Context) error {
	var errs []error
	for _, hs := range []*http.Server{r.httpServer, r.metricsServer} {
		if hs == nil {
			continue
		}
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			hs.Close()
		}
	}
	if r.grpcServer != nil {
		stopped := make(chan struct{})
		go func() { r.grpcServer.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			r.grpcServer.Stop()
			<-stopped
		}
	}
	r.wg.Wait()
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return errors.Join(append(errs, r.err)...)
}

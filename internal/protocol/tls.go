package protocol

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
)

// ALPN protocols: what a client asks the server to speak over TLS.
const (
	alpnHTTP1 = "http/1.1"
	alpnH2    = "h2"
)

// clientTLS is the TLS configuration of a client's connections: base (the
// options' TLS; nil: the system's roots), checked against host unless base
// names a server, offering alpn. Each client gets a session cache of its
// own, so a connection opened again (after the server closed an idle one)
// resumes its TLS session rather than running a full handshake.
func clientTLS(base *tls.Config, host, alpn string) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{alpn}
	if cfg.ClientSessionCache == nil {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	}
	return cfg
}

// grpcTarget reads a gRPC address: host:port, grpc://host:port (plain
// text, h2c) or grpcs://host:port (TLS). withTLS is true for grpcs:// and
// for a bare host:port when the options carry a TLS configuration; TLS
// settings with grpc:// are refused.
func grpcTarget(opts Options) (target string, withTLS bool, err error) {
	target = opts.URL
	scheme := ""
	if s, rest, ok := strings.Cut(target, "://"); ok {
		scheme, target = s, rest
	}
	switch scheme {
	case "":
		withTLS = opts.TLS != nil
	case "grpc":
		if opts.TLS != nil {
			return "", false, fmt.Errorf("server address %q: grpc:// is plain text, but TLS settings are given: use grpcs://", opts.URL)
		}
	case "grpcs":
		withTLS = true
	default:
		return "", false, fmt.Errorf("server address %q: use host:port, grpc://host:port or grpcs://host:port", opts.URL)
	}
	if target == "" {
		return "", false, fmt.Errorf("no server address")
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return "", false, fmt.Errorf("server address %q: %w", opts.URL, err)
	}
	return target, withTLS, nil
}

// hostOf is the host of an authority (host:port, or a host alone).
func hostOf(authority string) string {
	if h, _, err := net.SplitHostPort(authority); err == nil {
		return h
	}
	return authority
}

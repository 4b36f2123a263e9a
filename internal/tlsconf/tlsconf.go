// Package tlsconf builds TLS configurations from files: the client's of a
// deployment (the CA certificates to trust, a client certificate for
// mutual TLS, the server name to check) and the reference server's. It
// is the one place certificate and key files are read; every error names
// the file and its problem.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// Client is a deployment's TLS settings, as flags and plans give them.
type Client struct {
	// Enabled turns TLS on for an address without a scheme (--tls); an
	// https:// or grpcs:// URL turns it on by itself.
	Enabled bool
	// CACert is a PEM file of the CA certificates to trust instead of the
	// system's.
	CACert string
	// Cert and Key are the client's certificate and private key (PEM), for
	// servers that require one (mutual TLS).
	Cert, Key string
	// InsecureSkipVerify accepts any server certificate: the connection is
	// encrypted but the server is not authenticated.
	InsecureSkipVerify bool
	// ServerName is the name sent (SNI) and checked against the server's
	// certificate, instead of the URL's host.
	ServerName string
}

// Set reports whether any setting beyond Enabled is given.
func (c Client) Set() bool {
	return c.CACert != "" || c.Cert != "" || c.Key != "" || c.InsecureSkipVerify || c.ServerName != ""
}

// Check checks the settings without reading the files: a certificate
// needs its key and a key its certificate.
func (c Client) Check() error {
	switch {
	case c.Cert != "" && c.Key == "":
		return fmt.Errorf("a client certificate (cert %s) needs its private key: give key (--key) too", c.Cert)
	case c.Key != "" && c.Cert == "":
		return fmt.Errorf("a client key (key %s) needs its certificate: give cert (--cert) too", c.Key)
	}
	return nil
}

// Config reads the files and builds the client's TLS configuration. The
// protocol adds the application protocol (ALPN) and, when ServerName is
// empty, the URL's host.
func (c Client) Config() (*tls.Config, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CACert != "" {
		pool, err := LoadCAs(c.CACert)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if c.Cert != "" {
		cert, err := LoadKeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Server builds a server's TLS configuration: its certificate and key,
// and with clientCA the CAs whose client certificates it requires
// (mutual TLS). nextProtos are the application protocols it offers (ALPN).
func Server(certFile, keyFile, clientCA string, nextProtos ...string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("a TLS server needs a certificate and its key (--tls-cert and --tls-key)")
	}
	cert, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: nextProtos}
	if clientCA != "" {
		pool, err := LoadCAs(clientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// LoadCAs reads a PEM file of CA certificates.
func LoadCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA certificate file: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA certificate file %s: certificate %d: %w", file, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA certificate file %s: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", file)
	}
	return pool, nil
}

// LoadKeyPair reads a certificate and its private key (PEM files).
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key file: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

package reftest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs is a small PKI made at run time for TLS tests (no private key is
// ever committed): PEM files in the test's temporary folder.
type Certs struct {
	// CA signed every certificate below; OtherCA signed none of them (a
	// wrong CA).
	CA, OtherCA string
	// ServerCert and ServerKey: a server certificate for 127.0.0.1, ::1
	// and localhost.
	ServerCert, ServerKey string
	// ExpiredCert and ExpiredKey: the same names, expired an hour ago.
	ExpiredCert, ExpiredKey string
	// ElsewhereCert and ElsewhereKey: valid, but for example.com only.
	ElsewhereCert, ElsewhereKey string
	// ClientCert and ClientKey: a client certificate (mutual TLS).
	ClientCert, ClientKey string
}

// NewCerts makes the PKI in t's temporary folder.
func NewCerts(t testing.TB) *Certs {
	t.Helper()
	dir := t.TempDir()
	c := &Certs{}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	serial := int64(1)
	now := time.Now()
	sign := func(tmpl, parent *x509.Certificate, pub, signer any) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, der
	}
	ca := func(name, file string) (*x509.Certificate, *ecdsa.PrivateKey) {
		k := newKey()
		tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		cert, der := sign(tmpl, tmpl, &k.PublicKey, k)
		write(file, "CERTIFICATE", der)
		return cert, k
	}
	caCert, caKey := ca("inferbench test CA", "ca.pem")
	ca("inferbench other CA", "other-ca.pem")
	c.CA, c.OtherCA = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other-ca.pem")
	leaf := func(name string, usage x509.ExtKeyUsage, dns []string, ips []net.IP, notAfter time.Time) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-2 * time.Hour), NotAfter: notAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: dns, IPAddresses: ips}
		_, der := sign(tmpl, caCert, &k.PublicKey, caKey)
		return write(name+".pem", "CERTIFICATE", der), write(name+"-key.pem", "PRIVATE KEY", keyDER(k))
	}
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	c.ServerCert, c.ServerKey = leaf("server", x509.ExtKeyUsageServerAuth, []string{"localhost"}, loopback, now.Add(24*time.Hour))
	c.ExpiredCert, c.ExpiredKey = leaf("expired", x509.ExtKeyUsageServerAuth, []string{"localhost"}, loopback, now.Add(-time.Hour))
	c.ElsewhereCert, c.ElsewhereKey = leaf("elsewhere", x509.ExtKeyUsageServerAuth, []string{"example.com"}, nil, now.Add(24*time.Hour))
	c.ClientCert, c.ClientKey = leaf("client", x509.ExtKeyUsageClientAuth, nil, nil, now.Add(24*time.Hour))
	return c
}

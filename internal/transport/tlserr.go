package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
)

// TLSError is a TLS connection that failed: a handshake that did not
// complete (a certificate the client does not trust, a plain-text port),
// or an alert the server answered with (a client certificate it wants or
// refuses). Its message names the problem on one line, with the setting
// that addresses it.
type TLSError struct {
	Addr string // host:port, "" when unknown
	Err  error
}

func (e *TLSError) Error() string {
	where := "TLS"
	if e.Addr != "" {
		where += " with " + e.Addr
	}
	return where + ": " + explainTLS(e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// IsTLS reports whether err is a TLSError.
func IsTLS(err error) bool {
	var te *TLSError
	return errors.As(err, &te)
}

// tlsAlert reports whether err is a TLS alert the peer sent ("remote
// error: tls: certificate required"), as crypto/tls reports it.
func tlsAlert(err error) bool {
	var oe *net.OpError
	var ae tls.AlertError
	return errors.As(err, &oe) && oe.Op == "remote error" || errors.As(err, &ae)
}

// TLSProblem returns err as a TLSError when it is a TLS failure that is
// not a timeout: a handshake error (addr names the server), or a TLS
// alert from the server on an open connection. Anything else is returned
// as it is.
func TLSProblem(addr string, err error, handshake bool) error {
	if err == nil || IsTLS(err) || IsTimeout(err) || errors.Is(err, net.ErrClosed) {
		return err
	}
	if handshake || tlsAlert(err) {
		return &TLSError{Addr: addr, Err: err}
	}
	return err
}

// explainTLS words a TLS failure for people: what went wrong, and the
// setting that changes it.
func explainTLS(err error) string {
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ie  x509.CertificateInvalidError
		rhe tls.RecordHeaderError
		oe  *net.OpError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &ua):
		return "the server's certificate is signed by an unknown authority (x509: certificate signed by unknown authority): give the CA that signed it with --ca-cert (ca_cert under tls: in a plan)"
	case errors.As(err, &he):
		return "the server's certificate does not match its name (" + he.Error() + "): --server-name (server_name under tls:) sets the name checked"
	case errors.As(err, &ie) && ie.Reason == x509.Expired:
		return "the server's certificate has expired or is not yet valid (" + ie.Error() + ")"
	case errors.As(err, &ie):
		return "the server's certificate is not valid (" + ie.Error() + ")"
	case errors.As(err, &rhe):
		return "the server did not answer with TLS (" + rhe.Msg + "): a plain-text port? use http://, or grpc:// without --tls for gRPC"
	case errors.As(err, &oe) && oe.Op == "remote error":
		alert := oe.Err.Error()
		switch {
		case strings.Contains(alert, "certificate required"):
			return "the server wants a client certificate (remote error: " + alert + "): give --cert and --key (cert and key under tls:)"
		case strings.Contains(alert, "bad certificate"), strings.Contains(alert, "unknown certificate authority"), strings.Contains(alert, "certificate unknown"):
			return "the server refused the client certificate, or wants one (remote error: " + alert + "): check --cert and --key against the server's client CA"
		}
		if strings.Contains(alert, "no application protocol") {
			return "the server speaks none of the protocols the client offered (remote error: " + alert + "; ALPN h2 for gRPC, http/1.1 for HTTP): an HTTPS port given for gRPC, or the reverse?"
		}
		return "the server refused the connection (remote error: " + alert + ")"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), connReset(err):
		return "the server closed the connection during the TLS handshake (" + msg + "): a plain-text port? use http://, or grpc:// without --tls for gRPC"
	}
	return msg
}

// connReset reports whether err is a connection reset by the peer.
func connReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset by peer")
}

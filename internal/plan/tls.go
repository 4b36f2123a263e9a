package plan

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/tlsconf"
)

// fileTLS is tlsconf.Client with the file's keys. Its fields are Client's
// own, in the same order and of the same types, so that one converts to
// the other: a field added there fails to compile here until the file
// format has it too.
type fileTLS struct {
	Enabled            bool   `yaml:"enabled,omitempty"`
	CACert             string `yaml:"ca_cert,omitempty"`
	Cert               string `yaml:"cert,omitempty"`
	Key                string `yaml:"key,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
}

// InsecureNote is the warning every run of a deployment that does not
// verify its server's certificate carries, and the log shows.
const InsecureNote = "TLS without verification (insecure_skip_verify): the server's certificate was not checked, so these numbers may come from any server that answered on the address"

// UsesTLS reports whether the deployment's connections are TLS: its URL's
// scheme (https://, grpcs://) says so, or its address has no scheme and
// the tls section (--tls, or any TLS setting) asks for it.
func (d Deployment) UsesTLS() bool {
	scheme, _, ok := strings.Cut(d.URL, "://")
	if !ok {
		return d.TLS.Enabled || d.TLS.Set()
	}
	return scheme == "https" || scheme == "grpcs"
}

// CheckTLS checks a deployment's TLS settings against its URL: a
// certificate needs its key, and TLS settings with a plain-text scheme
// (http://, grpc://) are refused. Files are read when the deployment is
// opened (session.Open), by tlsconf.
func CheckTLS(kind protocol.Kind, rawURL string, t tlsconf.Client) error {
	if err := t.Check(); err != nil {
		return err
	}
	scheme, _, ok := strings.Cut(rawURL, "://")
	if ok && (t.Enabled || t.Set()) && (scheme == "http" || scheme == "grpc") {
		want := "https://"
		if kind == protocol.KServeGRPC {
			want = "grpcs://"
		}
		return fmt.Errorf("TLS settings are given but the URL %s:// is plain text: use %s", scheme, want)
	}
	return nil
}

// TLSConfig builds the deployment's TLS configuration from its files, nil
// for a plain-text deployment.
func (d Deployment) TLSConfig() (*tls.Config, error) {
	if !d.UsesTLS() {
		return nil, nil
	}
	return d.TLS.Config()
}

package plan

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/inferbench/inferbench/internal/protocol"
)

// Endpoint is a deployment's URL checked for its protocol, with any
// credentials it carried taken out of it.
type Endpoint struct {
	// Shown is the URL as it may be printed and stored: as given, but
	// with the password of its user information replaced by "xxxxx", as
	// net/url's Redacted does.
	Shown string
	// Authorization is "Basic base64(user:password)" when the URL carried
	// user information (sent as the Authorization header over HTTP, the
	// authorization metadata over gRPC), else empty.
	Authorization string
	// Password is the password the URL carried, to redact from text.
	Password string
}

// CheckURL checks a deployment's URL for its protocol kind, before
// anything is sent: the HTTP kinds take http://host[:port][/path] or
// https://... (host[:port] alone meaning http), gRPC takes host:port,
// grpc://host:port or grpcs://host:port. Either may carry user:password@ before the host: it
// becomes HTTP Basic credentials and is redacted from the URL. Errors
// never quote the password.
func CheckURL(kind protocol.Kind, raw string) (Endpoint, error) {
	shown := RedactURLs(raw)
	if !strings.Contains(raw, "://") {
		shown = strings.TrimPrefix(RedactURLs("s://"+raw), "s://")
	}
	if raw == "" {
		return Endpoint{}, errors.New("the URL is empty")
	}
	for i, r := range raw {
		switch {
		case r == ' ':
			return Endpoint{}, fmt.Errorf("URL %q has a space at character %d (escape it as %%20)", shown, i+1)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return Endpoint{}, fmt.Errorf("URL %q has a control or blank character %U at character %d", shown, r, i+1)
		}
	}
	var u *url.URL
	var err error
	if kind == protocol.KServeGRPC {
		u, err = grpcURL(raw)
	} else {
		u, err = httpURL(raw)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("URL %q: %w", shown, err)
	}
	e := Endpoint{Shown: raw}
	if u.User != nil {
		user := u.User.Username()
		pass, _ := u.User.Password()
		if strings.Contains(user, ":") {
			return Endpoint{}, fmt.Errorf("URL %q: the user name holds a colon: escape it as %%3A", shown)
		}
		e.Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		e.Password = pass
		e.Shown = u.Redacted()
	}
	return e, nil
}

// httpURL parses the URL of an HTTP kind: http or https, a host, a port
// that is a number.
func httpURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, unquoted(err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q: want http:// or https://", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host: want http://host:port")
	}
	if err := checkPort(u.Port()); err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("a server URL has no query (?) or fragment (#): requests go to paths under it")
	}
	return u, nil
}

// grpcURL parses a gRPC address: host:port, grpc://host:port or (TLS)
// grpcs://host:port, with user information only in the forms with a
// scheme.
func grpcURL(raw string) (*url.URL, error) {
	rest, hasScheme := strings.CutPrefix(raw, "grpc://")
	if !hasScheme {
		rest, hasScheme = strings.CutPrefix(raw, "grpcs://")
	}
	switch {
	case strings.Contains(rest, "://"):
		scheme, _, _ := strings.Cut(rest, "://")
		return nil, fmt.Errorf("scheme %q: gRPC takes host:port, grpc://host:port or grpcs://host:port (TLS)", scheme)
	case strings.Contains(rest, "@") && !hasScheme:
		return nil, errors.New("credentials in a gRPC address need the grpc:// form: grpc://user:password@host:port")
	}
	u, err := url.Parse("grpc://" + rest)
	if err != nil {
		return nil, unquoted(err)
	}
	if strings.HasPrefix(raw, "grpcs://") {
		u.Scheme = "grpcs" // kept in the URL shown (Redacted)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("a gRPC address is host:port, without a path")
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, errors.New("want host:port (a gRPC address has no default port)")
	}
	return u, checkPort(u.Port())
}

func checkPort(port string) error {
	if port == "" {
		return nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// unquoted is a url.Parse error without the URL it quotes (which may
// hold a password).
func unquoted(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// DialURL is the URL a client connects to: Shown without its user
// information (the credentials travel as the Authorization header).
func DialURL(shown string) string {
	rest, ok := strings.CutPrefix(shown, "grpc://")
	if !ok {
		if _, after, found := strings.Cut(shown, "://"); found {
			rest = after
		}
	}
	authority, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return shown
	}
	i := len(shown) - len(rest)
	return shown[:i] + shown[i+at+1:]
}

// WithCredentials sets a deployment's URL to its Shown form and its
// Authorization header from the URL's user information. A URL with user
// information and an Authorization header both are refused.
func (d *Deployment) WithCredentials(e Endpoint) error {
	d.URL = e.Shown
	if e.Authorization == "" {
		return nil
	}
	for k := range d.Headers {
		if strings.EqualFold(k, "Authorization") {
			return fmt.Errorf("URL %q carries credentials and the headers an Authorization: give one of them", e.Shown)
		}
	}
	if d.Headers == nil {
		d.Headers = map[string]string{}
	}
	d.Headers["Authorization"] = e.Authorization
	return nil
}

// userinfoURL matches the user information of a URL with a scheme.
var userinfoURL = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:"'` + "`" + `]*):[^\s/?#"'` + "`" + `]*@`)

// RedactURLs replaces the password of every scheme://user:password@ in
// text by xxxxx: for the plan's own URLs and for lines printed that may
// quote a URL the plan did not turn into credentials (a metrics_url, a
// server's own message).
func RedactURLs(text string) string { return userinfoURL.ReplaceAllString(text, "${1}:xxxxx@") }

// RedactText returns text (the plan as written, to be stored) with the
// passwords of the plan's URLs replaced by xxxxx: in every URL with a
// scheme, and wherever a password the plan's URLs carry appears as
// ":password@".
func (p *Plan) RedactText(text string) string {
	text = RedactURLs(text)
	for _, pw := range p.passwords {
		if pw == "" {
			continue
		}
		for _, form := range []string{pw, url.PathEscape(pw), url.QueryEscape(pw)} {
			text = strings.ReplaceAll(text, ":"+form+"@", ":xxxxx@")
		}
	}
	return text
}

// endpoint checks a deployment's URL (placed at the url key), moves its
// credentials into the Authorization header, and returns its password.
func (p *parser) endpoint(f *fileDeployment, d *Deployment) (string, error) {
	e, err := CheckURL(protocol.Kind(d.Protocol), f.URL)
	if err == nil {
		err = d.WithCredentials(e)
	}
	if err != nil {
		return "", p.errorf(p.node(&f.URL), "deployment %q url: %v", f.Name, err)
	}
	return e.Password, nil
}

// Package kapitest connects tests to a real Kubernetes API server: etcd,
// kube-apiserver and kube-controller-manager on loopback, with RBAC and
// the built-in controllers (the Job controller creates an Indexed Job's
// pods, the garbage collector follows owner references), but no kubelet:
// a test plays it by writing pods' status. scripts/test.sh starts one with
// the workplace's start-kube-apiserver.sh and names its env file in
// INFERBENCH_KAPI_ENV; without it the tests that need one say so and are
// skipped, unless INFERBENCH_KAPI_REQUIRED=1 (scripts/test.sh sets it when
// it started one), when they fail.
package kapitest

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Env names the env file of a running API server; Required makes its
// absence a failure.
const (
	Env      = "INFERBENCH_KAPI_ENV"
	Required = "INFERBENCH_KAPI_REQUIRED"
)

// Server is a running API server.
type Server struct {
	Host string // https://127.0.0.1:PORT
	CA   string // the CA file that signed its certificate
	// Tokens are the static bearer tokens by user: kapi-admin-token (in
	// system:masters), and alice, bob and carol with no rights.
	Tokens map[string]string
	// Admin is a client with every right.
	Admin kubernetes.Interface
}

// Start connects to the API server named by INFERBENCH_KAPI_ENV, or skips
// (fails, with INFERBENCH_KAPI_REQUIRED=1) saying how to get one.
func Start(t testing.TB) *Server {
	t.Helper()
	path := os.Getenv(Env)
	if path == "" {
		msg := "no real kube-apiserver: " + Env + " is not set (scripts/test.sh starts one from ../shared/tools/kube-apiserver when it is there)"
		if os.Getenv(Required) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	env, err := readEnv(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s := &Server{Host: env["KAPI_SERVER"], CA: env["KAPI_CA"]}
	if s.Host == "" || s.CA == "" {
		t.Fatalf("%s: no KAPI_SERVER or KAPI_CA", path)
	}
	if s.Tokens, err = readTokens(env["KAPI_TOKENS"]); err != nil {
		t.Fatalf("%s: tokens: %v", path, err)
	}
	s.Admin = s.Client(t, "kapi-admin-token")
	return s
}

func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// readTokens reads the static token file: token,user,uid[,"groups"].
func readTokens(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, rec := range recs {
		if len(rec) >= 2 {
			out[rec[1]] = rec[0]
		}
	}
	return out, nil
}

// Config is a client configuration for a bearer token.
func (s *Server) Config(token string) *rest.Config {
	return &rest.Config{Host: s.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAFile: s.CA}, QPS: 200, Burst: 400}
}

// Client is a client acting as user (a key of Tokens).
func (s *Server) Client(t testing.TB, user string) kubernetes.Interface {
	t.Helper()
	token, ok := s.Tokens[user]
	if !ok {
		t.Fatalf("no token for user %q", user)
	}
	return s.ClientFor(t, token)
}

// Kubeconfig writes a kubeconfig file acting as user with namespace as
// its context's, and returns its path.
func (s *Server) Kubeconfig(t testing.TB, user, namespace string) string {
	t.Helper()
	token, ok := s.Tokens[user]
	if !ok {
		t.Fatalf("no token for user %q", user)
	}
	return s.KubeconfigFor(t, token, namespace)
}

// KubeconfigFor writes a kubeconfig file with a bearer token.
func (s *Server) KubeconfigFor(t testing.TB, token, namespace string) string {
	t.Helper()
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kapi
  cluster: {server: %q, certificate-authority: %q}
users:
- name: me
  user: {token: %q}
contexts:
- name: kapi
  context: {cluster: kapi, user: me, namespace: %q}
current-context: kapi
`, s.Host, s.CA, token, namespace)
	path := t.TempDir() + "/kubeconfig"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Namespace creates a namespace named prefix and a random suffix, waits
// for its default ServiceAccount (pods need it), and deletes it when the
// test ends.
func (s *Server) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ctx := context.Background()
	name := prefix + "-" + rand.String(6)
	if _, err := s.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = s.Admin.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	Eventually(t, 60*time.Second, "the default ServiceAccount of "+name, func() (bool, error) {
		_, err := s.Admin.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	return name
}

// Bind binds role (a Role of namespace) to a user.
func (s *Server) Bind(t testing.TB, namespace, role, user string) {
	t.Helper()
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role + "-" + user, Namespace: namespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}}}
	if _, err := s.Admin.RbacV1().RoleBindings(namespace).Create(context.Background(), rb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind %s to %s: %v", role, user, err)
	}
}

// ServiceAccountToken is a token of the ServiceAccount (TokenRequest), as
// a pod running as it would have.
func (s *Server) ServiceAccountToken(t testing.TB, namespace, name string) string {
	t.Helper()
	secs := int64(3600)
	tr, err := s.Admin.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a token for ServiceAccount %s/%s: %v", namespace, name, err)
	}
	return tr.Status.Token
}

// ClientFor is a client with a bearer token.
func (s *Server) ClientFor(t testing.TB, token string) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(s.Config(token))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Eventually polls cond every 50 ms until it holds, failing the test
// after within (say generously: the machine may be busy).
func Eventually(t testing.TB, within time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v (last error: %v)", what, within, last)
}

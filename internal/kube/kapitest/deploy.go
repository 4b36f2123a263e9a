package kapitest

import (
	"context"
	"fmt"
	"io/fs"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
)

// Manifest decodes one of the manifests (deploy.Files), strictly, into
// namespace.
func Manifest[T runtime.Object](t testing.TB, files fs.FS, name, namespace string) T {
	t.Helper()
	data, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatal(err)
	}
	obj, _, err := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("deploy/%s: %v", name, err)
	}
	v, ok := obj.(T)
	if !ok {
		t.Fatalf("deploy/%s is a %T", name, obj)
	}
	obj.(metav1.Object).SetNamespace(namespace)
	return v
}

// Deploy makes a namespace (prefix and a random suffix) with the
// ServiceAccount, Role and RoleBinding of the manifests (deploy.Files:
// passed in, as deploy's own tests use this package) as kubectl apply -k
// would, and
// binds the Role to alice too, who then plays a user with exactly the
// Role's rights: it returns the namespace and alice's client.
func (s *Server) Deploy(t testing.TB, files fs.FS, prefix string) (namespace string, alice kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	ns := s.Namespace(t, prefix)
	if _, err := s.Admin.CoreV1().ServiceAccounts(ns).Create(ctx, Manifest[*corev1.ServiceAccount](t, files, "serviceaccount.yaml", ns), metav1.CreateOptions{}); err != nil {
		t.Fatalf("deploy/serviceaccount.yaml: %v", err)
	}
	if _, err := s.Admin.RbacV1().Roles(ns).Create(ctx, Manifest[*rbacv1.Role](t, files, "role.yaml", ns), metav1.CreateOptions{}); err != nil {
		t.Fatalf("deploy/role.yaml: %v", err)
	}
	rb := Manifest[*rbacv1.RoleBinding](t, files, "rolebinding.yaml", ns)
	for i := range rb.Subjects {
		rb.Subjects[i].Namespace = ns
	}
	if _, err := s.Admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("deploy/rolebinding.yaml: %v", err)
	}
	s.Bind(t, ns, "inferbench", "alice")
	// RBAC's authorizer learns of new bindings through its informers: wait
	// until it grants them, or a test's first call may see a 403.
	s.WaitAllowed(t, ns, "alice", nil, "create", "configmaps")
	s.WaitAllowed(t, ns, "system:serviceaccount:"+ns+":inferbench", []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, "patch", "configmaps")
	return ns, s.Client(t, "alice")
}

// WaitAllowed waits until the API server's authorizer lets user (in
// groups) do verb on resource in namespace.
func (s *Server) WaitAllowed(t testing.TB, namespace, user string, groups []string, verb, resource string) {
	t.Helper()
	Eventually(t, 30*time.Second, fmt.Sprintf("%s may %s %s in %s", user, verb, resource, namespace), func() (bool, error) {
		r, err := s.Admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authzv1.SubjectAccessReview{
			Spec: authzv1.SubjectAccessReviewSpec{User: user, Groups: groups,
				ResourceAttributes: &authzv1.ResourceAttributes{Namespace: namespace, Verb: verb, Resource: resource}}}, metav1.CreateOptions{})
		return err == nil && r.Status.Allowed, err
	})
}

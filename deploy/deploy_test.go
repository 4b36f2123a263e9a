package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/kube/kapitest"
	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/plan"
)

type kustomization struct {
	Namespace          string   `yaml:"namespace"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
}

// objects decodes every manifest kustomization.yaml lists with client-go's
// scheme, strictly (an unknown or repeated field fails), into typed objects.
func objects(t *testing.T) (kustomization, []runtime.Object) {
	t.Helper()
	var k kustomization
	data, err := fs.ReadFile(Files, "kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var objs []runtime.Object
	for _, name := range k.Resources {
		data, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", name, err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, gvk, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s, document %d: %v", name, i+1, err)
			}
			if ns := obj.(interface{ GetNamespace() string }).GetNamespace(); gvk.Kind != "Namespace" && ns != k.Namespace {
				t.Errorf("%s: %s in namespace %q, kustomization.yaml's is %q", name, gvk.Kind, ns, k.Namespace)
			}
			objs = append(objs, obj)
		}
	}
	return k, objs
}

func one[T runtime.Object](t *testing.T, objs []runtime.Object) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want one %T, found %d", zero, len(found))
	}
	return found[0]
}

func TestEveryManifestIsListed(t *testing.T) {
	k, _ := objects(t)
	names, _ := fs.Glob(Files, "*.yaml")
	for _, n := range names {
		generated := false
		for _, g := range k.ConfigMapGenerator {
			generated = generated || slices.Contains(g.Files, n)
		}
		if n != "kustomization.yaml" && !generated && !slices.Contains(k.Resources, n) {
			t.Errorf("%s is neither a resource nor a generated ConfigMap's file in kustomization.yaml", n)
		}
	}
}

// TestRoleGrantsExactlyWhatTheCodeCalls compares deploy/role.yaml with
// internal/kube's table of the calls inferbench makes.
func TestRoleGrantsExactlyWhatTheCodeCalls(t *testing.T) {
	_, objs := objects(t)
	role := one[*rbacv1.Role](t, objs)
	var granted []kube.Permission
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: resource names and URLs are not used", r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					if g == "*" || res == "*" || v == "*" {
						t.Errorf("rule %+v has a wildcard", r)
					}
					granted = append(granted, kube.Permission{Group: g, Resource: res, Verbs: []string{v}})
				}
			}
		}
	}
	if got, want := kube.MergePermissions(granted), kube.RequiredPermissions(); !reflect.DeepEqual(got, want) {
		t.Errorf("role.yaml grants\n%v\nthe code calls\n%v", got, want)
	}
	binding := one[*rbacv1.RoleBinding](t, objs)
	sa := one[*corev1.ServiceAccount](t, objs)
	if binding.RoleRef.Kind != "Role" || binding.RoleRef.Name != role.Name {
		t.Errorf("the RoleBinding binds %s %s, not the Role %s", binding.RoleRef.Kind, binding.RoleRef.Name, role.Name)
	}
	if len(binding.Subjects) != 1 || binding.Subjects[0].Kind != "ServiceAccount" || binding.Subjects[0].Name != sa.Name || binding.Subjects[0].Namespace != sa.Namespace {
		t.Errorf("the RoleBinding's subjects %+v are not the ServiceAccount %s/%s", binding.Subjects, sa.Namespace, sa.Name)
	}
}

func TestJob(t *testing.T) {
	k, objs := objects(t)
	job := one[*batchv1.Job](t, objs)
	sa := one[*corev1.ServiceAccount](t, objs)
	spec := job.Spec.Template.Spec
	if spec.ServiceAccountName != sa.Name {
		t.Errorf("the Job runs as %q, not the ServiceAccount %q", spec.ServiceAccountName, sa.Name)
	}
	if job.Spec.ActiveDeadlineSeconds == nil || job.Spec.TTLSecondsAfterFinished == nil || job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Errorf("the Job needs a deadline, a TTL and backoffLimit 0: %+v", job.Spec)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
		t.Errorf("the pod must run as the non-root user 65532: %+v", psc)
	}
	containers := append(slices.Clone(spec.InitContainers), spec.Containers...)
	ports := map[string]bool{}
	for _, c := range containers {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s: no privilege escalation and a read-only root wanted: %+v", c.Name, sc)
		}
		if len(c.Command) != 0 || len(c.Args) == 0 || !slices.Contains([]string{"run", "report", "bench", "sweep"}, c.Args[0]) {
			t.Errorf("container %s: args %q should start with an inferbench command (the image's entrypoint)", c.Name, c.Args)
		}
		for _, p := range c.Ports {
			ports[strconv.Itoa(int(p.ContainerPort))] = true
		}
	}
	a := job.Spec.Template.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" || !ports[a["prometheus.io/port"]] {
		t.Errorf("scrape annotations %v: want scrape true, path /metrics and a declared container port", a)
	}
	var planCM string
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			planCM = v.ConfigMap.Name
		}
	}
	if len(k.ConfigMapGenerator) != 1 || k.ConfigMapGenerator[0].Name != planCM {
		t.Fatalf("the Job mounts ConfigMap %q, kustomization.yaml generates %+v", planCM, k.ConfigMapGenerator)
	}
	for _, f := range k.ConfigMapGenerator[0].Files {
		data, err := fs.ReadFile(Files, f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plan.Parse(f, data, func(string) (string, bool) { return "", false }); err != nil {
			t.Errorf("the example plan: %v", err)
		}
	}
}

// TestDashboard: valid JSON, every panel queries something, the load's
// figures beside Triton's.
func TestDashboard(t *testing.T) {
	data, err := fs.ReadFile(Files, "grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q", d.Title, d.UID)
	}
	metric := regexp.MustCompile(`\b(inferbench|nv)_[a-z_]+\b`)
	seen := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, q := range p.Targets {
			for _, m := range metric.FindAllString(q.Expr, -1) {
				seen[m] = true
			}
		}
	}
	for _, m := range []string{"nv_inference_request_success", "nv_inference_queue_duration_us", live.MetricSent, live.MetricErrors, live.MetricInFlight, live.MetricLatency + "_bucket"} {
		if !seen[m] {
			t.Errorf("no panel shows %s", m)
		}
	}
	served := map[string]bool{live.MetricSent: true, live.MetricOK: true, live.MetricErrors: true, live.MetricInFlight: true,
		live.MetricLate: true, live.MetricLatency + "_bucket": true, live.MetricLatency + "_sum": true, live.MetricLatency + "_count": true}
	for m := range seen {
		if strings.HasPrefix(m, "inferbench_") && !served[m] {
			t.Errorf("a panel queries %s, which --metrics-addr does not serve", m)
		}
	}
}

// TestManifestsOnARealAPIServer applies every namespaced manifest, and the
// generated plan ConfigMap, to a real kube-apiserver in a fresh namespace
// as kubectl apply -k would: each is accepted as written, and the Job
// controller makes the example Job's pod.
func TestManifestsOnARealAPIServer(t *testing.T) {
	s := kapitest.Start(t)
	ctx := context.Background()
	k, objs := objects(t)
	ns := s.Namespace(t, "ib-deploy")
	for _, o := range objs {
		if _, isNS := o.(*corev1.Namespace); isNS {
			continue // the test's own namespace stands in for it
		}
		o.(metav1.Object).SetNamespace(ns)
		var err error
		switch v := o.(type) {
		case *corev1.ServiceAccount:
			_, err = s.Admin.CoreV1().ServiceAccounts(ns).Create(ctx, v, metav1.CreateOptions{})
		case *rbacv1.Role:
			_, err = s.Admin.RbacV1().Roles(ns).Create(ctx, v, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			for i := range v.Subjects {
				v.Subjects[i].Namespace = ns
			}
			_, err = s.Admin.RbacV1().RoleBindings(ns).Create(ctx, v, metav1.CreateOptions{})
		case *batchv1.Job:
			_, err = s.Admin.BatchV1().Jobs(ns).Create(ctx, v, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err == nil {
				_, err = s.Admin.BatchV1().Jobs(ns).Create(ctx, v, metav1.CreateOptions{})
			}
		default:
			t.Fatalf("no create for %T: add it here", o)
		}
		if err != nil {
			t.Errorf("%T %s: %v", o, o.(metav1.Object).GetName(), err)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: ns}, Data: map[string]string{}}
		for _, f := range g.Files {
			data, err := fs.ReadFile(Files, f)
			if err != nil {
				t.Fatal(err)
			}
			cm.Data[f] = string(data)
		}
		if _, err := s.Admin.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Errorf("ConfigMap %s: %v", g.Name, err)
		}
	}
	job := one[*batchv1.Job](t, objs)
	kapitest.Eventually(t, 60*time.Second, "the example Job's pod", func() (bool, error) {
		pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job.Name})
		return err == nil && len(pods.Items) == 1, err
	})
}

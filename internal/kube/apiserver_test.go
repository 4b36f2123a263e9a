package kube_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/inferbench/inferbench/deploy"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/kube/kapitest"
	"github.com/inferbench/inferbench/internal/loaders"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

func sentFile(sent int64) *result.File {
	h := measure.NewHistogram()
	for range sent {
		h.Record(time.Millisecond)
	}
	return &result.File{Schema: result.SchemaV2, Complete: true, Runs: []result.Run{{Step: "a", Deployment: result.Deployment{Name: "d"},
		Status: result.StatusOK, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1}, Counts: result.Counts{Sent: sent, OK: sent},
		LatencyMs: h.Summary(), Histograms: &result.Histograms{Latency: h.MustEncode()}}}}
}

// podNamed is the name of the loader pod of index i ("" while none).
func podNamed(ctx context.Context, s *kapitest.Server, ns string, i int) string {
	pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run"})
	if err != nil {
		return ""
	}
	for _, p := range pods.Items {
		if podIndex(&p) == i {
			return p.Name
		}
	}
	return ""
}

func podIndex(p *corev1.Pod) int {
	i, err := strconv.Atoi(p.Annotations[batchv1.JobCompletionIndexAnnotation])
	if err != nil {
		return -1
	}
	return i
}

// TestLoaderJobOnARealAPIServer runs the coordinator as a user bound to
// deploy/role.yaml (nothing more) and two loaders as deploy's
// ServiceAccount against a real kube-apiserver: every object inferbench
// makes is accepted as made, the Job controller makes the Indexed Job's
// pods, the loaders meet the coordinator at the ConfigMap, one loader
// succeeds and one fails, and Stop and Close leave nothing behind.
func TestLoaderJobOnARealAPIServer(t *testing.T) {
	s := kapitest.Start(t)
	ctx := context.Background()
	ns, alice := s.Deploy(t, deploy.Files, "ib-loaders")
	sa := s.ClientFor(t, s.ServiceAccountToken(t, ns, "inferbench"))
	u := loaders.Unit{Step: 0, Trial: 0, Deployment: 0}
	k := s.StartKubelet(t, ns, "inferbench.io/run", func(ctx context.Context, p *corev1.Pod, out io.Writer) int {
		i := podIndex(p)
		cm := p.Spec.Containers[0].Args[len(p.Spec.Containers[0].Args)-1]
		j, err := kube.ReadJob(ctx, sa, ns, cm)
		if err != nil || j.Loaders != 2 {
			fmt.Fprintf(out, "read job: %+v %v\n", j, err)
			return 1
		}
		st := kube.JobStation{Core: sa, Namespace: ns, Name: cm, Index: i}
		if _, err := loaders.Wait(ctx, st, u, 50*time.Millisecond); err != nil {
			fmt.Fprintf(out, "wait: %v\n", err)
			return 1
		}
		if w, err := st.Told(ctx); err != nil || w.Stop != "" {
			fmt.Fprintf(out, "told: %+v %v\n", w, err)
			return 1
		}
		if i == 1 {
			fmt.Fprintln(out, "panic: out of memory")
			return 2
		}
		// Loader 0 is still sending when loader 1 fails: the Job must not
		// kill it (a Job-wide backoffLimit 0 would).
		for ctx.Err() == nil {
			if p, err := s.Admin.CoreV1().Pods(ns).Get(ctx, podNamed(ctx, s, ns, 1), metav1.GetOptions{}); err == nil && p.Status.Phase == corev1.PodFailed {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // time for the Job controller to act on the failure
		if ctx.Err() != nil {
			fmt.Fprintln(out, "killed:", ctx.Err())
			return 137
		}
		_ = kube.WriteResult(out, sentFile(7))
		return 0
	})
	opts := kube.JobOptions{Namespace: ns, Name: "ib-loaders-1", Image: "inferbench:test", ServiceAccount: "inferbench",
		CPU: "500m", Memory: "256Mi", NodeSelector: map[string]string{"pool": "load"}, Deadline: 11 * time.Minute, TTL: time.Hour}
	c := &kube.JobCoordinator{Core: alice, Logs: k, Opts: opts}
	if err := c.Publish(ctx, loaders.Job{PlanText: "deployments: []\n", Loaders: 2, Grace: time.Second}); err != nil {
		t.Fatalf("Publish as a user with deploy/role.yaml: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// The objects as the server keeps them.
	job, err := s.Admin.BatchV1().Jobs(ns).Get(ctx, opts.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp := job.Spec
	pod := sp.Template.Spec
	if *sp.CompletionMode != batchv1.IndexedCompletion || *sp.Completions != 2 || *sp.Parallelism != 2 || *sp.BackoffLimitPerIndex != 0 ||
		*sp.ActiveDeadlineSeconds != 660 || *sp.TTLSecondsAfterFinished != 3600 || pod.ServiceAccountName != "inferbench" ||
		!*pod.SecurityContext.RunAsNonRoot || *pod.SecurityContext.RunAsUser != kube.LoaderUser || pod.NodeSelector["pool"] != "load" ||
		pod.Containers[0].Resources.Limits.Memory().String() != "256Mi" || !*pod.Containers[0].SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("the Job as stored: %+v", sp)
	}
	cm, err := s.Admin.CoreV1().ConfigMaps(ns).Get(ctx, opts.Name, metav1.GetOptions{})
	if err != nil || len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != job.UID {
		t.Errorf("the ConfigMap's owner: %+v, %v; want the Job (uid %s)", cm.OwnerReferences, err, job.UID)
	}

	// The start, once both wait.
	kapitest.Eventually(t, 60*time.Second, "both loaders waiting at "+u.String(), func() (bool, error) {
		w, err := c.Waiting(ctx)
		return len(w[u]) == 2, err
	})
	if err := c.Start(ctx, u, time.Now().Add(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var fin map[int]error
	kapitest.Eventually(t, 60*time.Second, "both loaders ended", func() (bool, error) {
		fin = c.Finished()
		return len(fin) == 2, nil
	})
	if fin[0] != nil || fin[1] == nil || !strings.Contains(fin[1].Error(), "exit code 2") {
		t.Errorf("Finished = %v, want loader 0 well (not killed when loader 1 failed) and loader 1 failed with exit code 2", fin)
	}
	pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run=" + opts.Name})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("pods: %d, %v", len(pods.Items), err)
	}
	for _, p := range pods.Items {
		env := ""
		for _, e := range p.Spec.Containers[0].Env {
			if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil {
				env = e.ValueFrom.FieldRef.FieldPath
			}
		}
		if podIndex(&p) < 0 || env == "" {
			t.Errorf("pod %s: index annotation %q, JOB_COMPLETION_INDEX from %q", p.Name, p.Annotations[batchv1.JobCompletionIndexAnnotation], env)
		}
	}
	if f, err := c.Collect(ctx, 0); err != nil || f.Runs[0].Counts.Sent != 7 {
		t.Errorf("Collect(0) = %v, %v", f, err)
	}
	if _, err := c.Collect(ctx, 1); err == nil {
		t.Error("Collect(1) found a result in a log without one")
	}
	if err := c.Stop(time.Second); err != nil {
		t.Errorf("Stop with every loader ended: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close as a user with deploy/role.yaml: %v", err)
	}
	kapitest.Eventually(t, 60*time.Second, "the Job, its pods and the ConfigMap gone", func() (bool, error) {
		_, errJ := s.Admin.BatchV1().Jobs(ns).Get(ctx, opts.Name, metav1.GetOptions{})
		_, errC := s.Admin.CoreV1().ConfigMaps(ns).Get(ctx, opts.Name, metav1.GetOptions{})
		pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run=" + opts.Name})
		return apierrors.IsNotFound(errJ) && apierrors.IsNotFound(errC) && err == nil && len(pods.Items) == 0, err
	})
}

// TestConfigMapGoesWithTheJob: a coordinator that dies leaves its Job,
// which its deadline ends and its TTL deletes; the ConfigMap, owned by
// the Job, goes with it (Kubernetes' garbage collector, for real).
func TestConfigMapGoesWithTheJob(t *testing.T) {
	s := kapitest.Start(t)
	ctx := context.Background()
	ns, alice := s.Deploy(t, deploy.Files, "ib-gc")
	opts := kube.JobOptions{Namespace: ns, Name: "ib-orphan", Image: "inferbench:test", ServiceAccount: "inferbench", Deadline: time.Minute, TTL: time.Minute}
	c := &kube.JobCoordinator{Core: alice, Logs: kube.APILogs{Core: alice}, Opts: opts}
	if err := c.Publish(ctx, loaders.Job{PlanText: "x", Loaders: 1}); err != nil {
		t.Fatal(err)
	}
	bg := metav1.DeletePropagationBackground
	if err := s.Admin.BatchV1().Jobs(ns).Delete(ctx, opts.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil { // as the TTL controller does
		t.Fatal(err)
	}
	kapitest.Eventually(t, 90*time.Second, "the ConfigMap collected with its Job", func() (bool, error) {
		_, err := s.Admin.CoreV1().ConfigMaps(ns).Get(ctx, opts.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// TestLoaderJobRefusals: a user without the Role, and a namespace that does
// not exist, each get one line and leave nothing behind.
func TestLoaderJobRefusals(t *testing.T) {
	s := kapitest.Start(t)
	ctx := context.Background()
	ns, _ := s.Deploy(t, deploy.Files, "ib-refuse")
	for _, tc := range []struct {
		name   string
		core   kubernetes.Interface
		ns     string
		want   string
		leaves bool
	}{
		{"bob has no rights", s.Client(t, "bob"), ns, "no permission to create the ConfigMap ib-refused in namespace " + ns, false},
		{"no such namespace", s.Admin, "ib-no-such-namespace", `namespace ib-no-such-namespace: namespaces "ib-no-such-namespace" not found`, false},
	} {
		opts := kube.JobOptions{Namespace: tc.ns, Name: "ib-refused", Image: "inferbench:test", Deadline: time.Minute, TTL: time.Minute}
		c := &kube.JobCoordinator{Core: tc.core, Opts: opts}
		err := c.Publish(ctx, loaders.Job{PlanText: "x", Loaders: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line with %q", tc.name, err, tc.want)
		}
		if _, err := s.Admin.CoreV1().ConfigMaps(tc.ns).Get(ctx, opts.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s: the ConfigMap is left: %v", tc.name, err)
		}
	}
	// Bob may create the ConfigMap but not the Job: the ConfigMap goes.
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "configmaps-only", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "delete", "get", "patch"}}}}
	if _, err := s.Admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Bind(t, ns, "configmaps-only", "bob")
	c := &kube.JobCoordinator{Core: s.Client(t, "bob"), Opts: kube.JobOptions{Namespace: ns, Name: "ib-nojob", Image: "x", Deadline: time.Minute, TTL: time.Minute}}
	var err error
	kapitest.Eventually(t, 30*time.Second, "bob's new rights", func() (bool, error) {
		err = c.Publish(ctx, loaders.Job{PlanText: "x", Loaders: 1})
		return err != nil && strings.Contains(err.Error(), "create the Job"), nil
	})
	if !strings.Contains(err.Error(), "no permission to create the Job ib-nojob") {
		t.Errorf("err = %v", err)
	}
	if _, err := s.Admin.CoreV1().ConfigMaps(ns).Get(ctx, "ib-nojob", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap is left after the Job was refused: %v", err)
	}
}

// TestUnpullableImageOnARealAPIServer: pods stuck in ImagePullBackOff (as
// a kubelet reports them) count as failed once the give-up time has
// passed, naming the image; Close then deletes the Job.
func TestUnpullableImageOnARealAPIServer(t *testing.T) {
	s := kapitest.Start(t)
	ctx := context.Background()
	ns, alice := s.Deploy(t, deploy.Files, "ib-pull")
	opts := kube.JobOptions{Namespace: ns, Name: "ib-nope", Image: "registry.invalid/inferbench:nope", ServiceAccount: "inferbench", Deadline: time.Minute, TTL: time.Minute}
	c := &kube.JobCoordinator{Core: alice, Logs: kube.APILogs{Core: alice}, Opts: opts, PullGiveUp: time.Second}
	if err := c.Publish(ctx, loaders.Job{PlanText: "x", Loaders: 2}); err != nil {
		t.Fatal(err)
	}
	kapitest.Eventually(t, 60*time.Second, "the kubelet's ImagePullBackOff on both pods", func() (bool, error) {
		pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run=" + opts.Name})
		if err != nil || len(pods.Items) != 2 {
			return false, err
		}
		for _, p := range pods.Items {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "loader", Image: opts.Image, State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + opts.Image + `"`}}}}
			if _, err := s.Admin.CoreV1().Pods(ns).UpdateStatus(ctx, &p, metav1.UpdateOptions{}); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	var fin map[int]error
	kapitest.Eventually(t, 60*time.Second, "both loaders failed", func() (bool, error) {
		fin = c.Finished()
		return len(fin) == 2, nil
	})
	for i, err := range fin {
		if err == nil || !strings.Contains(err.Error(), "image registry.invalid/inferbench:nope cannot be pulled (ImagePullBackOff") {
			t.Errorf("loader %d: %v, want the image named as not pullable", i, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	kapitest.Eventually(t, 60*time.Second, "the Job and its pods gone", func() (bool, error) {
		_, err := s.Admin.BatchV1().Jobs(ns).Get(ctx, opts.Name, metav1.GetOptions{})
		pods, perr := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run=" + opts.Name})
		return apierrors.IsNotFound(err) && perr == nil && len(pods.Items) == 0, perr
	})
}

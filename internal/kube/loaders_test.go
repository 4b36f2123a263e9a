package kube

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/inferbench/inferbench/internal/loaders"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

var jobOpts = JobOptions{Namespace: "bench", Name: "inferbench-loaders-x", Image: "inferbench:1.2.3", ServiceAccount: "inferbench",
	CPU: "2", Memory: "1Gi", NodeSelector: map[string]string{"pool": "load"}, Deadline: 20 * time.Minute, TTL: time.Hour}

func TestLoaderJob(t *testing.T) {
	j, err := LoaderJob(jobOpts, 4)
	if err != nil {
		t.Fatal(err)
	}
	s := j.Spec
	if *s.CompletionMode != batchv1.IndexedCompletion || *s.Parallelism != 4 || *s.Completions != 4 || s.BackoffLimit != nil || *s.BackoffLimitPerIndex != 0 {
		t.Errorf("job: mode %v parallelism %d completions %d backoff %v per index %d", *s.CompletionMode, *s.Parallelism, *s.Completions, s.BackoffLimit, *s.BackoffLimitPerIndex)
	}
	if *s.ActiveDeadlineSeconds != 1200 || *s.TTLSecondsAfterFinished != 3600 {
		t.Errorf("deadline %d s, ttl %d s; want 1200 and 3600", *s.ActiveDeadlineSeconds, *s.TTLSecondsAfterFinished)
	}
	pod := s.Template.Spec
	if pod.ServiceAccountName != "inferbench" || pod.RestartPolicy != corev1.RestartPolicyNever || pod.NodeSelector["pool"] != "load" {
		t.Errorf("pod: sa %q restart %q nodes %v", pod.ServiceAccountName, pod.RestartPolicy, pod.NodeSelector)
	}
	if sc := pod.SecurityContext; sc == nil || !*sc.RunAsNonRoot || *sc.RunAsUser != LoaderUser {
		t.Errorf("pod security context %+v: want non-root", sc)
	}
	c := pod.Containers[0]
	if c.Image != "inferbench:1.2.3" || c.Args[0] != "loader" || *c.SecurityContext.AllowPrivilegeEscalation || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container %+v", c)
	}
	if c.Resources.Requests.Cpu().String() != "2" || c.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("resources %+v", c.Resources)
	}
	if _, err := LoaderJob(jobOpts, 0); err == nil {
		t.Error("0 loaders: no error")
	}
	bad := jobOpts
	bad.CPU = "two"
	if _, err := LoaderJob(bad, 2); err == nil || !strings.Contains(err.Error(), `"two"`) {
		t.Errorf("cpu two: %v", err)
	}
}

// fakeLogs is what the pods printed: the fake clientset's GetLogs says
// "fake logs" whatever the pod.
type fakeLogs map[string][]byte

func (f fakeLogs) Log(_ context.Context, _, pod string) ([]byte, error) {
	if b, ok := f[pod]; ok {
		return b, nil
	}
	return nil, errors.New("no such pod")
}

func loaderPod(i int, phase corev1.PodPhase) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: jobOpts.Namespace, Name: jobOpts.Name + "-" + string(rune('0'+i)),
		Labels:      loaderLabels(jobOpts.Name),
		Annotations: map[string]string{batchv1.JobCompletionIndexAnnotation: string(rune('0' + i))}}, Status: corev1.PodStatus{Phase: phase}}
	if phase == corev1.PodFailed {
		p.Status.Reason = "Evicted"
		p.Status.Message = "The node was low on resource: memory."
	}
	return p
}

func oneRun(sent int64) *result.File {
	f := result.New("test", time.Now())
	f.Complete = true
	f.Runs = []result.Run{{Step: "a", Deployment: result.Deployment{Name: "d"}, Status: result.StatusOK,
		Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1}, Counts: result.Counts{Sent: sent, OK: sent}}}
	return f
}

// TestJobCoordinator runs the coordinator and two loaders' stations on
// the fake clientset: the ConfigMap and the Job, the arrivals and the
// start, the heartbeat, the results from the logs, a failed loader, and
// Stop and Close deleting the Job; then compares every call made with
// LoaderPermissions.
func TestJobCoordinator(t *testing.T) {
	ctx := context.Background()
	core := fake.NewClientset()
	var log0 bytes.Buffer
	if err := WriteResult(&log0, oneRun(7)); err != nil {
		t.Fatal(err)
	}
	logs := fakeLogs{jobOpts.Name + "-0": append([]byte("Check d ok\n"), log0.Bytes()...), jobOpts.Name + "-1": []byte("panic: out of memory\n")}
	c := &JobCoordinator{Core: core, Logs: logs, Opts: jobOpts}
	text := "deployments: []\n"
	if err := c.Publish(ctx, loaders.Job{PlanPath: "/home/me/plan.yaml", PlanText: text, Loaders: 2, Grace: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.BatchV1().Jobs("bench").Get(ctx, jobOpts.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("no Job: %v", err)
	}
	j, err := ReadJob(ctx, core, "bench", jobOpts.Name)
	if err != nil || j.PlanText != text || j.Loaders != 2 || j.PlanPath != "/etc/inferbench/plan.yaml" {
		t.Fatalf("ReadJob = %+v, %v", j, err)
	}

	u := loaders.Unit{Step: 1, Trial: 0, Deployment: 2}
	for i := range 2 {
		if err := (JobStation{Core: core, Namespace: "bench", Name: jobOpts.Name, Index: i}).Arrive(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Waiting(ctx)
	if err != nil || len(w[u]) != 2 {
		t.Fatalf("Waiting = %v, %v; want both loaders at %s", w, err, u)
	}
	at := time.Now().Add(time.Second).UTC().Round(0)
	if err := c.Start(ctx, u, at); err != nil {
		t.Fatal(err)
	}
	st := JobStation{Core: core, Namespace: "bench", Name: jobOpts.Name, Index: 1}
	got, ok, err := st.StartOf(ctx, u)
	if err != nil || !ok || !got.Equal(at) {
		t.Errorf("StartOf = %v %v %v, want %v", got, ok, err, at)
	}
	if w, _ := c.Waiting(ctx); len(w) != 0 {
		t.Errorf("a started unit still waits: %v", w)
	}
	if err := c.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if w, err := st.Told(ctx); err != nil || time.Since(w.Heard) > time.Minute || w.Stop != "" {
		t.Errorf("Told = %+v, %v; want a fresh heartbeat and no stop", w, err)
	}
	cm, err := core.CoreV1().ConfigMaps("bench").Get(ctx, jobOpts.Name, metav1.GetOptions{})
	if err != nil || len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].Kind != "Job" || cm.OwnerReferences[0].Name != jobOpts.Name {
		t.Errorf("the ConfigMap's owners are %+v (%v): want the Job, so that it goes with it", cm.OwnerReferences, err)
	}

	// Loader 0 succeeded, loader 1 was evicted.
	for i, phase := range []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed} {
		if _, err := core.CoreV1().Pods("bench").Create(ctx, loaderPod(i, phase), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	fin := c.Finished()
	if len(fin) != 2 || fin[0] != nil || fin[1] == nil || !strings.Contains(fin[1].Error(), "Evicted") || !strings.Contains(fin[1].Error(), jobOpts.Name+"-1") {
		t.Errorf("Finished = %v, want loader 1's pod named as evicted", fin)
	}
	f0, err := c.Collect(ctx, 0)
	if err != nil || len(f0.Runs) != 1 || f0.Runs[0].Counts.Sent != 7 {
		t.Fatalf("Collect(0) = %+v, %v", f0, err)
	}
	if _, err := c.Collect(ctx, 1); err == nil || !strings.Contains(err.Error(), "no result") {
		t.Errorf("Collect(1) = %v, want no result in the log", err)
	}
	m, err := loaders.Merge([]plan.Step{{Name: "a", Concurrency: 2, Requests: 14}}, []*result.File{f0, nil}, fin, "test", time.Now())
	if err != nil || len(m.Lost) != 1 || !strings.Contains(m.Lost[0], "loader 1") || !strings.Contains(m.Lost[0], "a c=1") {
		t.Errorf("Merge lost %v, %v: want loader 1 and its share (c=1)", m, err)
	}

	if err := c.Stop(time.Second); err != nil { // both pods have ended: no wait
		t.Fatal(err)
	}
	if w, err := st.Told(ctx); err != nil || w.Stop == "" {
		t.Errorf("Told after Stop = %+v, %v; want the stop word", w, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	deleted := false
	for _, a := range core.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && d.GetResource().Resource == "jobs" {
			deleted = d.DeleteOptions.PropagationPolicy != nil && *d.DeleteOptions.PropagationPolicy == metav1.DeletePropagationBackground
		}
	}
	if !deleted {
		t.Error("Close did not delete the Job with its pods (propagation Background)")
	}
	if _, err := core.BatchV1().Jobs("bench").Get(ctx, jobOpts.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Job is still there after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if w, err := st.Told(ctx); err != nil || w.Stop == "" {
		t.Errorf("Told with the ConfigMap gone = %+v, %v; want a stop", w, err)
	}

	// The logs as APILogs reads them (the fake answers "fake logs").
	if b, err := (APILogs{Core: core}).Log(ctx, "bench", jobOpts.Name+"-0"); err != nil || string(b) != "fake logs" {
		t.Errorf("APILogs = %q, %v", b, err)
	}
	record, calls := recorder()
	var theirs []k8stesting.Action // less the test's own calls: the pods it made, the Job it looked for
	for _, a := range core.Actions() {
		r := a.GetResource().Resource
		if (r == "pods" && a.GetVerb() == "create") || (r == "jobs" && a.GetVerb() == "get") {
			continue
		}
		theirs = append(theirs, a)
	}
	record(theirs, "")
	if got, want := MergePermissions(*calls), MergePermissions(LoaderPermissions()); !reflect.DeepEqual(got, want) {
		t.Errorf("the loaders call\n%v\nbut LoaderPermissions lists\n%v", got, want)
	}
}

func TestJobCreateForbidden(t *testing.T) {
	core := fake.NewClientset()
	core.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "batch", Resource: "jobs"}, jobOpts.Name, errors.New(`User "me" cannot create resource "jobs"`))
	})
	c := &JobCoordinator{Core: core, Logs: fakeLogs{}, Opts: jobOpts}
	err := c.Publish(context.Background(), loaders.Job{PlanText: "x", Loaders: 2})
	if err == nil || !strings.Contains(err.Error(), "no permission to create the Job") || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("err = %v, want one line saying the Job may not be created", err)
	}
	if _, gerr := core.CoreV1().ConfigMaps("bench").Get(context.Background(), jobOpts.Name, metav1.GetOptions{}); !apierrors.IsNotFound(gerr) {
		t.Errorf("the ConfigMap is left behind: %v", gerr)
	}
}

func TestResultFromLog(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("progress\n")
	_ = WriteResult(&b, oneRun(1))
	_ = WriteResult(&b, oneRun(2))
	b.WriteString("bye\n")
	f, err := ResultFromLog(b.Bytes())
	if err != nil || f.Runs[0].Counts.Sent != 2 {
		t.Fatalf("ResultFromLog = %+v, %v; want the last result", f, err)
	}
	if _, err := ResultFromLog([]byte("fake logs")); err == nil {
		t.Error("a log with no result: no error")
	}
}

func TestUnpullableImage(t *testing.T) {
	now := time.Now()
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "l-0", CreationTimestamp: metav1.NewTime(now.Add(-61 * time.Second))},
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Image: "inferbench:nope",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "not found"}}}}}}
	if why := unpullable(p, now, DefaultPullGiveUp); !strings.Contains(why, "inferbench:nope cannot be pulled") {
		t.Errorf("after 61 s: %q", why)
	}
	if why := unpullable(p, now.Add(-30*time.Second), DefaultPullGiveUp); why != "" {
		t.Errorf("after 31 s: %q, want still waiting", why)
	}
}

// TestDriveThroughTheAPI runs the coordinator's loop (loaders.Drive) over
// the fake clientset with two loaders that wait at the same unit through
// their ConfigMap: both get the same start, set ahead of their arrival;
// then the pods succeed and the loop ends.
func TestDriveThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	core := fake.NewClientset()
	c := &JobCoordinator{Core: core, Logs: fakeLogs{}, Opts: jobOpts}
	if err := c.Publish(ctx, loaders.Job{PlanText: "x", Loaders: 2}); err != nil {
		t.Fatal(err)
	}
	steps := []plan.Step{{Name: "a", Concurrency: 2, Requests: 10}}
	driven := make(chan error, 1)
	go func() {
		driven <- loaders.Drive(ctx, c, steps, 2, time.Second, 100*time.Millisecond, 10*time.Millisecond, t.Logf)
	}()
	u := loaders.Unit{Step: 0, Deployment: 0}
	starts := make(chan time.Time, 2)
	for i := range 2 {
		go func() {
			at, err := loaders.Wait(ctx, JobStation{Core: core, Namespace: "bench", Name: jobOpts.Name, Index: i}, u, 10*time.Millisecond)
			if err != nil {
				t.Error(err)
			}
			starts <- at
		}()
	}
	a, b := <-starts, <-starts
	if a.IsZero() || !a.Equal(b) {
		t.Errorf("starts %v and %v, want one start for both", a, b)
	}
	for i := range 2 {
		if _, err := core.CoreV1().Pods("bench").Create(ctx, loaderPod(i, corev1.PodSucceeded), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-driven:
		if err != nil {
			t.Errorf("Drive: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Drive still runs 30 s after every loader's pod succeeded")
	}
}

// TestJobCoordinatorPodDeleted: a loader whose pod is deleted before it
// ends (a node drained, someone's kubectl delete) counts as failed, so
// the coordinator does not wait for it until the Job's deadline.
func TestJobCoordinatorPodDeleted(t *testing.T) {
	ctx := context.Background()
	core := fake.NewClientset()
	c := &JobCoordinator{Core: core, Logs: fakeLogs{}, Opts: jobOpts}
	if err := c.Publish(ctx, loaders.Job{PlanText: "x", Loaders: 1}); err != nil {
		t.Fatal(err)
	}
	p := loaderPod(0, corev1.PodRunning)
	if _, err := core.CoreV1().Pods("bench").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if fin := c.Finished(); len(fin) != 0 {
		t.Fatalf("Finished = %v with the pod running", fin)
	}
	if err := core.CoreV1().Pods("bench").Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if fin := c.Finished(); len(fin) != 1 || fin[0] == nil || !strings.Contains(fin[0].Error(), "was deleted before it ended") {
		t.Errorf("Finished = %v, want loader 0 failed: its pod was deleted", fin)
	}
}

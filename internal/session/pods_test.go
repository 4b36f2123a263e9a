package session

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	metricsfake "k8s.io/metrics/pkg/client/clientset/versioned/fake"

	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// TestPodOOMKilledDuringAStepMakesItInvalid: the pod behind the server
// is OOM-killed and back before the step ends (the server answers
// throughout); the step is INVALID with the reason, and its pods are kept.
func TestPodOOMKilledDuringAStepMakesItInvalid(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, 2*time.Millisecond)), refserver.Options{})
	tg := target(t, r, protocol.KServeHTTP)

	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "triton-0", Labels: map[string]string{"app": "triton"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "triton", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "triton", Ready: true}}},
	}
	core := fake.NewClientset(p)
	// The third list of the pods (after Open's and Start's) finds the
	// container restarted after an OOM kill.
	var lists atomic.Int32
	core.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if lists.Add(1) == 3 {
			killed := p.DeepCopy()
			killed.Status.ContainerStatuses[0].RestartCount = 1
			killed.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
			if err := core.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), killed, "ml"); err != nil {
				t.Error(err)
			}
		}
		return false, nil, nil
	})
	c := &kube.Clients{Core: core, Metrics: metricsfake.NewSimpleClientset(), Namespace: "default"}
	w, line := kube.Open(context.Background(), c, kube.Target{Namespace: "ml", Selector: "app=triton"})
	if w == nil {
		t.Fatal(line)
	}

	run := judged(measureLevel(context.Background(), tg, Level{Concurrency: 2, Requests: 40, Warmup: 0}, levelHooks{Pods: w}))
	if run.Status != result.StatusOK || run.Counts.OK != 40 {
		t.Fatalf("status %s, %d ok: %s", run.Status, run.Counts.OK, run.Failure)
	}
	if run.Validity == nil || run.Validity.Valid || len(run.Validity.Reasons) != 1 ||
		!strings.Contains(run.Validity.Reasons[0], "pod triton-0 was OOM-killed during the step (restarts 0 -> 1)") {
		t.Errorf("validity %+v", run.Validity)
	}
	if run.Pods == nil || len(run.Pods.Pods) != 1 || run.Pods.Pods[0].LastTermination != "OOMKilled" || run.Pods.Namespace != "ml" {
		t.Errorf("pods %+v", run.Pods)
	}

	// The next step, with nothing happening, is valid.
	run = judged(measureLevel(context.Background(), tg, Level{Concurrency: 2, Requests: 20, Warmup: 0}, levelHooks{Pods: w}))
	if run.Validity == nil || !run.Validity.Valid || run.Pods.Pods[0].RestartsBefore != 1 {
		t.Errorf("second step: validity %+v, pods %+v", run.Validity, run.Pods)
	}
}

// TestExecuteSetsUpPodChecksPerDeployment: a deployment with a kubernetes
// section gets pod checks (and its runs a pods section), one without says
// in its check line that they are off.
func TestExecuteSetsUpPodChecksPerDeployment(t *testing.T) {
	r := pod(t, small(refserver.NewInstances(4, time.Millisecond)), refserver.Options{})
	url := "http://" + r.HTTPAddr
	p := &plan.Plan{
		Deployments: []plan.Deployment{
			{Name: "k8s", Protocol: string(protocol.KServeHTTP), URL: url, Model: "m", MetricsURL: MetricsOff,
				Kubernetes: &plan.Kubernetes{Namespace: "ml", Selector: "app=triton"}},
			{Name: "bare", Protocol: string(protocol.KServeHTTP), URL: url, Model: "m", MetricsURL: MetricsOff},
		},
		Steps: []plan.Step{{Name: "one", Concurrency: 1, Requests: 10}},
	}
	core := fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "triton-0", Labels: map[string]string{"app": "triton"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}})
	c := &kube.Clients{Core: core, Metrics: metricsfake.NewSimpleClientset(), Namespace: "default"}
	var log strings.Builder
	f, err := Run(context.Background(), p, Steps{Steps: p.Steps}, Options{Log: &log, DefaultTimeout: 10 * time.Second,
		PodWatch: func(ctx context.Context, tg kube.Target) (*kube.PodWatch, string) { return kube.Open(ctx, c, tg) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pod checks: on, 1 pod(s) in ml matching app=triton", "pod checks: off (no kubernetes section in the plan, no --kube-* flags)"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if len(f.Runs) != 2 {
		t.Fatalf("%d runs", len(f.Runs))
	}
	for _, run := range f.Runs {
		if (run.Pods != nil) != (run.Deployment.Name == "k8s") || !run.Validity.Valid {
			t.Errorf("%s: pods %+v, validity %+v", run.Deployment.Name, run.Pods, run.Validity)
		}
	}
}

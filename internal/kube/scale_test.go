package kube

import (
	"context"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/scaling"
)

// TestScaleSourceOverTime: a Deployment with an HPA and a KServe
// InferenceService scales from 1 to 2 replicas while it is sampled; the
// samples follow the objects as they change, and the new pod's created,
// scheduled and ready times become events aligned with the run.
func TestScaleSourceOverTime(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	match := map[string]string{"app": "yolo"}
	dep := testDeployment("ml", "yolo", match)
	dep.Spec.Replicas = i32(1)
	dep.Status.ReadyReplicas = 1
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "yolo-hpa"},
		Spec:   autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "yolo", APIVersion: "apps/v1"}, MaxReplicas: 4},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 1, DesiredReplicas: 1}}
	pod := func(name string, created time.Time, ready bool) *corev1.Pod {
		p := testPod("ml", name, map[string]string{"app": "yolo", isvcLabel: "yolo"}, "", "")
		p.CreationTimestamp = metav1.NewTime(created)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(created.Add(100 * time.Millisecond))}}
		if ready {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(created.Add(2 * time.Second))})
		}
		return p
	}
	isvc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
		"metadata": map[string]any{"namespace": "ml", "name": "yolo"},
		"status":   map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "False"}}},
	}}
	core := fake.NewClientset(dep, hpa, pod("yolo-a", t0.Add(-time.Hour), true))
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{InferenceServices: "InferenceServiceList"}, isvc)
	src := &ScaleSource{Clients: &Clients{Core: core, Dynamic: dyn, Namespace: "ml"}, Namespace: "ml", Deployment: "yolo", InferenceService: "yolo"}

	var samples []scaling.TimedSample
	sample := func(at time.Time) scaling.Sample {
		t.Helper()
		s, err := src.Sample(ctx)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, scaling.TimedSample{At: at, Sample: s})
		return s
	}
	s := sample(t0.Add(500 * time.Millisecond))
	if s.Desired != 1 || s.Ready != 1 || *s.HPACurrent != 1 || *s.HPADesired != 1 || *s.ServiceReady || *s.ServiceReplicas != 1 || len(s.Replicas) != 1 {
		t.Fatalf("first sample %+v", s)
	}

	// Second 1: the HPA wants 2, the Deployment asks for 2, a pod is created.
	hpa.Status.DesiredReplicas = 2
	dep.Spec.Replicas = i32(2)
	noErr(t, errOf(core.AutoscalingV2().HorizontalPodAutoscalers("ml").UpdateStatus(ctx, hpa, metav1.UpdateOptions{})))
	noErr(t, errOf(core.AppsV1().Deployments("ml").Update(ctx, dep, metav1.UpdateOptions{})))
	noErr(t, errOf(core.CoreV1().Pods("ml").Create(ctx, pod("yolo-b", t0.Add(1200*time.Millisecond), false), metav1.CreateOptions{})))
	s = sample(t0.Add(1500 * time.Millisecond))
	if s.Desired != 2 || s.Ready != 1 || *s.HPADesired != 2 || *s.HPACurrent != 1 {
		t.Fatalf("second sample %+v", s)
	}

	// Second 3: the pod is ready, the InferenceService too.
	dep.Status.ReadyReplicas = 2
	hpa.Status.CurrentReplicas = 2
	noErr(t, errOf(core.AppsV1().Deployments("ml").UpdateStatus(ctx, dep, metav1.UpdateOptions{})))
	noErr(t, errOf(core.AutoscalingV2().HorizontalPodAutoscalers("ml").UpdateStatus(ctx, hpa, metav1.UpdateOptions{})))
	noErr(t, errOf(core.CoreV1().Pods("ml").UpdateStatus(ctx, pod("yolo-b", t0.Add(1200*time.Millisecond), true), metav1.UpdateOptions{})))
	_ = unstructured.SetNestedSlice(isvc.Object, []any{map[string]any{"type": "Ready", "status": "True"}}, "status", "conditions")
	if _, err := dyn.Resource(InferenceServices).Namespace("ml").Update(ctx, isvc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s = sample(t0.Add(3500 * time.Millisecond))
	if s.Desired != 2 || s.Ready != 2 || *s.HPACurrent != 2 || !*s.ServiceReady || *s.ServiceReplicas != 2 {
		t.Fatalf("third sample %+v", s)
	}

	got := scaling.Build(src.Describe(), t0, 4, samples, s.Replicas)
	wantReady := []int{1, 1, 1, 2}
	for i, sec := range got.Seconds {
		if sec.Second != i || sec.Ready != wantReady[i] {
			t.Errorf("second %d: %+v, want ready %d", i, sec, wantReady[i])
		}
	}
	var b []result.ScaleEvent
	for _, e := range got.Events {
		if e.Replica == "yolo-b" {
			b = append(b, e)
		}
	}
	want := []result.ScaleEvent{{AtS: 1.2, Kind: result.ScaleCreated, Replica: "yolo-b"}, {AtS: 1.3, Kind: result.ScaleScheduled, Replica: "yolo-b"}, {AtS: 3.2, Kind: result.ScaleReady, Replica: "yolo-b"}}
	if len(b) != len(want) {
		t.Fatalf("events of yolo-b %+v, want %+v", b, want)
	}
	for i := range want {
		if b[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, b[i], want[i])
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func i32(n int32) *int32 { return &n }

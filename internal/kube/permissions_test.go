package kube

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	metricsfake "k8s.io/metrics/pkg/client/clientset/versioned/fake"
)

// TestPodWatchCallsAreListed runs every path of pod checks (a selector, a
// deployment and a service; a step with its usage and events) on the fake
// clientsets and compares the calls made with PodWatchPermissions, both
// ways: nothing called is unlisted, nothing listed is uncalled.
func TestPodWatchCallsAreListed(t *testing.T) {
	ctx := context.Background()
	m := &fakeMetrics{usage: map[string][2]string{"web-1": {"100m", "100Mi"}}, labels: map[string]string{"app": "web"}}
	c := clients(t, m,
		testPod("ml", "web-1", map[string]string{"app": "web"}, "1", "2Gi"),
		testDeployment("ml", "web", map[string]string{"app": "web"}),
		testService("ml", "web", map[string]string{"app": "web"}),
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "e1"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1"}, Reason: "Pulled", Message: "pulled"},
	)
	w, line := Open(ctx, c, Target{Namespace: "ml", Selector: "app=web", Deployment: "web", Service: "web"})
	if w == nil {
		t.Fatalf("Open: %q", line)
	}
	w.Interval = time.Hour // the polls at Start and Stop only
	w.Start(ctx, 4).Stop()

	record, calls := recorder()
	record(c.Core.(*fake.Clientset).Actions(), "")
	record(c.Metrics.(*metricsfake.Clientset).Actions(), "metrics.k8s.io")
	got := MergePermissions(*calls)
	want := MergePermissions(PodWatchPermissions())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pod checks call\n%v\nbut PodWatchPermissions lists\n%v", got, want)
	}
}

// TestScaleCallsAreListed: ScaleSource.Sample over a Deployment with an
// HPA and an InferenceService makes exactly ScalePermissions' calls.
func TestScaleCallsAreListed(t *testing.T) {
	match := map[string]string{"app": "yolo"}
	dep := testDeployment("ml", "yolo", match)
	isvc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
		"metadata": map[string]any{"namespace": "ml", "name": "yolo"},
	}}
	core := fake.NewClientset(dep, testPod("ml", "yolo-a", match, "", ""))
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{InferenceServices: "InferenceServiceList"}, isvc)
	src := &ScaleSource{Clients: &Clients{Core: core, Dynamic: dyn, Namespace: "ml"}, Namespace: "ml", Deployment: "yolo", InferenceService: "yolo"}
	if _, err := src.Sample(context.Background()); err != nil {
		t.Fatal(err)
	}
	record, calls := recorder()
	record(core.Actions(), "")
	record(dyn.Actions(), "")
	if got, want := MergePermissions(*calls), MergePermissions(ScalePermissions()); !reflect.DeepEqual(got, want) {
		t.Errorf("the scale source calls\n%v\nbut ScalePermissions lists\n%v", got, want)
	}
}

// recorder turns fake clientsets' actions into permissions (group given
// for the clientsets whose actions do not carry it).
func recorder() (func([]k8stesting.Action, string), *[]Permission) {
	var calls []Permission
	record := func(actions []k8stesting.Action, group string) {
		for _, a := range actions {
			r := a.GetResource()
			res := r.Resource
			if s := a.GetSubresource(); s != "" {
				res += "/" + s
			}
			g := r.Group
			if group != "" {
				g = group
			}
			calls = append(calls, Permission{Group: g, Resource: res, Verbs: []string{a.GetVerb()}})
		}
	}
	return record, &calls
}

func TestMergePermissions(t *testing.T) {
	got := MergePermissions(
		[]Permission{{Group: "", Resource: "pods", Verbs: []string{"list", "get"}}, {Group: "batch", Resource: "jobs", Verbs: []string{"create"}}},
		[]Permission{{Group: "", Resource: "pods", Verbs: []string{"get", "watch"}}, {Group: "", Resource: "configmaps", Verbs: []string{"get"}}},
	)
	want := []Permission{
		{Group: "", Resource: "configmaps", Verbs: []string{"get"}},
		{Group: "", Resource: "pods", Verbs: []string{"get", "list", "watch"}},
		{Group: "batch", Resource: "jobs", Verbs: []string{"create"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

package kube

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	record(c.Core.(*fake.Clientset).Actions(), "")
	record(c.Metrics.(*metricsfake.Clientset).Actions(), "metrics.k8s.io")
	got := MergePermissions(calls)
	want := MergePermissions(PodWatchPermissions())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pod checks call\n%v\nbut PodWatchPermissions lists\n%v", got, want)
	}
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

package kube

import (
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsfake "k8s.io/metrics/pkg/client/clientset/versioned/fake"
)

// testPod is a running, ready pod with one container and its resources.
func testPod(ns, name string, labels map[string]string, cpuLimit, memLimit string) *corev1.Pod {
	res := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   corev1.ResourceList{},
	}
	if cpuLimit != "" {
		res.Limits[corev1.ResourceCPU] = resource.MustParse(cpuLimit)
	}
	if memLimit != "" {
		res.Limits[corev1.ResourceMemory] = resource.MustParse(memLimit)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "server", Resources: res}}},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "server", Ready: true}},
		},
	}
}

func testDeployment(ns, name string, match map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: match}}}
}

func testService(ns, name string, match map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Selector: match}}
}

// fakeMetrics serves metrics.k8s.io pod usage that a test can change.
type fakeMetrics struct {
	mu     sync.Mutex
	usage  map[string][2]string // pod -> cpu, memory
	labels map[string]string    // of every pod's metrics, as metrics-server copies them
}

func (m *fakeMetrics) set(pod, cpu, mem string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage[pod] = [2]string{cpu, mem}
}

// clients builds fake clients over objs; with m nil, metrics.k8s.io is
// absent.
func clients(t *testing.T, m *fakeMetrics, objs ...runtime.Object) *Clients {
	t.Helper()
	mc := metricsfake.NewSimpleClientset()
	mc.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if m == nil {
			return true, nil, &notFound{}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		list := &metricsv1beta1.PodMetricsList{}
		for name, u := range m.usage {
			list.Items = append(list.Items, metricsv1beta1.PodMetrics{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: a.GetNamespace(), Labels: m.labels},
				Containers: []metricsv1beta1.ContainerMetrics{{Name: "server", Usage: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse(u[0]), corev1.ResourceMemory: resource.MustParse(u[1])}}},
			})
		}
		return true, list, nil
	})
	return &Clients{Core: fake.NewClientset(objs...), Metrics: mc, Namespace: "default"}
}

type notFound struct{}

func (*notFound) Error() string {
	return "the server could not find the requested resource (get pods.metrics.k8s.io)"
}

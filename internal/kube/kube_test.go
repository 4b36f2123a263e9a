package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/inferbench/inferbench/internal/analyze"
)

func TestResolvePicksTheRightPods(t *testing.T) {
	web := map[string]string{"app": "web"}
	c := clients(t, nil,
		testPod("ml", "web-1", map[string]string{"app": "web", "tier": "gpu"}, "2", "4Gi"),
		testPod("ml", "web-2", web, "2", "4Gi"),
		testPod("ml", "db-1", map[string]string{"app": "db"}, "", ""),
		testPod("other", "web-9", web, "", ""),
		testDeployment("ml", "web", web),
		testService("ml", "web-svc", web),
		testService("ml", "headless", nil),
	)
	tests := []struct {
		name    string
		target  Target
		want    []string
		wantErr string
	}{
		{"selector", Target{Namespace: "ml", Selector: "app=web"}, []string{"web-1", "web-2"}, ""},
		{"set selector", Target{Namespace: "ml", Selector: "app in (db)"}, []string{"db-1"}, ""},
		{"deployment", Target{Namespace: "ml", Deployment: "web"}, []string{"web-1", "web-2"}, ""},
		{"service", Target{Namespace: "ml", Service: "web-svc"}, []string{"web-1", "web-2"}, ""},
		{"deployment and selector", Target{Namespace: "ml", Deployment: "web", Selector: "tier=gpu"}, []string{"web-1"}, ""},
		{"context namespace", Target{Selector: "app=web"}, nil, ""},
		{"missing deployment", Target{Namespace: "ml", Deployment: "nope"}, nil, `deployment ml/nope`},
		{"service without selector", Target{Namespace: "ml", Service: "headless"}, nil, "has no selector"},
		{"bad selector", Target{Namespace: "ml", Selector: "app in ("}, nil, `selector "app in ("`},
		{"nothing", Target{Namespace: "ml"}, nil, "no selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, sel, err := Resolve(context.Background(), c, tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pods, err := ListPods(context.Background(), c, ns, sel)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pods {
				got = append(got, p.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("pods %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOOMKillDuringAStepMakesItInvalid injects a restart with reason
// OOMKilled between Start and Stop: the pod recovered, but the step is
// invalid, and the usage read from metrics.k8s.io is per step.
func TestOOMKillDuringAStepMakesItInvalid(t *testing.T) {
	ctx := context.Background()
	m := &fakeMetrics{usage: map[string][2]string{"web-1": {"900m", "1900Mi"}}, labels: map[string]string{"app": "web"}}
	c := clients(t, m, testPod("ml", "web-1", map[string]string{"app": "web"}, "1", "2Gi"))
	w, line := Open(ctx, c, Target{Namespace: "ml", Selector: "app=web"})
	if w == nil || !strings.HasPrefix(line, "pod checks: on, 1 pod(s) in ml matching app=web (usage from metrics.k8s.io") {
		t.Fatalf("Open: %q", line)
	}

	w.Interval = time.Hour // the polls at Start and Stop only: the usage is exact
	g := w.Start(ctx, 8)
	p, err := c.Core.CoreV1().Pods("ml").Get(ctx, "web-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.ContainerStatuses[0].RestartCount = 1
	p.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}
	if _, err := c.Core.CoreV1().Pods("ml").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	m.set("web-1", "1", "1000Mi")
	view, invalid, notes := g.Stop()

	if len(invalid) != 1 || !strings.Contains(invalid[0], "pod web-1 was OOM-killed during the step (restarts 0 -> 1)") {
		t.Errorf("invalid %q", invalid)
	}
	if view == nil || len(view.Pods) != 1 || !view.Metrics {
		t.Fatalf("view %+v", view)
	}
	got := view.Pods[0]
	if got.RestartsBefore != 0 || got.RestartsAfter != 1 || got.LastTermination != "OOMKilled" {
		t.Errorf("pod %+v", got)
	}
	if got.CPUMilliMax != 1000 || got.CPUMilliMean != 950 || got.MemoryBytesMax != 1900<<20 || got.MemoryBytesMean != (1900+1000)<<20/2 {
		t.Errorf("usage cpu max %d mean %d, memory max %d mean %d", got.CPUMilliMax, got.CPUMilliMean, got.MemoryBytesMax, got.MemoryBytesMean)
	}
	if got.CPULimitMilli != 1000 || got.MemoryLimitBytes != 2<<30 || got.CPURequestMilli != 500 || got.MemoryRequestBytes != 1<<30 {
		t.Errorf("resources %+v", got)
	}
	if len(notes) != 0 {
		t.Errorf("facts %q, want none", notes)
	}
	joined := strings.Join(analyze.PodsNotes(view.Pods), "\n")
	for _, want := range []string{"CPU at limit: pod web-1 used 1000m of its 1000m CPU limit", "memory near limit: pod web-1 used 2.0 GB of its 2.1 GB memory limit"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
}

// TestAQuietStepIsValid: no restart, no note, and without metrics.k8s.io
// no usage; a pod deleted during the next step makes that one invalid.
func TestAQuietStepIsValid(t *testing.T) {
	ctx := context.Background()
	c := clients(t, nil, testPod("ml", "web-1", map[string]string{"app": "web"}, "1", "8Gi"), testPod("ml", "web-2", map[string]string{"app": "web"}, "1", "8Gi"))
	w, line := Open(ctx, c, Target{Namespace: "ml", Selector: "app=web"})
	if w == nil || !strings.Contains(line, "no usage (metrics.k8s.io does not answer)") {
		t.Fatalf("Open: %q", line)
	}
	view, invalid, notes := w.Start(ctx, 4).Stop()
	if len(invalid) != 0 || len(notes) != 0 || view.Metrics || len(view.Pods) != 2 {
		t.Errorf("invalid %q, notes %q, view %+v", invalid, notes, view)
	}

	g := w.Start(ctx, 4)
	if err := c.Core.CoreV1().Pods("ml").Delete(ctx, "web-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, invalid, _ = g.Stop()
	if len(invalid) != 1 || !strings.Contains(invalid[0], "pod web-2 went away during the step") {
		t.Errorf("invalid %q", invalid)
	}

	// A pod that appears during a step and has restarted already counts.
	g = w.Start(ctx, 4)
	p := testPod("ml", "web-3", map[string]string{"app": "web"}, "1", "8Gi")
	p.Status.ContainerStatuses[0].RestartCount = 2
	if _, err := c.Core.CoreV1().Pods("ml").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	view, invalid, _ = g.Stop()
	if len(invalid) != 1 || !strings.Contains(invalid[0], "pod web-3 restarted during the step (restarts 0 -> 2)") || len(view.Pods) != 2 || !view.Pods[1].New {
		t.Errorf("invalid %q, pods %+v", invalid, view.Pods)
	}
}

func TestOpenWithoutPods(t *testing.T) {
	c := clients(t, nil)
	if w, line := Open(context.Background(), c, Target{Namespace: "ml", Selector: "app=web"}); w != nil || line != "pod checks: off (no pod in namespace ml matches app=web)" {
		t.Errorf("Open: %v %q", w, line)
	}
}

// TestNoKubeconfigTurnsPodChecksOff: no kubeconfig anywhere and not in a
// cluster gives one clear line.
func TestNoKubeconfigTurnsPodChecksOff(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing"))
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	w, line := Setup(context.Background(), Target{Selector: "app=web"}, "")
	want := "pod checks: off (no kubeconfig ($KUBECONFIG, ~/.kube/config) and not running in a cluster)"
	if w != nil || line != want {
		t.Errorf("Setup: %v %q, want %q", w, line, want)
	}
	if _, line := Setup(context.Background(), Target{}, ""); line != "pod checks: off (no Kubernetes selector, deployment or service given)" {
		t.Errorf("Setup without target: %q", line)
	}
	if _, line := Setup(context.Background(), Target{Selector: "app=web"}, filepath.Join(dir, "nope.yaml")); !strings.HasPrefix(line, "pod checks: off (kubeconfig: ") || strings.Contains(line, "\n") {
		t.Errorf("Setup with a missing --kubeconfig: %q", line)
	}
}

// TestConnectReadsTheNamedContext: a kubeconfig's named context sets the
// namespace; nothing is sent to the cluster.
func TestConnectReadsTheNamedContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: a
  context: {cluster: c, user: u, namespace: ml}
- name: b
  context: {cluster: c, user: u}
current-context: b
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
	c, err := Connect(ConnectOptions{Context: "a"})
	if err != nil || c.Namespace != "ml" || c.Where != "context a" {
		t.Fatalf("Connect a: %+v %v", c, err)
	}
	c, err = Connect(ConnectOptions{})
	if err != nil || c.Namespace != "default" || c.Where != "context b" {
		t.Fatalf("Connect current: %+v %v", c, err)
	}
}

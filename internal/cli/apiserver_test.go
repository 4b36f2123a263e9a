package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/inferbench/inferbench/deploy"
	"github.com/inferbench/inferbench/internal/kube"
	"github.com/inferbench/inferbench/internal/kube/kapitest"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
	"github.com/inferbench/inferbench/internal/session"
)

// clusterLoaders sets up a real API server's namespace with deploy's
// manifests and a stand-in kubelet that runs each loader pod of the Job
// as the loader subcommand would (kubeLoader, as deploy's ServiceAccount,
// against loopback servers), keeping its log; the coordinator reads those
// logs. It returns the namespace and a kubeconfig of a user bound to
// deploy/role.yaml and nothing more.
func clusterLoaders(t *testing.T) (s *kapitest.Server, ns, kubeconfig string, k *kapitest.Kubelet) {
	s = kapitest.Start(t)
	ns, _ = s.Deploy(t, deploy.Files, "ib-cli")
	saCfg := s.Config(s.ServiceAccountToken(t, ns, "inferbench"))
	k = s.StartKubelet(t, ns, "inferbench.io/run", func(ctx context.Context, p *corev1.Pod, out io.Writer) int {
		var index int
		if _, err := fmt.Sscan(p.Annotations[batchv1.JobCompletionIndexAnnotation], &index); err != nil {
			fmt.Fprintln(out, "no completion index")
			return 1
		}
		args := p.Spec.Containers[0].Args
		if err := kubeLoader(ctx, saCfg, ns, args[len(args)-1], index, out, out); err != nil {
			fmt.Fprintln(out, err)
			return 1
		}
		return 0
	})
	old := loaderLogs
	loaderLogs = func(kubernetes.Interface) kube.LogReader { return k }
	t.Cleanup(func() { loaderLogs = old })
	return s, ns, s.Kubeconfig(t, "alice", ns), k
}

// nothingLeft checks that no Job, ConfigMap or pod of inferbench's is
// left in ns.
func nothingLeft(t *testing.T, s *kapitest.Server, ns string) {
	t.Helper()
	ctx := context.Background()
	kapitest.Eventually(t, 60*time.Second, "no Job, ConfigMap or loader pod left in "+ns, func() (bool, error) {
		jobs, err := s.Admin.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		cms, err := s.Admin.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run"})
		if err != nil {
			return false, err
		}
		pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run"})
		return len(jobs.Items) == 0 && len(cms.Items) == 0 && len(pods.Items) == 0, err
	})
}

// TestRunLoadersOnARealAPIServer: `run --loaders 2` as a user with only
// deploy/role.yaml's rights creates the Job on a real API server, whose
// controller makes the pods; the loaders (run by a stand-in kubelet) meet
// at the ConfigMap, measure their clocks against the API server, send
// exactly the plan's requests between them, and the coordinator merges
// their logs' results, checks the clocks and deletes everything.
func TestRunLoadersOnARealAPIServer(t *testing.T) {
	s, ns, kubeconfig, k := clusterLoaders(t)
	srv := refServer(t, refserver.NewInstances(16, 2*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: ref, protocol: kserve-http, url: %q, model: m}
steps:
  - {name: closed, concurrency: 6, requests: 301}
  - {name: constant, rate: 100, requests: 57}
loaders: {count: 2, image: "inferbench:test"}
`, urlFor(srv, protocol.KServeHTTP)))
	out := t.TempDir()
	_, log, err := runCLI(context.Background(), "run", planPath, "-o", out, "--kubeconfig", kubeconfig, "--format", "json")
	if err != nil {
		t.Fatalf("run with loaders: 2 on the API server: %v\n%s", err, log)
	}
	if k.Pods() != 2 {
		t.Errorf("the Job controller made %d pods, want 2", k.Pods())
	}
	merged, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"closed": 301, "constant": 57}
	if !merged.Complete || len(merged.Runs) != 2 {
		t.Fatalf("merged: complete %v, %d runs\n%s", merged.Complete, len(merged.Runs), log)
	}
	for _, r := range merged.Runs {
		if r.Counts.Sent != want[r.Step] || r.Counts.OK != want[r.Step] {
			t.Errorf("%s: %d sent, %d ok; want %d exactly", r.Step, r.Counts.Sent, r.Counts.OK, want[r.Step])
		}
	}
	for i := range 2 {
		f, err := result.Read(filepath.Join(out, "loaders", fmt.Sprintf("loader-%d.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		c := f.Environment.Clock
		if c == nil || c.Probes == 0 || c.Against != kube.ClockReference {
			t.Errorf("loader %d measured no clock against the API server: %+v", i, c)
		} else if off := c.OffsetMs; off < -c.UncertaintyMs-1 || off > c.UncertaintyMs+1 {
			// Loaders, coordinator and API server share this machine's clock.
			t.Errorf("loader %d: offset %.1f ms ±%.1f ms from the API server on the same machine", i, off, c.UncertaintyMs)
		}
	}
	if !strings.Contains(log, "Clocks: 2 loaders measured against "+kube.ClockReference) {
		t.Errorf("the log does not give the clock check:\n%s", log)
	}
	nothingLeft(t, s, ns)
}

// TestRunLoadersInterruptedOnARealAPIServer: Ctrl-C in the coordinator
// tells the loaders to stop through the ConfigMap; they save what they
// measured to their logs, the coordinator merges it (incomplete), exits
// 130 and deletes the Job.
func TestRunLoadersInterruptedOnARealAPIServer(t *testing.T) {
	s, ns, kubeconfig, _ := clusterLoaders(t)
	srv := refServer(t, refserver.NewInstances(8, 5*time.Millisecond), 0)
	planPath := writePlan(t, fmt.Sprintf(`
deployments:
  - {name: ref, protocol: kserve-http, url: %q, model: m}
steps:
  - {name: long, concurrency: 4, duration: 120s}
`, urlFor(srv, protocol.KServeHTTP)))
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Ctrl-C once both loaders have been sending for a while
		for ctx.Err() == nil {
			pods, err := s.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run"})
			if err == nil && len(pods.Items) == 2 && pods.Items[0].Status.Phase == corev1.PodRunning && pods.Items[1].Status.Phase == corev1.PodRunning {
				time.Sleep(6 * time.Second)
				cancel()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	began := time.Now()
	_, log, err := runCLI(ctx, "run", planPath, "-o", out, "--kubeconfig", kubeconfig, "--loaders", "2", "--image", "inferbench:test", "--grace", "1s")
	var ee *session.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Fatalf("err = %v, want an interruption (130)\n%s", err, log)
	}
	if took := time.Since(began); took > 100*time.Second {
		t.Errorf("the interrupted run took %v, want far less than the step's 120 s", took)
	}
	f, err := result.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatalf("no merged results after Ctrl-C: %v\n%s", err, log)
	}
	if f.Complete || len(f.Runs) != 1 || f.Runs[0].Counts.Sent == 0 {
		t.Errorf("after Ctrl-C: complete %v, %d runs, want the loaders' incomplete measurements\n%s", f.Complete, len(f.Runs), log)
	}
	for i := range 2 {
		if _, err := result.Read(filepath.Join(out, "loaders", fmt.Sprintf("loader-%d.json", i))); err != nil {
			t.Errorf("loader %d's results were not kept: %v", i, err)
		}
	}
	nothingLeft(t, s, ns)
}

// TestRunLoadersRefusedOnARealAPIServer: no right to create Jobs, and a
// namespace that does not exist: one line each, exit 1, nothing left.
func TestRunLoadersRefusedOnARealAPIServer(t *testing.T) {
	s := kapitest.Start(t)
	ns := s.Namespace(t, "ib-cli-refused")
	planPath := writePlan(t, `
deployments:
  - {name: ref, protocol: kserve-http, url: "http://127.0.0.1:1", model: m}
steps:
  - {name: one, concurrency: 1, requests: 1}
`)
	for _, tc := range []struct {
		name, kubeconfig, want string
	}{
		{"bob has no rights", s.Kubeconfig(t, "bob", ns), "no permission to create the ConfigMap"},
		{"no such namespace", s.Kubeconfig(t, "kapi-admin-token", "ib-no-such-namespace"), `namespaces "ib-no-such-namespace" not found`},
	} {
		_, log, err := runCLI(context.Background(), "run", planPath, "-o", t.TempDir(), "--loaders", "2", "--kubeconfig", tc.kubeconfig, "--image", "inferbench:test")
		var ee *session.ExitError
		if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want exit 1 in one line naming %q\n%s", tc.name, err, tc.want, log)
		}
	}
	if _, err := s.Admin.CoreV1().Namespaces().Get(context.Background(), "ib-no-such-namespace", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the missing namespace exists: %v", err)
	}
	nothingLeft(t, s, ns)
}

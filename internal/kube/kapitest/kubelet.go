package kapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RunPod is what a stand-in kubelet runs for a pod: its container's work,
// writing its log to stdout, until done or ctx ends (the pod deleted, as
// a kubelet's SIGTERM); exit is the container's exit code.
type RunPod func(ctx context.Context, pod *corev1.Pod, stdout io.Writer) (exit int)

// Kubelet plays the kubelet for the pods of one namespace matching a
// label selector: it marks each new pod Running, runs it, and writes its
// end (Succeeded or Failed, the container's exit code) through the status
// subresource, so that the Job controller sees it; a pod deleted meanwhile
// has its run cancelled. It keeps each pod's log (the API server has no
// kubelet to read one from): Log serves them.
type Kubelet struct {
	s         *Server
	namespace string
	selector  string
	run       RunPod

	mu   sync.Mutex
	logs map[string]*syncBuffer
	seen map[string]bool
	wg   sync.WaitGroup
}

// StartKubelet starts a stand-in kubelet until the test ends.
func (s *Server) StartKubelet(t testing.TB, namespace, selector string, run RunPod) *Kubelet {
	k := &Kubelet{s: s, namespace: namespace, selector: selector, run: run, logs: map[string]*syncBuffer{}, seen: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			k.poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; k.wg.Wait() })
	return k
}

func (k *Kubelet) poll(ctx context.Context) {
	list, err := k.s.Admin.CoreV1().Pods(k.namespace).List(ctx, metav1.ListOptions{LabelSelector: k.selector})
	if err != nil {
		return
	}
	for i := range list.Items {
		p := list.Items[i]
		k.mu.Lock()
		seen := k.seen[p.Name]
		k.seen[p.Name] = true
		buf := &syncBuffer{}
		if !seen {
			k.logs[p.Name] = buf
		}
		k.mu.Unlock()
		if seen || p.Status.Phase != corev1.PodPending || p.DeletionTimestamp != nil {
			continue
		}
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			k.runPod(ctx, &p, buf)
		}()
	}
}

func (k *Kubelet) runPod(ctx context.Context, p *corev1.Pod, log io.Writer) {
	now := metav1.Now()
	status := func(phase corev1.PodPhase, state corev1.ContainerState) error {
		cur, err := k.s.Admin.CoreV1().Pods(p.Namespace).Get(context.Background(), p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status.Phase = phase
		if cur.Status.StartTime == nil {
			cur.Status.StartTime = &now
		}
		var statuses []corev1.ContainerStatus
		for _, c := range cur.Spec.Containers {
			statuses = append(statuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "stand-in://" + c.Image, State: state,
				Ready: state.Running != nil, Started: func() *bool { b := state.Running != nil; return &b }()})
		}
		cur.Status.ContainerStatuses = statuses
		_, err = k.s.Admin.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), cur, metav1.UpdateOptions{})
		return err
	}
	if err := status(corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}); err != nil {
		fmt.Fprintf(log, "stand-in kubelet: mark running: %v\n", err)
		return
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // a deleted pod's container is stopped
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			cur, err := k.s.Admin.CoreV1().Pods(p.Namespace).Get(context.Background(), p.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && cur.DeletionTimestamp != nil) {
				cancel()
				return
			}
		}
	}()
	exit := k.run(runCtx, p, log)
	phase, reason := corev1.PodSucceeded, "Completed"
	if exit != 0 {
		phase, reason = corev1.PodFailed, "Error"
	}
	_ = status(phase, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: int32(exit), Reason: reason, StartedAt: now, FinishedAt: metav1.Now()}})
}

// Log is a pod's log as its run wrote it (kube.LogReader).
func (k *Kubelet) Log(_ context.Context, namespace, pod string) ([]byte, error) {
	k.mu.Lock()
	b, ok := k.logs[pod]
	k.mu.Unlock()
	if !ok || namespace != k.namespace {
		return nil, fmt.Errorf("pods %q not found", pod)
	}
	return b.Bytes(), nil
}

// Pods is how many pods it has seen.
func (k *Kubelet) Pods() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.seen)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

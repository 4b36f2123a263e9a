package kube

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
)

// PodWatch looks at a deployment's pods around each step. It polls during
// the step rather than keeping a watch open: restart counts only go up, so
// a pod that restarts and recovers between two polls is still caught, and
// a pod replaced meanwhile is missing from the next list. It remembers the
// memory of earlier steps to estimate memory per in-flight request.
type PodWatch struct {
	Clients   *Clients
	Namespace string
	Selector  labels.Selector
	Interval  time.Duration // polling during the step; 1 s if zero

	mu      sync.Mutex
	history []MemoryPoint
}

// Off is the log line's start when pod checks are off.
const Off = "pod checks: off"

// Setup connects as kubectl would and opens a watch on the target's pods.
// It returns nil when pod checks are off, and one line for the log that
// says whether they are on and, if not, why.
func Setup(ctx context.Context, t Target, kubeconfig string) (*PodWatch, string) {
	if t.IsZero() {
		return nil, Off + " (no Kubernetes selector, deployment or service given)"
	}
	c, err := Connect(ConnectOptions{Kubeconfig: kubeconfig, Context: t.Context})
	if err != nil {
		return nil, Off + " (" + err.Error() + ")"
	}
	return Open(ctx, c, t)
}

// Open resolves the target's pods and checks that there are some, and
// whether metrics.k8s.io answers for them.
func Open(ctx context.Context, c *Clients, t Target) (*PodWatch, string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ns, sel, err := Resolve(ctx, c, t)
	if err != nil {
		return nil, Off + " (" + err.Error() + ")"
	}
	pods, err := ListPods(ctx, c, ns, sel)
	if err != nil {
		return nil, Off + " (" + err.Error() + ")"
	}
	if len(pods) == 0 {
		return nil, fmt.Sprintf("%s (no pod in namespace %s matches %s)", Off, ns, sel)
	}
	usage := "usage from metrics.k8s.io"
	if _, err := readUsage(ctx, c, ns, sel); err != nil {
		usage = "no usage (metrics.k8s.io does not answer)"
	}
	where := ""
	if c.Where != "" {
		where = ", " + c.Where
	}
	w := &PodWatch{Clients: c, Namespace: ns, Selector: sel}
	return w, fmt.Sprintf("pod checks: on, %d pod(s) in %s matching %s (%s%s)", len(pods), ns, sel, usage, where)
}

// PodObservation is a pod watch in progress over one step.
type PodObservation struct {
	w           *PodWatch
	ctx         context.Context
	concurrency int
	start       time.Time
	beforeErr   error

	mu         sync.Mutex
	pods       map[string]*track
	metricsOK  bool
	quit, done chan struct{}
}

// track is what the polls saw of one pod.
type track struct {
	pod            result.Pod
	cpuSum, memSum int64
	samples        int64
}

// Start records the pods as they are, then polls them until Stop.
// concurrency is the step's, for the OOM-risk estimate (0 for a rate).
func (w *PodWatch) Start(ctx context.Context, concurrency int) *PodObservation {
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	g := &PodObservation{w: w, ctx: context.WithoutCancel(ctx), concurrency: concurrency, start: time.Now(),
		pods: map[string]*track{}, quit: make(chan struct{}), done: make(chan struct{})}
	g.beforeErr = g.poll(true)
	go func() {
		defer close(g.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				_ = g.poll(false) // a failed poll is caught by the next one or by Stop's
			case <-g.quit:
				return
			}
		}
	}()
	return g
}

// poll lists the pods and their usage once and folds them into the
// tracks. The first poll sets the restart counts before the step.
func (g *PodObservation) poll(first bool) error {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	c, ns, sel := g.w.Clients, g.w.Namespace, g.w.Selector
	pods, err := ListPods(ctx, c, ns, sel)
	if err != nil {
		return err
	}
	use, useErr := readUsage(ctx, c, ns, sel)
	g.mu.Lock()
	defer g.mu.Unlock()
	listed := map[string]bool{}
	for i := range pods {
		s := podState(&pods[i])
		listed[s.Name] = true
		t, ok := g.pods[s.Name]
		if !ok {
			if !first { // it appeared during the step: all its restarts are the step's
				s.New = true
				s.RestartsBefore = 0
			}
			g.pods[s.Name] = &track{pod: s}
			continue
		}
		t.pod.Phase, t.pod.Ready, t.pod.Gone = s.Phase, s.Ready, false
		t.pod.RestartsAfter = max(t.pod.RestartsAfter, s.RestartsAfter)
		if s.LastTermination != "" {
			t.pod.LastTermination = s.LastTermination
		}
	}
	for name, t := range g.pods {
		if !listed[name] {
			t.pod.Gone = true
		}
	}
	if useErr == nil {
		g.metricsOK = true
		for name, u := range use {
			if t, ok := g.pods[name]; ok {
				t.cpuSum += u.cpuMilli
				t.memSum += u.memBytes
				t.samples++
				t.pod.CPUMilliMax = max(t.pod.CPUMilliMax, u.cpuMilli)
				t.pod.MemoryBytesMax = max(t.pod.MemoryBytesMax, u.memBytes)
			}
		}
	}
	return nil
}

// Stop polls a last time and reports the step: the pods over the step,
// the reasons that make it invalid (a restart, an OOM kill, a pod gone:
// analyze.PodsInvalid of the pods, which reports recompute from them), and
// the facts the pods do not hold: pod checks that failed, and the OOM risk
// estimated from this step's and the earlier steps' memory. The notes on
// usage against the limits are analyze.PodsNotes of the pods, recomputed
// when a report is rendered.
func (g *PodObservation) Stop() (view *result.Pods, invalid, notes []string) {
	close(g.quit)
	<-g.done
	if g.beforeErr != nil {
		return nil, nil, []string{"pod checks: " + g.beforeErr.Error()}
	}
	if err := g.poll(false); err != nil {
		notes = append(notes, "pod checks: the last look at the pods failed: "+err.Error())
	}
	g.mu.Lock()
	view = &result.Pods{Namespace: g.w.Namespace, Selector: g.w.Selector.String(), Metrics: g.metricsOK, Pods: []result.Pod{}}
	for _, t := range g.pods {
		if t.samples > 0 {
			t.pod.CPUMilliMean = t.cpuSum / t.samples
			t.pod.MemoryBytesMean = t.memSum / t.samples
		}
		view.Pods = append(view.Pods, t.pod)
	}
	g.mu.Unlock()
	sort.Slice(view.Pods, func(i, j int) bool { return view.Pods[i].Name < view.Pods[j].Name })
	view.Events = g.events()

	invalid = analyze.PodsInvalid(view.Pods)
	if n := g.w.oomRisk(g.concurrency, view); n != "" {
		notes = append(notes, n)
	}
	return view, invalid, notes
}

// oomRisk estimates the risk from this step and the earlier ones, and
// remembers this step's memory for the next.
func (w *PodWatch) oomRisk(concurrency int, view *result.Pods) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var live int
	var mem int64
	for _, p := range view.Pods {
		if !p.Gone && p.MemoryBytesMax > 0 {
			live++
			mem += p.MemoryBytesMax
		}
	}
	if view.Metrics && live > 0 && concurrency > 0 && len(analyze.PodsInvalid(view.Pods)) == 0 {
		w.history = append(w.history, MemoryPoint{Concurrency: float64(concurrency) / float64(live), Bytes: float64(mem) / float64(live)})
	}
	return OOMRisk(w.history, concurrency, view.Pods)
}

// maxEvents caps the events kept per step.
const maxEvents = 20

// events lists the warning events about the watched pods since the step
// started (BackOff, Unhealthy, Killing, FailedScheduling...).
func (g *PodObservation) events() []string {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	list, err := g.w.Clients.Core.CoreV1().Events(g.w.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, e := range list.Items {
		when := e.LastTimestamp.Time
		if when.IsZero() {
			when = e.EventTime.Time
		}
		_, ours := g.pods[e.InvolvedObject.Name]
		if e.Type != "Warning" || e.InvolvedObject.Kind != "Pod" || !ours || when.Before(g.start.Add(-time.Second)) {
			continue
		}
		line := fmt.Sprintf("pod/%s %s: %s", e.InvolvedObject.Name, e.Reason, e.Message)
		if !seen[line] && len(out) < maxEvents {
			seen[line] = true
			out = append(out, line)
		}
	}
	return out
}

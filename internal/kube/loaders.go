package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/inferbench/inferbench/internal/loaders"
	"github.com/inferbench/inferbench/internal/result"
)

// Annotations of the loaders' ConfigMap, through which the coordinator
// and its loaders meet (no protocol of our own): the coordinator's
// heartbeat, each unit's start (RFC 3339 with nanoseconds), and each
// loader's arrival at a unit.
const (
	annHeartbeat = "inferbench.io/heartbeat"
	annStop      = "inferbench.io/stop"    // why the coordinator stopped the run
	annStart     = "inferbench.io/start."  // + unit
	annReady     = "inferbench.io/ready."  // + unit + "." + index
	planKey      = "plan.yaml"             // the ConfigMap's plan
	jobKey       = "job.json"              // the loaders.Job, but for the plan text
	resultMarker = "INFERBENCH-RESULT-V2 " // the line of a loader's log that holds its result file
)

// JobOptions shape the loaders' Job.
type JobOptions struct {
	Namespace string
	// Name names the Job and its ConfigMap.
	Name  string
	Image string
	// ServiceAccount the pods run as (deploy/serviceaccount.yaml).
	ServiceAccount string
	// CPU and Memory are each loader's requests (and memory limit); empty
	// leaves them out.
	CPU, Memory  string
	NodeSelector map[string]string
	// Deadline is the Job's activeDeadlineSeconds: the plan's expected
	// length and a margin (ExpectedDeadline).
	Deadline time.Duration
	// TTL is ttlSecondsAfterFinished: how long the finished Job and its
	// pods' logs are kept.
	TTL time.Duration
}

// LoaderUser is the non-root user the loaders run as (the image's).
const LoaderUser = 65532

// ExpectedDeadline is a Job deadline for steps of known length: their
// total, each counted as its duration, or its requests at its rate, or
// for a closed loop its requests at 10 per second per worker (100 ms a
// request); then twice that, and 10 minutes more for pulling the image
// and the deployments' checks.
func ExpectedDeadline(lengths []time.Duration) time.Duration {
	var total time.Duration
	for _, l := range lengths {
		total += l
	}
	return 2*total + 10*time.Minute
}

// LoaderConfigMap is the ConfigMap that hands the loaders the job.
func LoaderConfigMap(o JobOptions, j loaders.Job) (*corev1.ConfigMap, error) {
	text := j.PlanText
	j.PlanText, j.PlanPath = "", "/etc/inferbench/"+planKey
	b, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: loaderLabels(o.Name)},
		Data:       map[string]string{planKey: text, jobKey: string(b)},
	}, nil
}

func loaderLabels(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "inferbench", "app.kubernetes.io/component": "loader", "inferbench.io/run": name}
}

// LoaderJob is the Indexed Job of n loaders: each pod runs the image's
// hidden loader subcommand, its index from JOB_COMPLETION_INDEX, as a
// non-root user with no privilege, never retried (a benchmark is not
// rerun behind the user's back: backoffLimitPerIndex 0), and never
// outliving the deadline. The limit is per index, not the Job's
// backoffLimit 0: with that, one failed loader fails the Job and the Job
// controller kills the others, whose measurements would be lost; per
// index, the others run to their end and their results are merged.
func LoaderJob(o JobOptions, n int) (*batchv1.Job, error) {
	if n < 1 {
		return nil, fmt.Errorf("loaders %d: want at least 1", n)
	}
	res := corev1.ResourceRequirements{}
	if o.CPU != "" || o.Memory != "" {
		res.Requests = corev1.ResourceList{}
		res.Limits = corev1.ResourceList{}
	}
	if o.CPU != "" {
		q, err := resource.ParseQuantity(o.CPU)
		if err != nil {
			return nil, fmt.Errorf("loader cpu %q: %w", o.CPU, err)
		}
		res.Requests[corev1.ResourceCPU] = q
	}
	if o.Memory != "" {
		q, err := resource.ParseQuantity(o.Memory)
		if err != nil {
			return nil, fmt.Errorf("loader memory %q: %w", o.Memory, err)
		}
		res.Requests[corev1.ResourceMemory] = q
		res.Limits[corev1.ResourceMemory] = q
	}
	count := int32(n)
	mode := batchv1.IndexedCompletion
	perIndex := int32(0)
	deadline := int64(o.Deadline / time.Second)
	ttl := int32(o.TTL / time.Second)
	user := int64(LoaderUser)
	yes, no := true, false
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: loaderLabels(o.Name)},
		Spec: batchv1.JobSpec{
			CompletionMode:          &mode,
			Completions:             &count,
			Parallelism:             &count,
			BackoffLimitPerIndex:    &perIndex,
			ActiveDeadlineSeconds:   &deadline,
			TTLSecondsAfterFinished: &ttl,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: loaderLabels(o.Name)},
				Spec: corev1.PodSpec{
					ServiceAccountName: o.ServiceAccount,
					RestartPolicy:      corev1.RestartPolicyNever,
					NodeSelector:       o.NodeSelector,
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &user, RunAsGroup: &user,
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name:            "loader",
						Image:           o.Image,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Args:            []string{"loader", "--kube", "--namespace", o.Namespace, "--configmap", o.Name},
						Resources:       res,
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
					}},
					Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				},
			},
		},
	}, nil
}

// LogReader reads a pod's log. client-go's fake clientset answers every
// log with "fake logs", so tests give their own.
type LogReader interface {
	Log(ctx context.Context, namespace, pod string) ([]byte, error)
}

// APILogs reads logs from the API server (pods/log get).
type APILogs struct{ Core kubernetes.Interface }

// Log reads the pod's whole log.
func (a APILogs) Log(ctx context.Context, namespace, pod string) ([]byte, error) {
	return a.Core.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(ctx)
}

// JobCoordinator is loaders.Coordinator on Kubernetes: the job in a
// ConfigMap, the loaders an Indexed Job, the starts and heartbeat
// annotations of the ConfigMap that the loaders read, each loader's
// result the last line of its log.
type JobCoordinator struct {
	Core kubernetes.Interface
	Logs LogReader
	Opts JobOptions
	// PullGiveUp is how long a loader's image may fail to be pulled
	// before the loader counts as failed (0: DefaultPullGiveUp).
	PullGiveUp time.Duration

	mu       sync.Mutex
	n        int
	finished map[int]error
	seen     map[int]string // each loader's pod, once seen
}

// forbidden turns a refusal into one clear line.
func forbidden(err error, what, namespace string) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("no permission to %s in namespace %s (apply deploy/role.yaml and run as its ServiceAccount, or ask for it): %w", what, namespace, err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: namespace %s: %w", what, namespace, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Publish creates the ConfigMap, then the Job, then makes the Job the
// ConfigMap's owner: when the Job goes (deleted, or its TTL after it
// finished), Kubernetes' garbage collector takes the ConfigMap with it,
// even if the coordinator died before it could.
func (c *JobCoordinator) Publish(ctx context.Context, j loaders.Job) error {
	cm, err := LoaderConfigMap(c.Opts, j)
	if err != nil {
		return err
	}
	cm.Annotations = map[string]string{annHeartbeat: time.Now().Format(time.RFC3339Nano)}
	job, err := LoaderJob(c.Opts, j.Loaders)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.n, c.finished, c.seen = j.Loaders, map[int]error{}, map[int]string{}
	c.mu.Unlock()
	if _, err := c.Core.CoreV1().ConfigMaps(c.Opts.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return forbidden(err, "create the ConfigMap "+c.Opts.Name, c.Opts.Namespace)
	}
	made, err := c.Core.BatchV1().Jobs(c.Opts.Namespace).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		_ = c.Core.CoreV1().ConfigMaps(c.Opts.Namespace).Delete(context.WithoutCancel(ctx), c.Opts.Name, metav1.DeleteOptions{})
		return forbidden(err, "create the Job "+c.Opts.Name, c.Opts.Namespace)
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"ownerReferences": []metav1.OwnerReference{{
		APIVersion: "batch/v1", Kind: "Job", Name: made.Name, UID: made.UID}}}})
	if err != nil {
		return err
	}
	if _, err := c.Core.CoreV1().ConfigMaps(c.Opts.Namespace).Patch(ctx, c.Opts.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return forbidden(err, "make the Job the owner of the ConfigMap "+c.Opts.Name, c.Opts.Namespace)
	}
	return nil
}

func (c *JobCoordinator) configMap(ctx context.Context) (*corev1.ConfigMap, error) {
	return c.Core.CoreV1().ConfigMaps(c.Opts.Namespace).Get(ctx, c.Opts.Name, metav1.GetOptions{})
}

// Waiting reads the ready annotations of units without a start.
func (c *JobCoordinator) Waiting(ctx context.Context) (map[loaders.Unit][]int, error) {
	cm, err := c.configMap(ctx)
	if err != nil {
		return nil, err
	}
	out := map[loaders.Unit][]int{}
	for k := range cm.Annotations {
		rest, ok := strings.CutPrefix(k, annReady)
		if !ok {
			continue
		}
		name, idx, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		u, err := loaders.ParseUnit(name)
		i, ierr := strconv.Atoi(idx)
		if err != nil || ierr != nil {
			continue
		}
		if _, started := cm.Annotations[annStart+name]; started {
			continue
		}
		out[u] = append(out[u], i)
	}
	return out, nil
}

// annotate merges one annotation into the ConfigMap.
func annotate(ctx context.Context, core kubernetes.Interface, namespace, name, key, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if err != nil {
		return err
	}
	_, err = core.CoreV1().ConfigMaps(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// Start sets the unit's start annotation.
func (c *JobCoordinator) Start(ctx context.Context, u loaders.Unit, at time.Time) error {
	return annotate(ctx, c.Core, c.Opts.Namespace, c.Opts.Name, annStart+u.String(), at.UTC().Format(time.RFC3339Nano))
}

// Heartbeat sets the heartbeat annotation to now.
func (c *JobCoordinator) Heartbeat(ctx context.Context) error {
	return annotate(ctx, c.Core, c.Opts.Namespace, c.Opts.Name, annHeartbeat, time.Now().UTC().Format(time.RFC3339Nano))
}

// Finished reads the Job's pods: a loader whose pod succeeded ended well,
// one whose pod failed (or was evicted) is named with the reason.
func (c *JobCoordinator) Finished() map[int]error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := c.pods(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		return copyMap(c.finished)
	}
	if c.seen == nil {
		c.seen = map[int]string{}
	}
	for i, name := range c.seen {
		if _, there := pods[i]; !there {
			if _, ended := c.finished[i]; !ended {
				c.finished[i] = fmt.Errorf("loader %d (pod %s) was deleted before it ended", i, name)
			}
		}
	}
	for i, p := range pods {
		c.seen[i] = p.Name
		giveUp := c.PullGiveUp
		if giveUp <= 0 {
			giveUp = DefaultPullGiveUp
		}
		if why := unpullable(p, time.Now(), giveUp); why != "" {
			c.finished[i] = fmt.Errorf("loader %d (pod %s): %s", i, p.Name, why)
			continue
		}
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			c.finished[i] = nil
		case corev1.PodFailed:
			why := p.Status.Reason
			if why == "" {
				why = p.Status.Message
			}
			for _, cs := range p.Status.ContainerStatuses {
				if t := cs.State.Terminated; t != nil {
					why = strings.TrimSpace(fmt.Sprintf("%s exit code %d %s", why, t.ExitCode, t.Reason))
				}
			}
			c.finished[i] = fmt.Errorf("loader %d (pod %s) failed: %s", i, p.Name, why)
		}
	}
	return copyMap(c.finished)
}

// DefaultPullGiveUp is how long a loader's image may fail to be pulled
// before the loader counts as failed (and the coordinator deletes the
// Job).
const DefaultPullGiveUp = 60 * time.Second

// unpullable says why a pending pod's image cannot be pulled, once it has
// tried for giveUp; "" otherwise.
func unpullable(p corev1.Pod, now time.Time, giveUp time.Duration) string {
	if p.Status.Phase != corev1.PodPending || now.Sub(p.CreationTimestamp.Time) < giveUp {
		return ""
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ImagePullBackOff", "ErrImagePull", "InvalidImageName":
				return fmt.Sprintf("image %s cannot be pulled (%s for %v): %s", cs.Image, w.Reason, now.Sub(p.CreationTimestamp.Time).Round(time.Second), w.Message)
			}
		}
	}
	return ""
}

func copyMap(m map[int]error) map[int]error {
	out := make(map[int]error, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// pods is the Job's pods by completion index, the newest of each.
func (c *JobCoordinator) pods(ctx context.Context) (map[int]corev1.Pod, error) {
	list, err := c.Core.CoreV1().Pods(c.Opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "inferbench.io/run=" + c.Opts.Name})
	if err != nil {
		return nil, err
	}
	out := map[int]corev1.Pod{}
	for _, p := range list.Items {
		idx, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		if !ok {
			idx = p.Labels[batchv1.JobCompletionIndexAnnotation]
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		if old, seen := out[i]; !seen || old.CreationTimestamp.Before(&p.CreationTimestamp) {
			out[i] = p
		}
	}
	return out, nil
}

// Collect reads loader i's result from the last result line of its pod's
// log (a log is not bound by the API's 1 MiB object limit).
func (c *JobCoordinator) Collect(ctx context.Context, i int) (*result.File, error) {
	pods, err := c.pods(ctx)
	if err != nil {
		return nil, fmt.Errorf("loader %d: %w", i, err)
	}
	p, ok := pods[i]
	if !ok {
		return nil, fmt.Errorf("loader %d: no pod", i)
	}
	log, err := c.Logs.Log(ctx, c.Opts.Namespace, p.Name)
	if err != nil {
		return nil, fmt.Errorf("loader %d (pod %s): log: %w", i, p.Name, err)
	}
	return ResultFromLog(log)
}

// ResultFromLog finds a loader's result file in its log: the last line
// that starts with the result marker.
func ResultFromLog(log []byte) (*result.File, error) {
	at := bytes.LastIndex(log, []byte(resultMarker))
	if at < 0 {
		return nil, errors.New("no result in the loader's log")
	}
	line := log[at+len(resultMarker):]
	if end := bytes.IndexByte(line, '\n'); end >= 0 {
		line = line[:end]
	}
	var f result.File
	if err := json.Unmarshal(line, &f); err != nil {
		return nil, fmt.Errorf("the loader's result: %w", err)
	}
	return &f, nil
}

// WriteResult writes a loader's result file to its log as one line,
// for ResultFromLog.
func WriteResult(w io.Writer, f *result.File) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", resultMarker, b)
	return err
}

// Stop annotates the ConfigMap with the stop word, which each loader
// reads within a second: it stops sending, waits at most grace for its
// requests in flight, and writes what it measured to its log. Stop waits
// for every pod to end, at most grace and loaders.StopMargin; Close then
// deletes what is left.
func (c *JobCoordinator) Stop(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace+loaders.StopMargin)
	defer cancel()
	if err := annotate(ctx, c.Core, c.Opts.Namespace, c.Opts.Name, annStop, "the coordinator stopped the run at "+time.Now().UTC().Format(time.RFC3339)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("tell the loaders to stop: %w", err)
	}
	c.mu.Lock()
	n := c.n
	c.mu.Unlock()
	t := time.NewTicker(loaders.KubePoll)
	defer t.Stop()
	for {
		if len(c.Finished()) >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the loaders did not all end within %v of the stop: the Job is deleted", grace+loaders.StopMargin)
		case <-t.C:
		}
	}
}

// Close deletes the Job, its pods with it (propagation Background), and
// the ConfigMap: nothing keeps sending. A deleted pod gets its own
// termination grace period.
func (c *JobCoordinator) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	errJob := c.Core.BatchV1().Jobs(c.Opts.Namespace).Delete(ctx, c.Opts.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(errJob) {
		errJob = nil
	}
	errCM := c.Core.CoreV1().ConfigMaps(c.Opts.Namespace).Delete(ctx, c.Opts.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(errCM) {
		errCM = nil
	}
	if errJob != nil {
		return fmt.Errorf("delete the Job %s/%s (delete it by hand: kubectl delete job -n %s %s): %w", c.Opts.Namespace, c.Opts.Name, c.Opts.Namespace, c.Opts.Name, errJob)
	}
	return errCM
}

// JobStation is a loader pod's side: annotations of the ConfigMap.
type JobStation struct {
	Core            kubernetes.Interface
	Namespace, Name string
	Index           int
}

// Arrive annotates the ConfigMap with this loader's arrival at u.
func (s JobStation) Arrive(ctx context.Context, u loaders.Unit) error {
	return annotate(ctx, s.Core, s.Namespace, s.Name, fmt.Sprintf("%s%s.%d", annReady, u, s.Index), time.Now().UTC().Format(time.RFC3339Nano))
}

// StartOf reads u's start annotation.
func (s JobStation) StartOf(ctx context.Context, u loaders.Unit) (time.Time, bool, error) {
	cm, err := s.Core.CoreV1().ConfigMaps(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, false, err
	}
	v, ok := cm.Annotations[annStart+u.String()]
	if !ok {
		return time.Time{}, false, nil
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	return at, err == nil, err
}

// Told reads the heartbeat and stop annotations. A ConfigMap that is
// gone is a stop: the coordinator (or the garbage collector, its Job
// deleted) removed it.
func (s JobStation) Told(ctx context.Context) (loaders.Word, error) {
	cm, err := s.Core.CoreV1().ConfigMaps(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return loaders.Word{Heard: time.Now(), Stop: "the ConfigMap " + s.Name + " is gone"}, nil
	}
	if err != nil {
		return loaders.Word{}, err
	}
	heard, err := time.Parse(time.RFC3339Nano, cm.Annotations[annHeartbeat])
	if err != nil {
		return loaders.Word{}, fmt.Errorf("ConfigMap %s/%s annotation %s: %w", s.Namespace, s.Name, annHeartbeat, err)
	}
	return loaders.Word{Heard: heard, Stop: cm.Annotations[annStop]}, nil
}

// ReadJob reads the job from the ConfigMap, the plan text with it.
func ReadJob(ctx context.Context, core kubernetes.Interface, namespace, name string) (loaders.Job, error) {
	var j loaders.Job
	cm, err := core.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return j, forbidden(err, "read the ConfigMap "+name, namespace)
	}
	if err := json.Unmarshal([]byte(cm.Data[jobKey]), &j); err != nil {
		return j, fmt.Errorf("ConfigMap %s/%s %s: %w", namespace, name, jobKey, err)
	}
	j.PlanText = cm.Data[planKey]
	return j, nil
}

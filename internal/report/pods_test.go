package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/result"
)

func TestPodsSummary(t *testing.T) {
	if got := podsSummary(nil); got != "" {
		t.Errorf("nil: %q", got)
	}
	p := &result.Pods{Namespace: "ml", Selector: "app=triton", Metrics: true, Pods: []result.Pod{
		{Name: "a", Phase: "Running", Ready: true, RestartsBefore: 0, RestartsAfter: 1, LastTermination: "OOMKilled",
			CPUMilliMax: 950, CPULimitMilli: 1000, MemoryBytesMax: 1.9e9, MemoryLimitBytes: 2e9},
		{Name: "b", Phase: "Running", Gone: true},
	}}
	want := "pods in ml (app=triton): a Running ready, restarts 0->1 (last: OOMKilled), CPU max 950m of 1000m limit, memory max 1900 MB of 2000 MB limit; b Running gone, restarts 0->0, CPU max 0m (no limit), memory max 0 MB (no limit)"
	if got := podsSummary(p); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// The text report shows it under the run, beside INVALID.
	f := result.New("test", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	f.Runs = []result.Run{{Deployment: result.Deployment{Name: "d"}, Status: result.StatusOK, Counts: result.Counts{Sent: 1, OK: 1},
		Validity: &result.Validity{Reasons: []string{"pod a was OOM-killed during the step (restarts 0 -> 1)"}}, Pods: p,
		Assessment: result.Assessment{Notes: []string{}}}}
	var b bytes.Buffer
	if err := Text(&b, f, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"INVALID: pod a was OOM-killed", "pods in ml (app=triton): a Running ready"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, b.String())
		}
	}
}

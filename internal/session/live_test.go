package session

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inferbench/inferbench/internal/live"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/result"
)

// scrape reads /metrics with prometheus/common's text parser.
func scrape(addr string) (map[string]*dto.MetricFamily, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(res.Body)
}

// series finds a family's metric with these labels (deployment, step and
// the extra pairs).
func series(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

func counter(fams map[string]*dto.MetricFamily, name string, labels ...string) int64 {
	m := series(fams, name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return int64(m.Counter.GetValue())
	case m.Gauge != nil:
		return int64(m.Gauge.GetValue())
	}
	return -1
}

// TestLiveMetricsMatchTheResultFile runs a closed-loop and an open-loop
// step against a server that fails a fifth of its requests, with /metrics
// on a free port: scraped while it runs, every scrape parses and its
// counters never go down; scraped at the end, before the server closes,
// the counters equal the result file's: sent, successes, errors by class,
// the histogram's count, late sends, none in flight.
func TestLiveMetricsMatchTheResultFile(t *testing.T) {
	spec := small(refserver.NewInstances(4, time.Millisecond))
	spec.ErrorRate = 0.2
	r := pod(t, spec, refserver.Options{})
	tg := target(t, r, protocol.KServeHTTP)
	steps := []plan.Step{
		{Name: "closed", Concurrency: 4, Requests: 300},
		{Name: "open", Rate: 400, Arrival: "poisson", Seed: 7, Requests: 200, MaxInFlight: 64},
	}
	var (
		mu       sync.Mutex
		final    map[string]*dto.MetricFamily
		finalErr error
		scrapes  int
		during   []string // problems seen while it ran
		stop     = make(chan struct{})
		stopped  = make(chan struct{})
	)
	hook := func(addr string, last bool) {
		if !last {
			go func() { // scrape while the steps run
				defer close(stopped)
				var prevSent int64
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					fams, err := scrape(addr)
					mu.Lock()
					scrapes++
					if err != nil {
						during = append(during, err.Error())
					} else if sent := counter(fams, live.MetricSent, "deployment", "d", "step", "closed"); sent >= 0 {
						if sent < prevSent {
							during = append(during, fmt.Sprintf("sent went down: %d -> %d", prevSent, sent))
						}
						prevSent = sent
					}
					mu.Unlock()
				}
			}()
			return
		}
		close(stop)
		<-stopped
		final, finalErr = scrape(addr)
	}
	s, err := newSession(&plan.Plan{Deployments: []plan.Deployment{tg.Plan}, Steps: steps}, Options{MetricsAddr: "127.0.0.1:0", MetricsHook: hook})
	if err != nil {
		t.Fatal(err)
	}
	s.targets[tg.Plan.Name] = tg
	f, err := s.run(context.Background(), Steps{Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if finalErr != nil {
		t.Fatalf("the last scrape: %v", finalErr)
	}
	mu.Lock()
	t.Logf("%d scrapes while it ran", scrapes)
	for _, p := range during {
		t.Error(p)
	}
	mu.Unlock()
	if len(f.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(f.Runs))
	}
	for _, run := range f.Runs {
		l := []string{"deployment", "d", "step", run.Step}
		if run.Status != result.StatusOK {
			t.Fatalf("run %s: %s %s", run.Step, run.Status, run.Failure)
		}
		if run.Counts.Errors == 0 {
			t.Errorf("run %s: no errors at a 20%% error rate", run.Step)
		}
		for _, c := range []struct {
			name string
			got  int64
			want int64
		}{
			{live.MetricSent, counter(final, live.MetricSent, l...), run.Counts.Sent},
			{live.MetricOK, counter(final, live.MetricOK, l...), run.Counts.OK},
			{live.MetricInFlight, counter(final, live.MetricInFlight, l...), 0},
			{live.MetricLate, counter(final, live.MetricLate, l...), run.Client.LateSends},
		} {
			if c.got != c.want {
				t.Errorf("run %s: %s = %d, the result file says %d", run.Step, c.name, c.got, c.want)
			}
		}
		byClass := map[string]int64{}
		for _, g := range run.Errors {
			byClass[g.Class] += g.Count
		}
		for _, m := range final[live.MetricErrors].GetMetric() {
			var step, class string
			for _, lp := range m.Label {
				switch lp.GetName() {
				case "step":
					step = lp.GetValue()
				case "class":
					class = lp.GetValue()
				}
			}
			if step == run.Step {
				if got := int64(m.Counter.GetValue()); got != byClass[class] {
					t.Errorf("run %s: errors of class %s = %d, the result file says %d", run.Step, class, got, byClass[class])
				}
			}
		}
		h := series(final, live.MetricLatency, l...).GetHistogram()
		if h == nil || int64(h.GetSampleCount()) != run.Counts.OK {
			t.Fatalf("run %s: histogram %v, want a count of %d", run.Step, h, run.Counts.OK)
		}
		var prev uint64
		for _, b := range h.Bucket {
			if b.GetCumulativeCount() < prev || b.GetCumulativeCount() > h.GetSampleCount() {
				t.Errorf("run %s: bucket le=%g holds %d after %d", run.Step, b.GetUpperBound(), b.GetCumulativeCount(), prev)
			}
			prev = b.GetCumulativeCount()
		}
		// The mean from the sum agrees with the HDR histogram's (3 digits).
		mean := h.GetSampleSum() / float64(h.GetSampleCount()) * 1000
		if math.Abs(mean-run.LatencyMs.Mean) > 0.01*run.LatencyMs.Mean+0.01 {
			t.Errorf("run %s: mean latency %.3f ms from /metrics, %.3f ms in the result file", run.Step, mean, run.LatencyMs.Mean)
		}
	}
}

// TestMetricsAddrInUse: a port already taken ends the session before any
// load, with exit code 2 and the address in the message.
func TestMetricsAddrInUse(t *testing.T) {
	held, err := live.Serve("127.0.0.1:0", live.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r := pod(t, small(refserver.NewInstances(1, 0)), refserver.Options{})
	tg := target(t, r, protocol.KServeHTTP)
	steps := []plan.Step{{Name: "s", Concurrency: 1, Requests: 5}}
	s, err := newSession(&plan.Plan{Deployments: []plan.Deployment{tg.Plan}, Steps: steps}, Options{MetricsAddr: held.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	s.targets[tg.Plan.Name] = tg
	_, err = s.run(context.Background(), Steps{Steps: steps})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "--metrics-addr "+held.Addr()) {
		t.Errorf("err = %v, want exit code 2 naming --metrics-addr %s", err, held.Addr())
	}
}

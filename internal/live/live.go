// Package live keeps a run's figures as it goes, for Prometheus to scrape
// from /metrics while the load runs (--metrics-addr): requests sent,
// successes, errors by class, in flight, late sends, and the latency of the
// successes as a histogram of fixed buckets, labelled by deployment and
// step. The engine adds to Counters with a few atomic adds per request; a
// Registry holds one Counters per deployment and step and writes them all
// in Prometheus' text format.
package live

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
)

// buckets are the latency histogram's upper bounds (a 1-2-5 series from
// 1 ms to 60 s, the usual for request latency): fixed, so that loaders'
// series add up in PromQL. The exact percentiles are the result file's.
var buckets = [...]time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second,
	10 * time.Second, 20 * time.Second, 30 * time.Second, 60 * time.Second,
}

// Buckets returns the histogram's upper bounds (+Inf implied).
func Buckets() []time.Duration { return buckets[:] }

// Counters are one deployment's and step's live figures. The measured
// phase adds to them (the warmup does not), so at the end of a run they
// hold what the result file counts. A nil *Counters records nothing.
type Counters struct {
	deployment, step string

	sent     atomic.Int64 // requests sent (measured phase)
	ok       atomic.Int64 // answered right
	late     atomic.Int64 // open loop: sends held back past load.LateThreshold
	errors   [measure.NumClasses]atomic.Int64
	buckets  [len(buckets)]atomic.Int64 // successes per bucket (not cumulative)
	sumNanos atomic.Int64               // latency of the successes
}

// Sent counts one request sent.
func (c *Counters) Sent() {
	if c != nil {
		c.sent.Add(1)
	}
}

// Answered counts one answered request: a success (class < 0) with its
// latency, or an error of class index class (measure.ClassIndex); late
// says the send was held back.
func (c *Counters) Answered(class int, latency time.Duration, late bool) {
	if c == nil {
		return
	}
	if late {
		c.late.Add(1)
	}
	if class >= 0 {
		c.errors[min(class, measure.NumClasses-1)].Add(1)
		return
	}
	c.sumNanos.Add(int64(latency))
	c.ok.Add(1)
	if i := bucketOf(latency); i < len(buckets) {
		c.buckets[i].Add(1)
	}
}

// bucketOf is the first bucket whose bound is at least d (len(buckets) for
// +Inf only).
func bucketOf(d time.Duration) int {
	return sort.Search(len(buckets), func(i int) bool { return d <= buckets[i] })
}

// Snapshot is a Counters' figures at one time.
type Snapshot struct {
	Deployment, Step string
	Sent, OK, Late   int64
	InFlight         int64
	Errors           map[string]int64 // by class, only those seen
	Buckets          []int64          // cumulative, one per Buckets() bound
	Sum              time.Duration
}

// Snapshot reads the figures. The buckets are read before the successes
// and the answers before the sends (each request adds in the other order),
// so the histogram stays cumulative and in flight is never negative.
func (c *Counters) Snapshot() Snapshot {
	s := Snapshot{Deployment: c.deployment, Step: c.step, Errors: map[string]int64{}, Buckets: make([]int64, len(buckets))}
	var cum int64
	for i := range c.buckets {
		cum += c.buckets[i].Load()
		s.Buckets[i] = cum
	}
	s.Sum = time.Duration(c.sumNanos.Load())
	s.OK = c.ok.Load()
	answered := s.OK
	for i := range c.errors {
		if n := c.errors[i].Load(); n > 0 {
			s.Errors[measure.ClassAt(i)] = n
			answered += n
		}
	}
	s.Late = c.late.Load()
	s.Sent = c.sent.Load()
	s.InFlight = max(0, s.Sent-answered)
	return s
}

// Registry holds the Counters of a session, one per deployment and step,
// and writes them as Prometheus text. It is safe for concurrent use.
type Registry struct {
	mu   sync.Mutex
	runs map[[2]string]*Counters
	keys [][2]string // in the order first asked for
}

// NewRegistry makes an empty registry.
func NewRegistry() *Registry { return &Registry{runs: map[[2]string]*Counters{}} }

// Counters returns the counters of a deployment and step, made on first
// use: a step run again (trials) adds to the same series, as a counter
// should. A nil registry returns nil (nothing recorded).
func (r *Registry) Counters(deployment, step string) *Counters {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]string{deployment, step}
	c := r.runs[k]
	if c == nil {
		c = &Counters{deployment: deployment, step: step}
		r.runs[k] = c
		r.keys = append(r.keys, k)
	}
	return c
}

// The metric families' names.
const (
	MetricSent     = "inferbench_requests_sent_total"
	MetricOK       = "inferbench_requests_succeeded_total"
	MetricErrors   = "inferbench_request_errors_total"
	MetricInFlight = "inferbench_requests_in_flight"
	MetricLate     = "inferbench_late_sends_total"
	MetricLatency  = "inferbench_request_duration_seconds"
)

// WriteText writes every series in Prometheus' text exposition format
// (version 0.0.4).
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	snaps := make([]Snapshot, 0, len(r.keys))
	for _, k := range r.keys {
		snaps = append(snaps, r.runs[k].Snapshot())
	}
	r.mu.Unlock()

	var b strings.Builder
	family := func(name, typ, help string, each func(s Snapshot, labels string)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, s := range snaps {
			each(s, labels(s))
		}
	}
	family(MetricSent, "counter", "Requests sent in the measured phase (the warmup is not counted).", func(s Snapshot, l string) {
		fmt.Fprintf(&b, "%s{%s} %d\n", MetricSent, l, s.Sent)
	})
	family(MetricOK, "counter", "Requests answered right.", func(s Snapshot, l string) {
		fmt.Fprintf(&b, "%s{%s} %d\n", MetricOK, l, s.OK)
	})
	family(MetricErrors, "counter", "Requests that failed, by error class.", func(s Snapshot, l string) {
		for i := range measure.NumClasses {
			class := measure.ClassAt(i)
			fmt.Fprintf(&b, "%s{%s,class=%s} %d\n", MetricErrors, l, quote(class), s.Errors[class])
		}
	})
	family(MetricInFlight, "gauge", "Requests sent and not answered yet.", func(s Snapshot, l string) {
		fmt.Fprintf(&b, "%s{%s} %d\n", MetricInFlight, l, s.InFlight)
	})
	family(MetricLate, "counter", "Open loop: sends held back past their intended time by the client (no worker free, no CPU).", func(s Snapshot, l string) {
		fmt.Fprintf(&b, "%s{%s} %d\n", MetricLate, l, s.Late)
	})
	family(MetricLatency, "histogram", "Latency of the successes in seconds (open loop: from the intended send time).", func(s Snapshot, l string) {
		for i, bound := range buckets {
			fmt.Fprintf(&b, "%s_bucket{%s,le=%s} %d\n", MetricLatency, l, quote(strconv.FormatFloat(bound.Seconds(), 'g', -1, 64)), s.Buckets[i])
		}
		fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n", MetricLatency, l, s.OK)
		fmt.Fprintf(&b, "%s_sum{%s} %s\n", MetricLatency, l, strconv.FormatFloat(s.Sum.Seconds(), 'g', -1, 64))
		fmt.Fprintf(&b, "%s_count{%s} %d\n", MetricLatency, l, s.OK)
	})
	_, err := io.WriteString(w, b.String())
	return err
}

func labels(s Snapshot) string {
	return "deployment=" + quote(s.Deployment) + ",step=" + quote(s.Step)
}

// quote writes a label value as the text format wants: in double quotes,
// with backslash, double quote and newline escaped.
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

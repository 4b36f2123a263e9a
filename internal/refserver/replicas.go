package refserver

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/scaling"
)

// Deployment is an autoscaled pod's replicas and its emulated autoscaler
// (see AutoscaleConfig). It is a scaling.Source in process; its /metrics
// families say the same (writeDeploymentMetrics). Its autoscaler runs
// between the pod's Listen and Shutdown.
type Deployment struct {
	cfg  AutoscaleConfig
	name string

	mu       sync.Mutex
	state    ScaleState
	replicas []*replica // index = slot; nil: none in the slot
	history  []scaling.Replica
	serial   int
	ready    chan struct{} // closed, and replaced, when a replica becomes ready
	origin   time.Time
	samples  []float64 // the metric per tick over the window, a ring
	next     int
	running  bool
	stop     chan struct{}
	done     chan struct{}
	created  atomic.Uint64
	readied  atomic.Uint64
	removed  atomic.Uint64
	waiting  atomic.Int64 // requests waiting for a ready replica
	inflight atomic.Int64 // requests in the deployment, waiting ones included
	arrived  atomic.Int64 // requests arrived since the last tick
}

// replica is one replica: its emulators (one per model) and its life.
type replica struct {
	name     string
	slot     int
	created  time.Time
	readyAt  time.Time // created + cold start
	ready    bool
	first    atomic.Pointer[time.Time]
	inflight atomic.Int64
	removed  bool
}

// NewDeployment makes the replicas and autoscaler of a pod; the initial
// replicas are ready at once.
func NewDeployment(name string, c AutoscaleConfig) (*Deployment, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("pod %q: autoscaling: %w", name, err)
	}
	d := &Deployment{cfg: c, name: name, replicas: make([]*replica, c.MaxReplicas), ready: make(chan struct{}), origin: time.Now(),
		samples: make([]float64, max(1, int(c.window()/c.tick())))}
	now := time.Now()
	d.state = NewScaleState(c.initial())
	for i := 0; i < c.initial(); i++ {
		r := d.createLocked(i, now)
		r.readyAt, r.ready = now, true
		d.readied.Add(1)
	}
	return d, nil
}

// Config is the deployment's declaration.
func (d *Deployment) Config() AutoscaleConfig { return d.cfg }

func (d *Deployment) createLocked(slot int, now time.Time) *replica {
	d.serial++
	r := &replica{name: fmt.Sprintf("%s-%d", d.name, d.serial), slot: slot, created: now, readyAt: now.Add(d.cfg.ColdStart)}
	d.replicas[slot] = r
	d.created.Add(1)
	return r
}

// start runs the autoscaler until stopAutoscaler.
func (d *Deployment) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running {
		return
	}
	d.running = true
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	stop, done := d.stop, d.done
	go func() {
		defer close(done)
		t := time.NewTicker(d.cfg.tick())
		defer t.Stop()
		for {
			select {
			case <-t.C:
				d.tick(time.Now())
			case <-stop:
				return
			}
		}
	}()
}

func (d *Deployment) stopAutoscaler() {
	d.mu.Lock()
	if !d.running {
		d.mu.Unlock()
		return
	}
	d.running = false
	stop, done := d.stop, d.done
	d.mu.Unlock()
	close(stop)
	<-done
}

// tick samples the metric, decides, and makes replicas whose cold start
// has passed ready.
func (d *Deployment) tick(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := float64(d.inflight.Load())
	if d.cfg.TargetRPS > 0 {
		m = float64(d.arrived.Swap(0)) / d.cfg.tick().Seconds()
	}
	d.samples[d.next%len(d.samples)] = m
	d.next++
	n := min(d.next, len(d.samples))
	var sum float64
	for i := 0; i < n; i++ {
		sum += d.samples[i]
	}
	desired := DesiredReplicas(d.cfg, sum/float64(n), d.waiting.Load() > 0)
	d.state = NextScale(d.cfg, d.state, desired, now.Sub(d.origin))
	d.reconcileLocked(now)
}

// reconcileLocked creates or removes replicas to the state's count (the
// highest slots go first, the not yet ready before the ready), and makes
// ready those whose cold start has passed.
func (d *Deployment) reconcileLocked(now time.Time) {
	have := 0
	for _, r := range d.replicas {
		if r != nil {
			have++
		}
	}
	for slot := 0; have < d.state.Replicas && slot < len(d.replicas); slot++ {
		if d.replicas[slot] == nil {
			d.createLocked(slot, now)
			have++
		}
	}
	for pass := 0; pass < 2 && have > d.state.Replicas; pass++ {
		for slot := len(d.replicas) - 1; slot >= 0 && have > d.state.Replicas; slot-- {
			r := d.replicas[slot]
			if r == nil || (pass == 0 && r.ready) {
				continue
			}
			r.removed = true
			d.replicas[slot] = nil
			d.removed.Add(1)
			d.history = append(d.history, r.times(now))
			have--
		}
	}
	woke := false
	for _, r := range d.replicas {
		if r != nil && !r.ready && !now.Before(r.readyAt) {
			r.ready = true
			d.readied.Add(1)
			woke = true
		}
	}
	if woke {
		close(d.ready)
		d.ready = make(chan struct{})
	}
}

func (r *replica) times(removed time.Time) scaling.Replica {
	s := scaling.Replica{Name: r.name, Created: r.created, Scheduled: r.created}
	if r.ready {
		s.Ready = r.readyAt
	}
	if f := r.first.Load(); f != nil {
		s.FirstSuccess = *f
	}
	if r.removed {
		s.Removed = removed
	}
	return s
}

// acquire picks the ready replica with the fewest requests in flight,
// waiting (counted as such) while none is ready.
func (d *Deployment) acquire(ctx context.Context) (*replica, error) {
	d.arrived.Add(1)
	waited := false
	defer func() {
		if waited {
			d.waiting.Add(-1)
		}
	}()
	for {
		d.mu.Lock()
		var best *replica
		for _, r := range d.replicas {
			if r != nil && r.ready && (best == nil || r.inflight.Load() < best.inflight.Load()) {
				best = r
			}
		}
		if best != nil {
			best.inflight.Add(1)
			d.mu.Unlock()
			return best, nil
		}
		wake := d.ready
		if !waited {
			waited = true
			d.waiting.Add(1)
			if d.state.Replicas == 0 { // activation: scale from zero now
				d.state = NextScale(d.cfg, d.state, DesiredReplicas(d.cfg, 0, true), time.Since(d.origin))
				d.reconcileLocked(time.Now())
			}
		}
		d.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, cancelledWhileQueued(ctx)
		}
	}
}

func (d *Deployment) release(r *replica, ok bool) {
	r.inflight.Add(-1)
	if ok && r.first.Load() == nil {
		now := time.Now()
		r.first.CompareAndSwap(nil, &now)
	}
}

// Sample is the deployment's state now: a scaling.Source.
func (d *Deployment) Sample(context.Context) (scaling.Sample, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	s := scaling.Sample{Desired: d.state.Replicas, Replicas: append([]scaling.Replica(nil), d.history...)}
	for _, r := range d.replicas {
		if r == nil {
			continue
		}
		if r.ready {
			s.Ready++
		}
		s.Replicas = append(s.Replicas, r.times(now))
	}
	return s, nil
}

// Describe names the deployment for results.
func (d *Deployment) Describe() string { return "refserver pod " + d.name }

// replicated is one model's emulator in an autoscaled pod: a request goes
// to a replica, then to that replica's emulator of the model.
type replicated struct {
	d    *Deployment
	emus []Emulator // by slot
}

// Replicate builds one emulator per replica slot for a model of the
// deployment and routes its requests over the replicas.
func (d *Deployment) Replicate(build func() (Emulator, error)) (Emulator, error) {
	r := &replicated{d: d, emus: make([]Emulator, len(d.replicas))}
	for i := range r.emus {
		e, err := build()
		if err != nil {
			return nil, err
		}
		r.emus[i] = e
	}
	return r, nil
}

func (e *replicated) Execute(ctx context.Context, batch int) (Timing, error) {
	start := time.Now()
	e.d.inflight.Add(1)
	defer e.d.inflight.Add(-1)
	r, err := e.d.acquire(ctx)
	if err != nil {
		return Timing{Queue: time.Since(start)}, err
	}
	waited := time.Since(start)
	t, err := e.emus[r.slot].Execute(ctx, batch)
	e.d.release(r, err == nil)
	t.Queue += waited
	return t, err
}

func (e *replicated) Pending() int {
	n := int(e.d.waiting.Load())
	for _, em := range e.emus {
		n += em.Pending()
	}
	return n
}

func (e *replicated) Describe() string {
	return e.emus[0].Describe() + " per replica, " + e.d.cfg.Describe()
}

// Deployment is the pod's replicas and autoscaler, nil when it is not
// autoscaled.
func (s *Server) Deployment() *Deployment { return s.deploy }

// writeDeploymentMetrics writes the autoscaled pod's families (documented
// in README's reference-server section):
//
//	inferbench_replicas_desired{pod}                          gauge: the replicas the autoscaler asks for
//	inferbench_replicas_ready{pod}                            gauge: the replicas ready to serve
//	inferbench_replicas_waiting_requests{pod}                 gauge: requests waiting for a ready replica
//	inferbench_replica_events_total{pod,event}                counter: replicas created, ready, removed
//	inferbench_replica_created_timestamp_seconds{pod,replica} gauge: Unix time a live replica was created
//	inferbench_replica_ready_timestamp_seconds{pod,replica}   gauge: ... became ready (absent: not yet)
//	inferbench_replica_first_success_timestamp_seconds{pod,replica} gauge: ... first answered a request
func (d *Deployment) writeMetrics(b *bytes.Buffer) {
	s, _ := d.Sample(context.Background())
	pod := strconv.Quote(d.name)
	gauge := func(name, help string, v int64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s{pod=%s} %d\n", name, help, name, name, pod, v)
	}
	gauge("inferbench_replicas_desired", "Replicas the emulated autoscaler asks for", int64(s.Desired))
	gauge("inferbench_replicas_ready", "Replicas of the emulated deployment ready to serve", int64(s.Ready))
	gauge("inferbench_replicas_waiting_requests", "Requests waiting for a ready replica (scale-from-zero activation)", d.waiting.Load())
	const events = "inferbench_replica_events_total"
	fmt.Fprintf(b, "# HELP %s Replicas of the emulated deployment created, made ready and removed\n# TYPE %s counter\n", events, events)
	for _, e := range []struct {
		kind string
		n    uint64
	}{{"created", d.created.Load()}, {"ready", d.readied.Load()}, {"removed", d.removed.Load()}} {
		fmt.Fprintf(b, "%s{event=%q,pod=%s} %d\n", events, e.kind, pod, e.n)
	}
	for _, f := range []struct {
		name, help string
		at         func(scaling.Replica) time.Time
	}{
		{"inferbench_replica_created_timestamp_seconds", "Unix time a live replica was created", func(r scaling.Replica) time.Time { return r.Created }},
		{"inferbench_replica_ready_timestamp_seconds", "Unix time a live replica became ready", func(r scaling.Replica) time.Time { return r.Ready }},
		{"inferbench_replica_first_success_timestamp_seconds", "Unix time a live replica first answered a request", func(r scaling.Replica) time.Time { return r.FirstSuccess }},
	} {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", f.name, f.help, f.name)
		for _, r := range s.Replicas {
			if t := f.at(r); !t.IsZero() && r.Removed.IsZero() {
				fmt.Fprintf(b, "%s{pod=%s,replica=%q} %s\n", f.name, pod, r.Name, strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64))
			}
		}
	}
}

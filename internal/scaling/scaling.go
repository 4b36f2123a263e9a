// Package scaling observes how a deployment scales while it is measured:
// a Source says, when asked, how many replicas are desired and ready and
// when each replica was created, scheduled, ready and first served; an
// Observation asks it once a second over a step and writes the run's
// result.Scaling, aligned with the run's timeline. Sources: Kubernetes
// (package kube: a Deployment, its HPA, a KServe InferenceService), the
// reference server's autoscaled pod in process (refserver.Deployment) or
// over its /metrics (Metrics).
package scaling

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/result"
)

// Sample is a scale source's state at one moment.
type Sample struct {
	Desired, Ready int
	// HPACurrent, HPADesired, ServiceReady and ServiceReplicas are nil
	// when there is no HPA or InferenceService.
	HPACurrent, HPADesired *int
	ServiceReady           *bool
	ServiceReplicas        *int
	// Replicas are the replicas known now (and those removed, when the
	// source remembers them), with their times; zero times are unknown
	// or not yet.
	Replicas []Replica
}

// Replica is one replica's (a pod's) life so far.
type Replica struct {
	Name                                             string
	Created, Scheduled, Ready, FirstSuccess, Removed time.Time
}

// Source says how a deployment is scaled now.
type Source interface {
	Sample(ctx context.Context) (Sample, error)
	// Describe names what is observed, as result.Scaling.Source.
	Describe() string
}

// Observation samples a source once a second until Stop.
type Observation struct {
	src      Source
	ctx      context.Context
	interval time.Duration

	mu       sync.Mutex
	samples  []timed
	replicas map[string]Replica
	err      error
	quit     chan struct{}
	done     chan struct{}
}

type timed struct {
	at time.Time
	s  Sample
}

// Start samples the source now and then every interval (1 s if zero)
// until Stop.
func Start(ctx context.Context, src Source, interval time.Duration) *Observation {
	if interval <= 0 {
		interval = time.Second
	}
	o := &Observation{src: src, ctx: context.WithoutCancel(ctx), interval: interval, replicas: map[string]Replica{},
		quit: make(chan struct{}), done: make(chan struct{})}
	o.poll()
	go func() {
		defer close(o.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				o.poll()
			case <-o.quit:
				return
			}
		}
	}()
	return o
}

func (o *Observation) poll() {
	ctx, cancel := context.WithTimeout(o.ctx, 5*time.Second)
	defer cancel()
	s, err := o.src.Sample(ctx)
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.err = err
		return
	}
	o.samples = append(o.samples, timed{at: now, s: s})
	for _, r := range s.Replicas {
		old := o.replicas[r.Name]
		o.replicas[r.Name] = merge(old, r)
	}
}

// merge keeps every time seen of a replica, the first of each.
func merge(a, b Replica) Replica {
	a.Name = b.Name
	for _, p := range []struct {
		dst *time.Time
		src time.Time
	}{
		{&a.Created, b.Created}, {&a.Scheduled, b.Scheduled}, {&a.Ready, b.Ready}, {&a.FirstSuccess, b.FirstSuccess}, {&a.Removed, b.Removed},
	} {
		if p.dst.IsZero() {
			*p.dst = p.src
		}
	}
	return a
}

// Stop samples a last time and writes what was seen against the run's
// timeline: start is the start of its first interval, seconds its count
// of intervals. An error is the last failed sample's, when none worked.
func (o *Observation) Stop(start time.Time, seconds int) (*result.Scaling, error) {
	close(o.quit)
	<-o.done
	o.poll()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.samples) == 0 {
		return nil, o.err
	}
	return Build(o.src.Describe(), start, seconds, o.samples2(), o.replicaList()), nil
}

func (o *Observation) samples2() []TimedSample {
	out := make([]TimedSample, len(o.samples))
	for i, t := range o.samples {
		out[i] = TimedSample{At: t.at, Sample: t.s}
	}
	return out
}

func (o *Observation) replicaList() []Replica {
	out := make([]Replica, 0, len(o.replicas))
	for _, r := range o.replicas {
		out = append(out, r)
	}
	return out
}

// TimedSample is a sample and when it was taken.
type TimedSample struct {
	At time.Time
	Sample
}

// Build aligns samples with a run's timeline: each second i (from start,
// for seconds seconds, and the seconds before start that samples cover)
// takes the last sample taken by its end; replicas' times become events
// in seconds from start, oldest first. Pure: tests give it samples.
func Build(source string, start time.Time, seconds int, samples []TimedSample, replicas []Replica) *result.Scaling {
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].At.Before(samples[j].At) })
	out := &result.Scaling{Source: source, Seconds: []result.ScaleSecond{}}
	if len(samples) > 0 {
		first := int(math.Floor(samples[0].At.Sub(start).Seconds()))
		first = min(first, 0)
		k := -1
		for i := first; i < seconds; i++ {
			end := start.Add(time.Duration(i+1) * time.Second)
			for k+1 < len(samples) && !samples[k+1].At.After(end) {
				k++
			}
			if k < 0 {
				continue
			}
			s := samples[k].Sample
			out.Seconds = append(out.Seconds, result.ScaleSecond{Second: i, Desired: s.Desired, Ready: s.Ready,
				HPACurrent: s.HPACurrent, HPADesired: s.HPADesired, ServiceReady: s.ServiceReady, ServiceReplicas: s.ServiceReplicas})
		}
	}
	for _, r := range replicas {
		for _, e := range []struct {
			kind string
			at   time.Time
		}{{result.ScaleCreated, r.Created}, {result.ScaleScheduled, r.Scheduled}, {result.ScaleReady, r.Ready},
			{result.ScaleFirstSuccess, r.FirstSuccess}, {result.ScaleRemoved, r.Removed}} {
			if !e.at.IsZero() {
				out.Events = append(out.Events, result.ScaleEvent{AtS: math.Round(e.at.Sub(start).Seconds()*1000) / 1000, Kind: e.kind, Replica: r.Name})
			}
		}
	}
	order := map[string]int{result.ScaleCreated: 0, result.ScaleScheduled: 1, result.ScaleReady: 2, result.ScaleFirstSuccess: 3, result.ScaleRemoved: 4}
	sort.SliceStable(out.Events, func(i, j int) bool {
		a, b := out.Events[i], out.Events[j]
		if a.AtS != b.AtS {
			return a.AtS < b.AtS
		}
		if a.Replica != b.Replica {
			return a.Replica < b.Replica
		}
		return order[a.Kind] < order[b.Kind]
	})
	return out
}

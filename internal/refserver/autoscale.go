package refserver

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// AutoscaleConfig makes a pod a replicated deployment behind its one set
// of addresses, scaled by an emulated autoscaler (Kubernetes' HPA with a
// stabilisation delay, or KServe's Knative autoscaler with its activator
// for scale-from-zero). Each replica has its own emulator per model, as a
// pod of the Deployment has its own GPU; a request goes to the ready
// replica with the fewest requests in flight, and waits (as in Knative's
// activator) while no replica is ready.
//
// Every Tick the autoscaler averages its metric over the last Window:
// requests in flight (waiting ones included) with TargetInFlight, or
// requests arriving per second with TargetRPS (exactly one is set), and
// wants ceil(metric / target) replicas within MinReplicas..MaxReplicas.
// It scales up when it has wanted more replicas for ScaleUpDelay without
// a break, to what it wants then, and down when it has wanted fewer for
// ScaleDownDelay. A replica created is ready ColdStart later. With no
// replica (MinReplicas 0), the first request activates one at once: it
// waits for that replica's cold start (scale-from-zero).
type AutoscaleConfig struct {
	TargetInFlight float64
	TargetRPS      float64
	// MinReplicas may be 0 (scale to zero); MaxReplicas >= max(1, MinReplicas).
	MinReplicas, MaxReplicas int
	// InitialReplicas is how many are ready at the start (MinReplicas if
	// zero and not Zero; clamped to MinReplicas..MaxReplicas).
	InitialReplicas int
	ScaleUpDelay    time.Duration
	ScaleDownDelay  time.Duration
	ColdStart       time.Duration
	// Window is the metric's averaging window (1 s if zero), Tick how
	// often the autoscaler looks (100 ms if zero).
	Window, Tick time.Duration
}

// Default autoscaler periods.
const (
	DefaultAutoscaleWindow = time.Second
	DefaultAutoscaleTick   = 100 * time.Millisecond
)

// Validate checks the declaration.
func (c AutoscaleConfig) Validate() error {
	var errs []error
	switch {
	case c.TargetInFlight < 0 || c.TargetRPS < 0 || math.IsNaN(c.TargetInFlight) || math.IsNaN(c.TargetRPS):
		errs = append(errs, fmt.Errorf("targets must not be negative (target_inflight %v, target_rps %v)", c.TargetInFlight, c.TargetRPS))
	case (c.TargetInFlight > 0) == (c.TargetRPS > 0):
		errs = append(errs, fmt.Errorf("give exactly one of target_inflight and target_rps (got %v and %v)", c.TargetInFlight, c.TargetRPS))
	}
	if c.MinReplicas < 0 {
		errs = append(errs, fmt.Errorf("min_replicas %d is negative", c.MinReplicas))
	}
	if c.MaxReplicas < max(1, c.MinReplicas) {
		errs = append(errs, fmt.Errorf("max_replicas %d must be at least 1 and at least min_replicas %d", c.MaxReplicas, c.MinReplicas))
	}
	if c.InitialReplicas < 0 {
		errs = append(errs, fmt.Errorf("initial_replicas %d is negative", c.InitialReplicas))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"scale_up_delay", c.ScaleUpDelay}, {"scale_down_delay", c.ScaleDownDelay}, {"cold_start", c.ColdStart}, {"window", c.Window}, {"tick", c.Tick}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if c.Window > 0 && c.Tick > 0 && c.Window < c.Tick {
		errs = append(errs, fmt.Errorf("window %v is shorter than tick %v", c.Window, c.Tick))
	}
	return errors.Join(errs...)
}

func (c AutoscaleConfig) window() time.Duration {
	if c.Window <= 0 {
		return DefaultAutoscaleWindow
	}
	return c.Window
}

func (c AutoscaleConfig) tick() time.Duration {
	if c.Tick <= 0 {
		return DefaultAutoscaleTick
	}
	return c.Tick
}

func (c AutoscaleConfig) initial() int {
	n := c.InitialReplicas
	if n == 0 {
		n = c.MinReplicas
	}
	return min(max(n, c.MinReplicas), c.MaxReplicas)
}

// Describe is the banner's line.
func (c AutoscaleConfig) Describe() string {
	target := fmt.Sprintf("%g in flight", c.TargetInFlight)
	if c.TargetRPS > 0 {
		target = fmt.Sprintf("%g req/s", c.TargetRPS)
	}
	return fmt.Sprintf("autoscaled %d..%d replicas (start %d), target %s per replica over %v, scale-up delay %v, scale-down delay %v, cold start %v",
		c.MinReplicas, c.MaxReplicas, c.initial(), target, c.window(), c.ScaleUpDelay, c.ScaleDownDelay, c.ColdStart)
}

// DesiredReplicas is the replicas the autoscaler wants for a metric (the
// average in flight or arrivals per second over the window): the metric
// over the target per replica, rounded up, within min..max. waiting says
// requests wait for a replica now: with none wanted, one is (activation).
func DesiredReplicas(c AutoscaleConfig, metric float64, waiting bool) int {
	target := c.TargetInFlight
	if c.TargetRPS > 0 {
		target = c.TargetRPS
	}
	want := 0
	if target > 0 && metric > 0 {
		// A hair under an exact multiple is that multiple: an average of
		// sampled counts is not exact.
		want = int(math.Ceil(metric/target - 1e-9))
	}
	if waiting {
		want = max(want, 1)
	}
	return min(max(want, c.MinReplicas), c.MaxReplicas)
}

// ScaleState is the autoscaler's decision state: the replicas it has
// asked for, and since when it has wanted more or fewer (-1: not).
type ScaleState struct {
	Replicas   int
	UpSince    time.Duration
	DownSince  time.Duration
	Activation bool // the last step scaled from zero
}

// NewScaleState is the state at the start, with n replicas asked for.
func NewScaleState(n int) ScaleState { return ScaleState{Replicas: n, UpSince: -1, DownSince: -1} }

// NextScale is the autoscaler's decision at time now (from any origin):
// from zero it scales at once to what it wants (activation); otherwise up
// once it has wanted more for ScaleUpDelay without a break, and down once
// it has wanted fewer for ScaleDownDelay, to what it wants at that moment.
func NextScale(c AutoscaleConfig, s ScaleState, desired int, now time.Duration) ScaleState {
	s.Activation = false
	switch {
	case desired > s.Replicas && s.Replicas == 0:
		return ScaleState{Replicas: desired, UpSince: -1, DownSince: -1, Activation: true}
	case desired > s.Replicas:
		s.DownSince = -1
		if s.UpSince < 0 {
			s.UpSince = now
		}
		if now-s.UpSince >= c.ScaleUpDelay {
			return ScaleState{Replicas: desired, UpSince: -1, DownSince: -1}
		}
	case desired < s.Replicas:
		s.UpSince = -1
		if s.DownSince < 0 {
			s.DownSince = now
		}
		if now-s.DownSince >= c.ScaleDownDelay {
			return ScaleState{Replicas: desired, UpSince: -1, DownSince: -1}
		}
	default:
		s.UpSince, s.DownSince = -1, -1
	}
	return s
}

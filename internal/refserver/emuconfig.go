package refserver

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The emulator kinds.
const (
	KindFIFO      = "fifo"      // one instance, one request at a time
	KindInstances = "instances" // N instances in parallel
	KindBatcher   = "batcher"   // Triton's dynamic batcher over N instances
	KindGIL       = "gil"       // a Python service holding a global lock
	KindPipelined = "pipelined" // one GPU instance overlapping requests in flight
)

// EmulatorKinds lists the emulator kinds.
var EmulatorKinds = []string{KindFIFO, KindInstances, KindBatcher, KindGIL, KindPipelined}

// Defaults of EmulatorConfig fields left zero.
const (
	DefaultGILHeld = 0.8 // the fraction of a Python request spent holding the GIL
)

// EmulatorConfig declares an emulator of any kind; NewEmulator builds it.
// Fields a kind does not use are ignored.
type EmulatorConfig struct {
	Kind string

	// ServiceTime is the time of one request: on one instance (fifo,
	// instances), in total at concurrency 1 (gil), alone in flight
	// (pipelined).
	ServiceTime time.Duration
	// Instances is the number of model instances (instances, batcher); 0
	// means 1.
	Instances int

	// Batcher: a batch of b requests' elements costs BatchFixed +
	// BatchPerItem x b on one instance. MaxBatchSize bounds a batch (Triton:
	// the model's max_batch_size); the batcher dispatches at once a batch of
	// MaxBatchSize or of the largest preferred size it can form, and
	// otherwise waits up to MaxQueueDelay after the oldest request arrived.
	MaxBatchSize        int
	MaxQueueDelay       time.Duration
	PreferredBatchSizes []int
	BatchFixed          time.Duration
	BatchPerItem        time.Duration

	// GIL: GILHeld is the fraction (0..1] of the service time a request
	// holds the lock, DefaultGILHeld if 0; the rest (reading the request,
	// writing the response) overlaps. GILSwitch is the lock's contention
	// cost: each thread waiting when a request takes the lock adds it to
	// the time the lock is held, as Python's forced switches do.
	GILHeld   float64
	GILSwitch time.Duration

	// Pipelined: with k requests in flight (k <= MaxInflight), a request
	// takes ServiceTime + PerInflight x (k-1); requests beyond MaxInflight
	// wait in the queue.
	PerInflight time.Duration
	MaxInflight int

	// QueueLimit bounds the requests waiting for execution (Triton's
	// max_queue_size); a request arriving at a full queue is refused with
	// UNAVAILABLE (HTTP 503). 0 means no limit.
	QueueLimit int
	// Jitter spreads every service time; Seed seeds it.
	Jitter Jitter
	Seed   uint64
}

// Validate checks an emulator declaration.
func (c EmulatorConfig) Validate() error {
	if !slices.Contains(EmulatorKinds, c.Kind) {
		return fmt.Errorf("unknown emulator %q (want one of %v)", c.Kind, EmulatorKinds)
	}
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"service time", c.ServiceTime}, {"max queue delay", c.MaxQueueDelay}, {"batch fixed cost", c.BatchFixed},
		{"batch per-item cost", c.BatchPerItem}, {"GIL switch cost", c.GILSwitch}, {"per-inflight cost", c.PerInflight},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if c.Instances < 0 {
		errs = append(errs, fmt.Errorf("instances %d is negative", c.Instances))
	}
	if c.QueueLimit < 0 {
		errs = append(errs, fmt.Errorf("queue limit %d is negative", c.QueueLimit))
	}
	switch c.Kind {
	case KindBatcher:
		if c.MaxBatchSize < 1 {
			errs = append(errs, fmt.Errorf("the batcher needs a max batch size of at least 1, got %d", c.MaxBatchSize))
		}
		for _, p := range c.PreferredBatchSizes {
			if p < 1 || p > c.MaxBatchSize {
				errs = append(errs, fmt.Errorf("preferred batch size %d is outside 1..%d (the max batch size)", p, c.MaxBatchSize))
			}
		}
	case KindGIL:
		if c.GILHeld < 0 || c.GILHeld > 1 {
			errs = append(errs, fmt.Errorf("GIL held fraction %v is outside (0, 1]", c.GILHeld))
		}
	case KindPipelined:
		if c.MaxInflight < 1 {
			errs = append(errs, fmt.Errorf("the pipelined emulator needs max in flight of at least 1, got %d", c.MaxInflight))
		}
	}
	if err := c.Jitter.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewEmulator builds the emulator a declaration describes.
func NewEmulator(c EmulatorConfig) (Emulator, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("emulator %s: %w", c.Kind, err)
	}
	jitter := newSampler(c.Jitter, c.Seed)
	switch c.Kind {
	case KindFIFO:
		return newInstances(KindFIFO, 1, c.ServiceTime, c.QueueLimit, jitter), nil
	case KindInstances:
		return newInstances(KindInstances, max(c.Instances, 1), c.ServiceTime, c.QueueLimit, jitter), nil
	case KindBatcher:
		return newBatcher(c, jitter), nil
	case KindGIL:
		return newGIL(c, jitter), nil
	default:
		return newPipelined(c, jitter), nil
	}
}

// InstanceCount is the number of model instances the emulator stands for,
// as the model configuration's instance_group reports it.
func (c EmulatorConfig) InstanceCount() int {
	switch c.Kind {
	case KindInstances, KindBatcher:
		return max(c.Instances, 1)
	}
	return 1
}

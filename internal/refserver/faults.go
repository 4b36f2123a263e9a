package refserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the faults a model injects on top of its emulator, each
// independent of the others and of the emulator's kind. Two more live
// elsewhere: the error rate (ModelSpec.ErrorRate) and the queue limit
// (EmulatorConfig.QueueLimit), which only the emulator's queue can enforce
// exactly. A pod's memory limit (Options.MemoryLimit) is the budget that
// MemoryPerRequest spends.
type Faults struct {
	// SpikeProbability (0..1) is the chance that a request is held for
	// SpikeDuration after its execution, without holding an instance (a
	// garbage-collection pause or a slow path on that request's thread):
	// the latency tail shows spikes at that rate. The time counts as
	// compute_output.
	SpikeProbability float64
	SpikeDuration    time.Duration
	// StallAt and StallFor freeze the model: from StallAt after the pod's
	// first inference request (to any of its models), for StallFor, no
	// request starts or finishes executing; each waits until the stall ends
	// (as queue time before its execution, as compute_output after).
	// Health and metadata calls are not held. StallEvery, if above zero,
	// repeats the stall every StallEvery from StallAt (it must be longer
	// than StallFor); zero stalls once.
	//
	// The origin is the first inference request, not the pod's start, so
	// that "--stall-at 2s" means 2 s into the load however long the server
	// waited for a client (a benchmark started by hand, or after a plan's
	// checks of other deployments); it is kept across a restart.
	StallAt, StallFor, StallEvery time.Duration
	// DropProbability (0..1) is the chance that the connection of a request
	// is dropped in the middle of its response: over HTTP the server writes
	// the headers and half the body, then closes the connection; over gRPC
	// it closes the request's connection before the response (a gRPC
	// connection carries every call of its client, so the calls in flight
	// on it fail too, as with a real dropped connection). The model counts
	// the request a success, as Triton would: its failure is the network's.
	DropProbability float64
	// MemoryPerRequest is the memory, in bytes, that each request holds
	// from its admission into the model until its answer, counted against
	// the pod's memory limit.
	MemoryPerRequest int64
}

// Validate checks the fault declaration.
func (f Faults) Validate() error {
	var errs []error
	for _, p := range []struct {
		name string
		v    float64
	}{{"spike probability", f.SpikeProbability}, {"drop probability", f.DropProbability}} {
		if p.v < 0 || p.v > 1 {
			errs = append(errs, fmt.Errorf("%s %v is outside 0..1", p.name, p.v))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"spike duration", f.SpikeDuration}, {"stall start", f.StallAt}, {"stall duration", f.StallFor}, {"stall period", f.StallEvery}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if f.StallEvery > 0 && f.StallEvery <= f.StallFor {
		errs = append(errs, fmt.Errorf("stall period %v must be longer than the stall duration %v", f.StallEvery, f.StallFor))
	}
	if f.MemoryPerRequest < 0 {
		errs = append(errs, fmt.Errorf("memory per request %d is negative", f.MemoryPerRequest))
	}
	return errors.Join(errs...)
}

// stallWait is how long a request at time now waits for the stall that
// starts at origin+StallAt and lasts StallFor (repeated every StallEvery
// if set): until its end if now is inside one, else not at all.
func (f Faults) stallWait(origin, now time.Time) time.Duration {
	if f.StallFor <= 0 {
		return 0
	}
	since := now.Sub(origin) - f.StallAt // into the stalls' schedule
	if since < 0 {
		return 0
	}
	if f.StallEvery > 0 {
		since %= f.StallEvery
	}
	if since >= f.StallFor {
		return 0
	}
	return f.StallFor - since
}

// The injected faults, as labelled in inferbench_injected_faults_total.
const (
	faultError = "error"
	faultSpike = "spike"
	faultStall = "stall"
	faultDrop  = "drop"
)

var faultKinds = []string{faultError, faultSpike, faultStall, faultDrop}

// injector draws a model's faults, each from its own seeded stream so that
// turning one on does not change when the others strike, and counts them.
type injector struct {
	mu                  sync.Mutex
	errRNG, spike, drop *rand.Rand
	counts              map[string]*atomic.Uint64
}

func newInjector(seed uint64) *injector {
	in := &injector{
		errRNG: rand.New(rand.NewPCG(seed, 0x1f2e3d4c)), // the error rate's stream, as before faults existed
		spike:  rand.New(rand.NewPCG(seed, 0x5b1ce)),
		drop:   rand.New(rand.NewPCG(seed, 0xd209)),
		counts: map[string]*atomic.Uint64{},
	}
	for _, k := range faultKinds {
		in.counts[k] = new(atomic.Uint64)
	}
	return in
}

// draw reports whether a fault of probability p strikes, counting it.
func (in *injector) draw(r *rand.Rand, p float64, kind string) bool {
	if p <= 0 {
		return false
	}
	in.mu.Lock()
	hit := r.Float64() < p
	in.mu.Unlock()
	if hit {
		in.counts[kind].Add(1)
	}
	return hit
}

func (in *injector) count(kind string) uint64 { return in.counts[kind].Load() }

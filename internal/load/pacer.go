package load

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Arrival processes for open-loop load.
const (
	ArrivalConstant = "constant"
	ArrivalPoisson  = "poisson"
)

// A Pacer decides when open-loop requests are sent. Pace is given the time
// elapsed since the start and the number of requests sent so far (hits),
// and returns how long to wait before sending the next one; a send that is
// due or overdue gets 0. The schedule depends only on the start time, so
// sending never drifts: a slow send makes the next waits shorter, not the
// whole schedule later (vegeta's pacer shape).
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) time.Duration
	// Due is the intended send time of request number hits (0-based),
	// measured from the start.
	Due(hits uint64) time.Duration
	Rate() float64
}

// NewPacer makes a pacer for an arrival process at rate requests per
// second; seed fixes a Poisson schedule.
func NewPacer(arrival string, rate float64, seed uint64) (Pacer, error) {
	if rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return nil, fmt.Errorf("rate %v: want a positive number of requests per second", rate)
	}
	switch arrival {
	case ArrivalConstant, "":
		return ConstantPacer{PerSecond: rate}, nil
	case ArrivalPoisson:
		return NewPoissonPacer(rate, seed), nil
	}
	return nil, fmt.Errorf("arrival %q: want %s or %s", arrival, ArrivalConstant, ArrivalPoisson)
}

// wait is how long to wait at elapsed for a send due at due.
func wait(due, elapsed time.Duration) time.Duration {
	if due <= elapsed {
		return 0
	}
	return due - elapsed
}

// ConstantPacer sends at a fixed rate: request i is due at Phase + i/rate.
type ConstantPacer struct {
	PerSecond float64
	Phase     time.Duration
}

// Due is Phase + i / rate.
func (p ConstantPacer) Due(hits uint64) time.Duration {
	return p.Phase + time.Duration(math.Round(float64(hits)*float64(time.Second)/p.PerSecond))
}

// Pace waits until the next request is due.
func (p ConstantPacer) Pace(elapsed time.Duration, hits uint64) time.Duration {
	return wait(p.Due(hits), elapsed)
}

// Rate is the pacer's rate.
func (p ConstantPacer) Rate() float64 { return p.PerSecond }

// PoissonPacer sends with exponentially distributed gaps of mean 1/rate
// (Poisson arrivals, as MLPerf's server scenario): request i is due at the
// sum of the first i gaps drawn from a generator seeded with seed. The
// schedule is a pure function of the seed; Due remembers where it is, so
// asking for the next request, as a sender does, costs one draw.
type PoissonPacer struct {
	rate float64
	seed uint64
	rng  *rand.Rand
	next uint64        // the request whose due time is at
	at   time.Duration // due time of request next
}

// NewPoissonPacer makes a Poisson pacer. It is not safe for concurrent
// use: one sender paces.
func NewPoissonPacer(rate float64, seed uint64) *PoissonPacer {
	p := &PoissonPacer{rate: rate, seed: seed}
	p.reset()
	return p
}

func (p *PoissonPacer) reset() {
	p.rng = rand.New(rand.NewPCG(p.seed, 0x5eed5eed))
	p.next, p.at = 0, 0
}

// Due is the sum of the first hits gaps. The first request is due at once.
func (p *PoissonPacer) Due(hits uint64) time.Duration {
	if hits < p.next {
		p.reset() // asked for the past: replay the schedule from the seed
	}
	for p.next < hits {
		p.at += time.Duration(p.rng.ExpFloat64() / p.rate * float64(time.Second))
		p.next++
	}
	return p.at
}

// Pace waits until the next request is due.
func (p *PoissonPacer) Pace(elapsed time.Duration, hits uint64) time.Duration {
	return wait(p.Due(hits), elapsed)
}

// Rate is the mean rate.
func (p *PoissonPacer) Rate() float64 { return p.rate }

// maxCountDraws bounds the draws dueBefore makes on a Poisson schedule
// (about 0.1 s of CPU); past it the count is the schedule's mean.
const maxCountDraws = 10_000_000

// dueBefore counts the requests from number from on whose intended send
// time is before d: those an open loop that stopped at d after sending
// from requests could not send.
func dueBefore(p Pacer, from uint64, d time.Duration) uint64 {
	if c, ok := p.(ConstantPacer); ok {
		// Request i is due at i/rate: those before d are 0..ceil(d*rate)-1.
		n := uint64(math.Ceil(d.Seconds() * c.PerSecond))
		for n > 0 && c.Due(n-1) >= d {
			n--
		}
		for c.Due(n) < d {
			n++
		}
		if n <= from {
			return 0
		}
		return n - from
	}
	var count uint64
	for i := from; p.Due(i) < d; i++ {
		if count++; count > maxCountDraws {
			mean := d.Seconds() * p.Rate()
			if mean <= float64(from) {
				return 0
			}
			return uint64(mean) - from
		}
	}
	return count
}

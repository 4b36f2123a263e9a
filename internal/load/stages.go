package load

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Never is the due time of a request a schedule never sends (past the end
// of a trace that does not loop, or of stages that end at rate 0).
const Never = time.Duration(math.MaxInt64)

// A Stage is a stretch of a step whose load changes: over Duration the
// target (requests per second in open loop, workers in closed loop) goes
// linearly from the previous stage's target (the first stage's from the
// step's start value) to Target, k6's ramping executors' semantics; with
// Hold the target is Target for the whole stage (ramp: false).
type Stage struct {
	Duration time.Duration
	Target   float64
	Hold     bool
}

// CheckStages checks a stage list: positive durations, finite targets
// not below 0, some load at some point.
func CheckStages(stages []Stage, start float64) error {
	if len(stages) == 0 {
		return fmt.Errorf("no stage")
	}
	if !(start >= 0) || math.IsInf(start, 0) {
		return fmt.Errorf("start %v: want a finite number not below 0", start)
	}
	peak := start
	for i, s := range stages {
		if s.Duration <= 0 {
			return fmt.Errorf("stage %d: duration %v must be above 0", i+1, s.Duration)
		}
		if !(s.Target >= 0) || math.IsInf(s.Target, 0) {
			return fmt.Errorf("stage %d: target %v must be a finite number not below 0", i+1, s.Target)
		}
		peak = max(peak, s.Target)
	}
	if peak == 0 {
		return fmt.Errorf("every stage's target is 0: nothing would be sent")
	}
	return nil
}

// StagesDuration is the stages' total length.
func StagesDuration(stages []Stage) time.Duration {
	var d time.Duration
	for _, s := range stages {
		d += s.Duration
	}
	return d
}

// StageTarget is the target at t from the start of the stages (the last
// stage's target after their end).
func StageTarget(stages []Stage, start float64, t time.Duration) float64 {
	from := start
	for _, s := range stages {
		if t < s.Duration {
			if s.Hold {
				return s.Target
			}
			return from + (s.Target-from)*float64(t)/float64(s.Duration)
		}
		t -= s.Duration
		from = s.Target
	}
	return from
}

// MaxStageTarget is the highest target the stages reach.
func MaxStageTarget(stages []Stage, start float64) float64 {
	m := start
	for _, s := range stages {
		m = max(m, s.Target)
	}
	return m
}

// ParseStages reads bench's compact stage list: DURATION:TARGET[:hold],
// comma separated ("30s:200,1m:400:hold"). Each ramps to its target
// unless it ends in :hold.
func ParseStages(text string) ([]Stage, error) {
	var out []Stage
	for i, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		parts := strings.Split(item, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "hold") {
			return nil, fmt.Errorf("stage %d %q: want DURATION:TARGET or DURATION:TARGET:hold", i+1, item)
		}
		d, err := time.ParseDuration(parts[0])
		if err != nil {
			return nil, fmt.Errorf("stage %d %q: duration %q is not a duration (30s, 1m, 500ms)", i+1, item, parts[0])
		}
		target, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return nil, fmt.Errorf("stage %d %q: target %q is not a number", i+1, item, parts[1])
		}
		out = append(out, Stage{Duration: d, Target: target, Hold: len(parts) == 3})
	}
	if err := CheckStages(out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// segment is one stage of a staged rate: from its start time the rate goes
// linearly from r0 to r1 over its length, and count requests were due
// before it.
type segment struct {
	start, length float64 // seconds
	r0, r1        float64 // requests per second
	count         float64 // requests due before start (the integral of the rate)
}

// StagedPacer sends open-loop requests at a rate that follows a stage
// list: the rate r(t) is piecewise linear, its integral N(t) is the
// number of requests due by t, and request i is due where N(t) = u(i):
// u(i) = i for constant arrivals, or for Poisson arrivals the sum of i
// exponential gaps of mean 1 from the seed (a unit-rate Poisson process
// rescaled in time, which gives a Poisson process of rate r(t)). Within a
// ramp N is quadratic and inverted in closed form; after the last stage
// its target holds. The schedule is a pure function of the stages, the
// start rate and the seed.
type StagedPacer struct {
	segs  []segment
	total float64 // N at the end of the stages
	end   float64 // the stages' length, seconds
	last  float64 // the rate after the end
	unit  *unitArrivals
}

// NewStagedPacer makes the pacer of stages starting from rate start; with
// poisson the arrivals are Poisson from seed. It is not safe for
// concurrent use: one sender paces.
func NewStagedPacer(stages []Stage, start float64, poisson bool, seed uint64) (*StagedPacer, error) {
	if err := CheckStages(stages, start); err != nil {
		return nil, err
	}
	p := &StagedPacer{}
	from, at, count := start, 0.0, 0.0
	for _, s := range stages {
		seg := segment{start: at, length: s.Duration.Seconds(), r0: from, r1: s.Target, count: count}
		if s.Hold {
			seg.r0 = s.Target
		}
		p.segs = append(p.segs, seg)
		count += (seg.r0 + seg.r1) / 2 * seg.length
		at += seg.length
		from = s.Target
	}
	p.total, p.end, p.last = count, at, from
	if poisson {
		p.unit = newUnitArrivals(seed)
	}
	return p, nil
}

// Due is when N(t) reaches request hits's count.
func (p *StagedPacer) Due(hits uint64) time.Duration {
	u := float64(hits)
	if p.unit != nil {
		u = p.unit.at(hits)
	}
	return seconds(p.inverse(u))
}

// inverse is the first t with N(t) = u (+Inf if never).
func (p *StagedPacer) inverse(u float64) float64 {
	if u <= 0 {
		return 0
	}
	if u > p.total {
		if p.last <= 0 {
			return math.Inf(1)
		}
		return p.end + (u-p.total)/p.last
	}
	// the segment with count < u <= its count + its requests (one at
	// rate 0 holds none, so it is never chosen)
	k := sort.Search(len(p.segs), func(k int) bool { return p.segs[k].count >= u }) - 1
	s := p.segs[k]
	c := u - s.count
	// N(start+τ) - count = r0 τ + a τ², a = (r1-r0)/(2 length); the root
	// written so that it loses no precision when a is small.
	a := (s.r1 - s.r0) / (2 * s.length)
	disc := s.r0*s.r0 + 4*a*c
	if disc < 0 {
		disc = 0 // rounding at the end of a ramp down
	}
	tau := 2 * c / (s.r0 + math.Sqrt(disc))
	return s.start + min(tau, s.length)
}

// Pace waits until the next request is due.
func (p *StagedPacer) Pace(elapsed time.Duration, hits uint64) time.Duration {
	return wait(p.Due(hits), elapsed)
}

// Rate is the stages' mean rate.
func (p *StagedPacer) Rate() float64 {
	if p.total == 0 {
		return p.last
	}
	return p.total / p.end
}

// Count is the number of requests due before d: N(d) rounded up, for
// constant arrivals (what a requests-bounded run of the stages sends).
func (p *StagedPacer) Count(d time.Duration) uint64 {
	var n uint64
	for p.Due(n) < d {
		n++
	}
	return n
}

// unitArrivals are the arrival times of a unit-rate Poisson process from
// a seed: u(0) = 0, then exponential gaps of mean 1. Asking for the next
// one costs one draw; asking for the past replays from the seed.
type unitArrivals struct {
	seed uint64
	rng  *rand.Rand
	next uint64
	at_  float64
}

func newUnitArrivals(seed uint64) *unitArrivals {
	u := &unitArrivals{seed: seed}
	u.reset()
	return u
}

func (u *unitArrivals) reset() {
	u.rng = rand.New(rand.NewPCG(u.seed, 0x5eed5eed))
	u.next, u.at_ = 0, 0
}

func (u *unitArrivals) at(i uint64) float64 {
	if i < u.next {
		u.reset()
	}
	for u.next < i {
		u.at_ += u.rng.ExpFloat64()
		u.next++
	}
	return u.at_
}

// seconds converts seconds to a Duration, Never for +Inf or past its range.
func seconds(s float64) time.Duration {
	if math.IsInf(s, 1) || s*float64(time.Second) >= float64(math.MaxInt64) {
		return Never
	}
	return time.Duration(math.Round(s * float64(time.Second)))
}

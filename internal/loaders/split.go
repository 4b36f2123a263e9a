// Package loaders spreads a plan over several loader processes (on this
// machine or as pods of a Kubernetes Job) and brings their results back
// into one file. This file is the split: what share of each step's load
// one loader sends, as pure functions.
package loaders

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
)

// Even is loader i's share of total over n loaders, as evenly as integers
// allow: total/n, one more for the first total%n loaders. The shares add
// up to total exactly.
func Even(total, i, n int) int {
	if n < 1 || i < 0 || i >= n || total <= 0 {
		return 0
	}
	share := total / n
	if i < total%n {
		share++
	}
	return share
}

// Share is one loader's part of a step.
type Share struct {
	// Step is the step this loader runs: the same name, its share of the
	// load.
	Step plan.Step
	// Skip is set when the share is empty (fewer workers, requests or
	// burst requests than loaders): the loader sits the step out.
	Skip bool
}

// ErrUnsplittable is returned for a step whose load cannot be split over
// several loaders exactly.
var ErrUnsplittable = errors.New("cannot be split over loaders")

// Step is loader i's share (0 ≤ i < n) of step s:
//   - closed loop: concurrency c as Even(c, i, n);
//   - requests as Even over the loaders that take part (all, but for
//     fewer workers or burst requests than loaders: the first c): the
//     shares add up to the step's exactly; a duration-bound step keeps its
//     duration;
//   - open loop at rate r: r/n each; constant arrivals phase-shifted by
//     i/r (i/(n·r') of the loader's own rate r' = r/n; see Phase) so that
//     the sum is as even as one loader's; Poisson arrivals
//     seeded seed+i (seed 0 counting as 1), and independent Poisson streams
//     add up to a Poisson stream at r;
//   - stages: the start and every target divided by n (closed-loop stages
//     start from Even(c)); constant ramps are phase-shifted as constant
//     rates are;
//   - bursty arrivals: each burst's size as Even, the bursts at the same
//     times on every loader, so that they add up to the step's;
//   - an explicit warmup as requests are; max_in_flight divided by n,
//     rounded up.
//
// A trace replay (schedule) is not split: ErrUnsplittable.
func Step(s plan.Step, i, n int) (Share, error) {
	if n < 1 || i < 0 || i >= n {
		return Share{}, fmt.Errorf("loader %d of %d: want 0 ≤ index < loaders", i, n)
	}
	if s.Schedule != nil {
		return Share{}, fmt.Errorf("step %s: a trace replay %w", s.Name, ErrUnsplittable)
	}
	out := s
	out.Deployments = slices.Clone(s.Deployments)
	out.Stages = slices.Clone(s.Stages)
	if n == 1 {
		return Share{Step: out}, nil
	}
	// active is how many loaders take part: all of them, but for workers
	// (or burst requests) fewer than loaders, where the first ones do.
	active := n
	switch {
	case len(s.Stages) > 0 && s.StagedConcurrency:
	case s.Arrival == load.ArrivalBursty:
		active = min(n, max(s.BurstSize, 1))
	case s.Rate > 0:
	case len(s.Stages) > 0:
	default:
		active = min(n, max(s.Concurrency, 1))
	}
	skip := i >= active
	if s.Requests > 0 {
		out.Requests = Even(s.Requests, i, active)
		skip = skip || out.Requests == 0
	}
	if s.Warmup != nil {
		w := Even(*s.Warmup, i, active)
		out.Warmup = &w
	}
	if s.MaxInFlight > 0 {
		out.MaxInFlight = max(1, (s.MaxInFlight+n-1)/n)
	}
	seed := s.Seed
	if seed == 0 {
		seed = 1
	}
	switch {
	case len(s.Stages) > 0 && s.StagedConcurrency:
		out.Concurrency = Even(s.Concurrency, i, n)
		for k := range out.Stages {
			out.Stages[k].Target /= float64(n)
		}
	case len(s.Stages) > 0:
		out.Rate = s.Rate / float64(n)
		for k := range out.Stages {
			out.Stages[k].Target /= float64(n)
		}
		if s.Arrival == load.ArrivalPoisson {
			out.Seed = seed + uint64(i)
		}
	case s.Arrival == load.ArrivalBursty:
		out.BurstSize = Even(s.BurstSize, i, n)
		out.Seed = seed + uint64(i)
	case s.Rate > 0:
		out.Rate = s.Rate / float64(n)
		if s.Arrival == load.ArrivalPoisson {
			out.Seed = seed + uint64(i)
		} else {
			out.Phase = Phase(s.Rate, i, n)
		}
	default:
		out.Concurrency = Even(s.Concurrency, i, n)
	}
	return Share{Step: out, Skip: skip}, nil
}

// Phase is loader i's offset among n loaders sending constant arrivals
// that add up to rate per second. Each sends at rate/n, one request every
// n/rate; offset by i/rate (a n-th of its own period), their sends
// interleave into one every 1/rate, as one loader's at rate.
func Phase(rate float64, i, n int) time.Duration {
	if rate <= 0 || n < 1 || i < 0 || i >= n {
		return 0
	}
	return time.Duration(float64(i) * float64(time.Second) / rate)
}

// Steps is loader i's share of every step, in order.
func Steps(steps []plan.Step, i, n int) ([]Share, error) {
	out := make([]Share, 0, len(steps))
	for _, s := range steps {
		sh, err := Step(s, i, n)
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, nil
}

// Participants is the loaders (of n) whose share of s is not empty.
func Participants(s plan.Step, n int) ([]int, error) {
	var out []int
	for i := range n {
		sh, err := Step(s, i, n)
		if err != nil {
			return nil, err
		}
		if !sh.Skip {
			out = append(out, i)
		}
	}
	return out, nil
}

// Package clock estimates how far the local wall clock is from a server's,
// to a few milliseconds, from nothing but the HTTP Date header.
//
// The coordinator and its loader pods start every step at a wall-clock
// time the coordinator sets, so a loader whose clock is off starts early or
// late by as much. Their one common reference is the Kubernetes API server;
// NTP is not reachable from a pod in general, and the API server exposes no
// clock finer than the Date header of its responses, which has a
// resolution of one second. The second boundary ("flip") of that header is
// sharp, though: a request sent at local time t1 and answered at t2 with
// Date D says the server read a time in [D, D+1s) at some instant of
// [t1, t2], so the offset (local minus server) lies in (t1-(D+1s), t2-D].
// Two probes that see D and then D+1s bracket the flip, and with it the
// offset, to the time between the first one's send and the second one's
// answer.
//
// Offset runs two passes to keep the server's load small: a coarse pass of
// probes about 22 ms apart (at most about 1.1 s, some 50 requests) finds
// the flip to about 25 ms; a fine pass in the next second probes only
// around the predicted flip, back to back or paced to at most 40 requests,
// and brackets it to about two round trips (another fine pass follows a
// second later if jitter left it wider than two round trips and 2 ms and
// the budgets of 3 s and 150 requests allow). Every probe's interval is
// intersected with the others', so the answer is sound whatever the
// network did: the offset lies within Uncertainty of Offset, provided the
// server's clock truncates to the second (as Go's net/http and so the API
// server do) and neither clock is stepped meanwhile.
package clock

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Probe asks the server for its time once: serverDate is its clock
// truncated to the second, as an HTTP Date header carries it.
type Probe func(ctx context.Context) (serverDate time.Time, err error)

// Estimate is the local clock's offset from the server's.
type Estimate struct {
	// Offset is local minus server: positive when the local clock is ahead.
	Offset time.Duration
	// Uncertainty is the half-width of the interval the offset was bounded
	// to: the true offset lies within Offset ± Uncertainty.
	Uncertainty time.Duration
	// Probes is how many requests were sent.
	Probes int
	// RTT is the shortest round trip of a probe.
	RTT time.Duration
}

func (e Estimate) String() string {
	return fmt.Sprintf("offset %s ±%s (%d probes, shortest round trip %s)",
		signedMS(e.Offset), ms(e.Uncertainty), e.Probes, ms(e.RTT))
}

// Options bound Offset; zero values take the defaults.
type Options struct {
	// Spacing is the time between the coarse pass's sends (22 ms).
	Spacing time.Duration
	// FineProbes is the most requests of one fine pass (40).
	FineProbes int
	// MaxProbes is the most requests in all (150).
	MaxProbes int
	// MaxDuration is the longest Offset runs (3 s).
	MaxDuration time.Duration
	// Now reads the local clock (time.Now); Sleep waits (a timer). Tests
	// simulate time with them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

const (
	defaultSpacing     = 22 * time.Millisecond
	defaultFineProbes  = 40
	defaultMaxProbes   = 150
	defaultMaxDuration = 3 * time.Second
	// margin widens a fine pass's window beyond the coarse bracket, for the
	// clocks' drift and the timers' lateness.
	margin = 2 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.Spacing <= 0 {
		o.Spacing = defaultSpacing
	}
	if o.FineProbes <= 0 {
		o.FineProbes = defaultFineProbes
	}
	if o.MaxProbes <= 0 {
		o.MaxProbes = defaultMaxProbes
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = defaultMaxDuration
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// bounds is the interval (lo, hi] of offsets (local minus server)
// consistent with every probe added.
type bounds struct {
	lo, hi time.Duration
	n      int
}

// add narrows the bounds by a probe sent at local time sent and answered
// at received with Date date: the server read a time in [date, date+1s)
// at some local instant of [sent, received].
func (b *bounds) add(sent, received, date time.Time) {
	lo := sent.Sub(date) - time.Second
	hi := received.Sub(date)
	if b.n == 0 || lo > b.lo {
		b.lo = lo
	}
	if b.n == 0 || hi < b.hi {
		b.hi = hi
	}
	b.n++
}

// empty says the probes contradict each other.
func (b bounds) empty() bool { return b.n > 0 && b.lo >= b.hi }

func (b bounds) width() time.Duration { return b.hi - b.lo }

// estimate is the interval's midpoint and half-width.
func (b bounds) estimate() (offset, uncertainty time.Duration) {
	return b.lo + b.width()/2, (b.width() + 1) / 2
}

// run is one Offset call's state.
type run struct {
	opts   Options
	probe  Probe
	b      bounds
	probes int
	// minRTT and maxRTT are the shortest and longest round trips so far.
	minRTT, maxRTT time.Duration
	// sent and received are the last probe's local times, date its Date.
	sent, received, date time.Time
}

// sample sends one probe and adds it to the bounds.
func (r *run) sample(ctx context.Context) error {
	r.probes++
	sent := r.opts.Now()
	date, err := r.probe(ctx)
	received := r.opts.Now()
	if err != nil {
		return fmt.Errorf("clock probe %d: %w", r.probes, err)
	}
	if rtt := received.Sub(sent); r.probes == 1 || rtt < r.minRTT {
		r.minRTT = rtt
	}
	r.maxRTT = max(r.maxRTT, received.Sub(sent))
	before := r.b
	r.b.add(sent, received, date)
	r.sent, r.received, r.date = sent, received, date
	if r.b.empty() {
		return fmt.Errorf("clock probe %d: its Date %s contradicts the %d before it (offset bounded to %s..%s): %w",
			r.probes, date.UTC().Format(time.RFC3339), before.n, signedMS(before.lo), signedMS(before.hi), ErrInconsistent)
	}
	return nil
}

func (r *run) sleepUntil(ctx context.Context, t time.Time) error {
	if d := t.Sub(r.opts.Now()); d > 0 {
		return r.opts.Sleep(ctx, d)
	}
	return nil
}

// ErrInconsistent says the Date headers contradict each other: several
// servers with different clocks behind one address, or a clock stepped
// during the measurement.
var ErrInconsistent = errors.New("the server's Date headers contradict each other (several servers with different clocks behind one address, or a clock stepped?)")

// ErrNoFlip says the Date header did not advance.
var ErrNoFlip = errors.New("the server's Date header does not advance (a cached response?)")

// Offset estimates the local clock's offset from the server that probe
// asks, within opts.MaxDuration and opts.MaxProbes. It fails on the first
// failed probe, when the Date header does not advance in a second, and
// when the Dates contradict each other.
func Offset(ctx context.Context, probe Probe, opts Options) (Estimate, error) {
	opts = opts.withDefaults()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, opts.MaxDuration)
	defer cancel()
	// expired says a fine pass ran into MaxDuration: the bounds so far
	// stand.
	expired := func() bool { return parent.Err() == nil && ctx.Err() != nil }
	r := &run{opts: opts, probe: probe}
	deadline := opts.Now().Add(opts.MaxDuration)

	// Coarse pass: probes Spacing apart until the Date changes.
	if err := r.sample(ctx); err != nil {
		return Estimate{}, err
	}
	first, firstReceived := r.date, r.received
	for r.date.Equal(first) {
		if r.probes >= opts.MaxProbes || !opts.Now().Before(deadline) {
			return Estimate{}, fmt.Errorf("the Date stayed at %s for %s (%d probes, the most allowed): %w",
				first.UTC().Format(time.RFC3339), ms(r.received.Sub(firstReceived)), r.probes, ErrNoFlip)
		}
		if err := r.sleepUntil(ctx, r.sent.Add(opts.Spacing)); err != nil {
			return Estimate{}, fmt.Errorf("clock probe %d: %w", r.probes+1, err)
		}
		if err := r.sample(ctx); err != nil {
			if errors.Is(err, ErrInconsistent) && r.date.Equal(first) {
				// The server read its clock by firstReceived, so its Date
				// should have changed a second after that.
				return Estimate{}, fmt.Errorf("the Date stayed at %s for %s (%d probes): %w",
					first.UTC().Format(time.RFC3339), ms(r.received.Sub(firstReceived)), r.probes, ErrNoFlip)
			}
			return Estimate{}, err
		}
	}

	// Fine passes: around the next flips, while the bracket is wider than
	// two round trips (what back-to-back probes achieve) and the budgets
	// allow.
	for r.b.width() > 2*r.minRTT+margin {
		lead := r.minRTT + margin
		// The next server second whose window starts after now: the flip
		// to it happens at local time in (boundary+lo, boundary+hi].
		boundary := opts.Now().Add(lead - r.b.lo).Truncate(time.Second).Add(time.Second)
		start := boundary.Add(r.b.lo - lead)
		end := boundary.Add(r.b.hi + margin)
		budget := min(opts.FineProbes, opts.MaxProbes-r.probes)
		if end.Add(r.maxRTT).After(deadline) || budget < 2 {
			break
		}
		if err := r.finePass(ctx, boundary, start, end, budget); err != nil {
			if expired() {
				break
			}
			return Estimate{}, err
		}
	}
	off, unc := r.b.estimate()
	return Estimate{Offset: off, Uncertainty: unc, Probes: r.probes, RTT: r.minRTT}, nil
}

// finePass probes from local time start, paced to at most budget probes
// until end, until one sees the server's second boundary.
func (r *run) finePass(ctx context.Context, boundary, start, end time.Time, budget int) error {
	step := end.Sub(start) / time.Duration(budget)
	if err := r.sleepUntil(ctx, start); err != nil {
		return fmt.Errorf("clock probe %d: %w", r.probes+1, err)
	}
	for range budget {
		if err := r.sample(ctx); err != nil {
			return err
		}
		if !r.date.Before(boundary) || r.sent.After(end) {
			return nil
		}
		if err := r.sleepUntil(ctx, r.sent.Add(step)); err != nil {
			return fmt.Errorf("clock probe %d: %w", r.probes+1, err)
		}
	}
	return nil
}

// ms formats a duration in milliseconds: one decimal under 10 ms.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	if f < 10 && f > -10 {
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}

func signedMS(d time.Duration) string {
	if d >= 0 {
		return "+" + ms(d)
	}
	return ms(d)
}

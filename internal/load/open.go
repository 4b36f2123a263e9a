package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
)

// DefaultMaxInFlight bounds the open-loop requests awaiting answers; a
// server that stalls makes later sends late instead of growing the client
// without limit.
const DefaultMaxInFlight = 1024

// LateThreshold is how far behind its intended time a send may go before
// it counts as late. Go's timers on a busy 2-core machine wake 0.2 to
// 1.2 ms after their deadline (measured here); a send held back longer than
// 2 ms is being held by the client (no worker free, no CPU), not by timer
// jitter. Either way its latency counts from the intended time.
const LateThreshold = 2 * time.Millisecond

// job is one open-loop request: its intended send time and its number.
type job struct {
	intended time.Time
	seq      uint64
}

// runOpenPhase sends n requests (or for duration d) on the pacer's
// schedule. One goroutine paces and hands each request to a free worker;
// workers are started as needed up to MaxInFlight. When none is free the
// send waits, and is late: its latency still counts from the intended time
// (no coordinated omission). With a windower (nil for none) the phase is
// cut into windows and may end early.
func runOpenPhase(ctx, reqCtx context.Context, cfg *Config, phase string, n int, d time.Duration, win *windower, tl *timeliner) phaseResult {
	pacer, _ := cfg.pacer(phase) // checked by Run
	var (
		done, errs atomic.Int64
		wg         sync.WaitGroup
		ws         []*worker
		idle       atomic.Int64 // workers waiting for a job
		lastSend   time.Duration
		sent       uint64
	)
	jobs := make(chan job)
	start := time.Now()
	stopProgress := startProgress(cfg, phase, int64(n), d, start, &done, &errs)
	win.begin(start)
	tl.begin(start)
	shards := newShardSet(cfg.MaxInFlight, true, win, tl)

	spawn := func() {
		w := newWorker(cfg, phase, shards.at(len(ws)))
		ws = append(ws, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			caller := cfg.Client.NewCaller(cfg.Validate)
			defer caller.Close()
			for j := range jobs {
				idle.Add(-1)
				p, err := w.payload(cfg, j.seq)
				if err != nil {
					tl.send()
					w.answer(protocol.Outcome{Err: err}, 0, -1, &errs, &done, win, tl)
					idle.Add(1)
					continue
				}
				actual := time.Now()
				if actual.Sub(j.intended) > LateThreshold {
					w.late++
				}
				tl.send()
				out := caller.Call(reqCtx, p)
				end := time.Now()
				if out.Err != nil && reqCtx.Err() != nil {
					idle.Add(1)
					continue // cut off by an interruption: not a measurement
				}
				w.answer(out, end.Sub(j.intended), end.Sub(actual), &errs, &done, win, tl)
				if w.exp != nil {
					w.exp.add(j.intended, actual, end.Sub(j.intended), end.Sub(actual), out)
				}
				idle.Add(1)
			}
		}()
		idle.Add(1)
	}

	timer := time.NewTimer(0)
	<-timer.C
	// A duration-bound phase stops sending at its end even when sends
	// are held back (no worker free, a rate the client cannot reach): the
	// sends due before it that could not be made are counted as dropped.
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
pacing:
	for ; n == 0 || sent < uint64(n); sent++ {
		due := pacer.Due(sent)
		if due == Never || (d > 0 && (due >= d || time.Since(start) >= d)) {
			break
		}
		if wait := pacer.Pace(time.Since(start), sent); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				break pacing
			}
		}
		if ctx.Err() != nil || win.stopped() {
			break
		}
		if idle.Load() == 0 && len(ws) < cfg.MaxInFlight {
			spawn()
		}
		select {
		case jobs <- job{intended: start.Add(due), seq: sent}:
		case <-deadline:
			break pacing
		case <-ctx.Done():
			break pacing
		}
		lastSend = time.Since(start)
	}
	var dropped uint64
	if d > 0 && ctx.Err() == nil && !win.stopped() {
		dropped = dueBefore(pacer, sent, d)
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	win.end()
	timeline := tl.end()
	stopProgress()

	out := merge(ws, shards, elapsed)
	out.started, out.timeline = start, timeline
	out.dropped = int64(dropped)
	if sent > 0 {
		// n sends span n intervals: the last one's, then one more.
		out.sendRate = float64(sent) / (lastSend + time.Duration(float64(time.Second)/pacer.Rate())).Seconds()
	}
	return out
}

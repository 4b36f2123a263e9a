package loaders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inferbench/inferbench/internal/result"
)

// Unit is one run of a split plan that every loader starts at the same
// time: step number Step of the plan (after --quick), its trial (0 when
// the step runs once), against deployment number Deployment of the plan.
type Unit struct {
	Step, Trial, Deployment int
}

// String is the unit's name, safe in a file name or an annotation key.
func (u Unit) String() string { return fmt.Sprintf("s%d-t%d-d%d", u.Step, u.Trial, u.Deployment) }

// ParseUnit reads a Unit's String.
func ParseUnit(s string) (Unit, error) {
	var u Unit
	if _, err := fmt.Sscanf(s, "s%d-t%d-d%d", &u.Step, &u.Trial, &u.Deployment); err != nil {
		return Unit{}, fmt.Errorf("unit %q: %w", s, err)
	}
	if u.String() != s {
		return Unit{}, fmt.Errorf("unit %q: want sSTEP-tTRIAL-dDEPLOYMENT", s)
	}
	return u, nil
}

// Job is what the coordinator hands every loader.
type Job struct {
	// PlanPath is the plan file as the coordinator read it; a loader on
	// the same machine reads it there (its relative paths, images and
	// traces, resolve beside it). PlanText is its text, for loaders
	// elsewhere.
	PlanPath string `json:"plan_path"`
	PlanText string `json:"plan_text"`
	Loaders  int    `json:"loaders"`
	// Quick scales every step down (plan.Quick) before the split.
	Quick bool `json:"quick,omitempty"`
	// Grace bounds the wait for requests in flight after a stop.
	Grace time.Duration `json:"grace"`
}

// Coordinator is the coordinator's side of a split run: it hands out the
// job, sees which loaders wait at which unit, sets each unit's start, and
// brings back each loader's results. Local runs loader processes on this
// machine with files in a folder; a Kubernetes one would use a ConfigMap,
// an Indexed Job and the pods' logs.
type Coordinator interface {
	// Publish hands the loaders the job and starts them.
	Publish(ctx context.Context, j Job) error
	// Waiting is, for each unit not started yet, the loaders waiting at it.
	Waiting(ctx context.Context) (map[Unit][]int, error)
	// Start sets unit u to start at at on every loader.
	Start(ctx context.Context, u Unit, at time.Time) error
	// Heartbeat tells the loaders the coordinator is still there.
	Heartbeat(ctx context.Context) error
	// Finished is the loaders that have ended, with how (nil: well).
	Finished() map[int]error
	// Collect is loader i's results file, as far as it got.
	Collect(ctx context.Context, i int) (*result.File, error)
	// Stop tells the loaders still running to stop sending and save what
	// they measured, and waits for them to end: at most grace for their
	// requests in flight and StopMargin more for the word to reach them
	// and their results to be written. What they measured stays
	// collectable.
	Stop(grace time.Duration) error
	// Close removes what Publish made (on Kubernetes the Job, its pods
	// and the ConfigMap): after it, nothing of the run sends a request.
	// It may be called more than once.
	Close() error
}

// StopMargin is what Stop waits beyond the grace period: the stop's
// trip to the loaders (they look every second, through the API on
// Kubernetes) and the writing of their results.
const StopMargin = 10 * time.Second

// Station is a loader's side: it says it waits at a unit, reads the
// unit's start when set, and what the coordinator last said.
type Station interface {
	Arrive(ctx context.Context, u Unit) error
	// StartOf is u's start; ok false while it is not set.
	StartOf(ctx context.Context, u Unit) (at time.Time, ok bool, err error)
	// Told is the coordinator's word: its last heartbeat, and whether it
	// asked the loaders to stop.
	Told(ctx context.Context) (Word, error)
}

// Word is what a loader hears from its coordinator.
type Word struct {
	// Heard is the coordinator's last heartbeat.
	Heard time.Time
	// Stop, when not empty, asks the loaders to stop sending and save
	// what they measured; it says why.
	Stop string
}

// HeartbeatEvery is how often the coordinator says it is alive;
// CoordinatorGone is how long a loader goes without hearing it before it
// stops sending.
const (
	HeartbeatEvery  = 10 * time.Second
	CoordinatorGone = 30 * time.Second
)

// ErrCoordinatorGone ends a loader that has not heard its coordinator for
// CoordinatorGone; ErrStopped one that its coordinator told to stop.
var (
	ErrCoordinatorGone = errors.New("no heartbeat from the coordinator")
	ErrStopped         = errors.New("stopped by the coordinator")
)

// LocalPoll is how often local loaders look for their start, and the
// coordinator for their arrivals (files); through the Kubernetes API,
// KubePoll, and the start is set KubeLead ahead instead of Lead.
const (
	LocalPoll = 5 * time.Millisecond
	KubePoll  = 250 * time.Millisecond
	KubeLead  = 2 * time.Second
)

// Wait is a loader's barrier: it says it waits at u, waits for the
// coordinator to set u's start (looking every poll), then until that
// time, and returns it.
func Wait(ctx context.Context, st Station, u Unit, poll time.Duration) (time.Time, error) {
	if err := st.Arrive(ctx, u); err != nil {
		return time.Time{}, err
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		at, ok, err := st.StartOf(ctx, u)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return time.Time{}, ctx.Err()
				}
			}
			return at, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// Watch cancels a loader's work (through cancel) once its coordinator
// says stop (cause ErrStopped) or has not been heard for gone (cause
// ErrCoordinatorGone), checking every check; it returns when ctx ends.
func Watch(ctx context.Context, st Station, gone, check time.Duration, cancel context.CancelCauseFunc) {
	t := time.NewTicker(check)
	defer t.Stop()
	lastHeard := time.Now() // an API server that fails now and then is not a coordinator gone
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w, err := st.Told(ctx)
		switch {
		case err == nil && w.Stop != "":
			cancel(fmt.Errorf("%w: %s", ErrStopped, w.Stop))
			return
		case err != nil && time.Since(lastHeard) > gone:
			cancel(fmt.Errorf("%w for %v: %w", ErrCoordinatorGone, gone, err))
			return
		case err == nil && time.Since(w.Heard) > gone:
			cancel(fmt.Errorf("%w for %v", ErrCoordinatorGone, gone))
			return
		case err == nil:
			lastHeard = w.Heard
		}
	}
}

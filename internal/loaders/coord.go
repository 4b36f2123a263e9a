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
	// Stop ends the loaders still running, waiting at most grace for
	// them to save what they measured.
	Stop(grace time.Duration) error
}

// Station is a loader's side: it says it waits at a unit, reads the
// unit's start when set, and when the coordinator was last heard of.
type Station interface {
	Arrive(ctx context.Context, u Unit) error
	// StartOf is u's start; ok false while it is not set.
	StartOf(ctx context.Context, u Unit) (at time.Time, ok bool, err error)
	// Heard is the coordinator's last heartbeat.
	Heard(ctx context.Context) (time.Time, error)
}

// HeartbeatEvery is how often the coordinator says it is alive;
// CoordinatorGone is how long a loader goes without hearing it before it
// stops sending.
const (
	HeartbeatEvery  = 10 * time.Second
	CoordinatorGone = 30 * time.Second
)

// ErrCoordinatorGone ends a loader that has not heard its coordinator for
// CoordinatorGone.
var ErrCoordinatorGone = errors.New("no heartbeat from the coordinator")

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

// Watch cancels a loader's work (through cancel) once it has not heard
// its coordinator for gone, checking every check; it returns when ctx
// ends.
func Watch(ctx context.Context, st Station, gone, check time.Duration, cancel context.CancelCauseFunc) {
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		heard, err := st.Heard(ctx)
		if err != nil || time.Since(heard) > gone {
			cancel(fmt.Errorf("%w for %v", ErrCoordinatorGone, gone))
			return
		}
	}
}

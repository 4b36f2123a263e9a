package loaders

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/inferbench/inferbench/internal/merge"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

// Lead is how far ahead of now the coordinator sets a unit's start once
// every loader waits at it: time for each to read it.
const Lead = 200 * time.Millisecond

// Drive is the coordinator's loop, looking every poll: once every loader
// that takes part in a unit (Participants, less those that have ended)
// waits at it, it sets the unit's start lead from now; it says it is
// alive every heartbeat. It returns when every loader of n has ended, or
// ctx's error.
func Drive(ctx context.Context, c Coordinator, steps []plan.Step, n int, heartbeat, lead, poll time.Duration, logf func(string, ...any)) error {
	parts := make([][]int, len(steps))
	for k, s := range steps {
		p, err := Participants(s, n)
		if err != nil {
			return err
		}
		parts[k] = p
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	lastBeat := time.Now()
	started := map[Unit]bool{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if time.Since(lastBeat) >= heartbeat {
			if err := c.Heartbeat(ctx); err != nil {
				logf("Warning: heartbeat: %v", err)
			}
			lastBeat = time.Now()
		}
		finished := c.Finished()
		if len(finished) >= n {
			return nil
		}
		waiting, err := c.Waiting(ctx)
		if err != nil {
			return err
		}
		for u, at := range waiting {
			if started[u] || u.Step < 0 || u.Step >= len(steps) {
				continue
			}
			ready := true
			for _, i := range parts[u.Step] {
				if _, gone := finished[i]; !gone && !slices.Contains(at, i) {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			when := time.Now().Add(lead)
			if err := c.Start(ctx, u, when); err != nil {
				return fmt.Errorf("start of %s: %w", u, err)
			}
			started[u] = true
		}
	}
}

// Merged is the loaders' results merged, and what became of each loader.
type Merged struct {
	File *result.File
	// Lines say what was merged and what was kept apart (merge.Files).
	Lines []string
	// Lost names each loader whose results are missing or incomplete, and
	// the share of each step it took with it.
	Lost []string
}

// Merge merges the loaders' results (files[i] nil for a loader whose
// results could not be read, failed[i] why it ended badly) into one file.
// Each run's load is recorded as the whole step's first (the sum of the
// loaders' concurrencies, rates and stages' targets), so that the shares
// of one run share merge's key; the merged run's requests are the shares'
// sum.
func Merge(steps []plan.Step, files []*result.File, failed map[int]error, version string, now time.Time) (*Merged, error) {
	n := len(files)
	out := &Merged{}
	type key struct {
		step, deployment string
		trial            int
	}
	conc := map[key]int{}
	rate := map[key]float64{}
	targets := map[key][]float64{} // stages' targets, summed stage by stage
	from := map[key]float64{}
	for _, f := range files {
		if f == nil {
			continue
		}
		for _, r := range f.Runs {
			k := key{r.Step, r.Deployment.Name, r.Trial}
			conc[k] += r.Load.Concurrency
			rate[k] += r.Load.Rate
			for j, st := range r.Load.Stages {
				if len(targets[k]) <= j {
					targets[k] = append(targets[k], 0)
				}
				targets[k][j] += st.Target
			}
			if r.Load.StagesFrom != nil {
				from[k] += *r.Load.StagesFrom
			}
		}
	}
	var inputs []merge.Input
	for i, f := range files {
		lost := f == nil || failed[i] != nil || !f.Complete
		if lost {
			why := "its results are incomplete"
			switch {
			case failed[i] != nil:
				why = failed[i].Error()
			case f == nil:
				why = "no results file"
			}
			out.Lost = append(out.Lost, fmt.Sprintf("loader %d: %s; its share: %s", i, why, shareText(steps, i, n)))
		}
		if f == nil {
			continue
		}
		for k := range f.Runs {
			r := &f.Runs[k]
			key := key{r.Step, r.Deployment.Name, r.Trial}
			r.Load.Concurrency = conc[key]
			r.Load.Rate = math.Round(rate[key]*1e6) / 1e6
			r.Load.Stages = append([]result.Stage(nil), r.Load.Stages...)
			for j := range r.Load.Stages {
				r.Load.Stages[j].Target = math.Round(targets[key][j]*1e6) / 1e6
			}
			if r.Load.StagesFrom != nil {
				v := math.Round(from[key]*1e6) / 1e6
				r.Load.StagesFrom = &v
			}
		}
		inputs = append(inputs, merge.Input{Name: fmt.Sprintf("loader %d", i), File: f})
	}
	switch len(inputs) {
	case 0:
		return nil, fmt.Errorf("no loader's results could be read (%d loaders)", n)
	case 1:
		out.File = inputs[0].File
		out.Lines = []string{"only " + inputs[0].Name + "'s results: nothing to merge"}
	default:
		o, err := merge.Files(inputs, version, now)
		if err != nil {
			return nil, err
		}
		out.File, out.Lines = o.File, o.Lines
	}
	if len(out.Lost) > 0 {
		out.File.Complete = false
	}
	return out, nil
}

// shareText is loader i's share of each step it takes part in.
func shareText(steps []plan.Step, i, n int) string {
	var parts []string
	for _, s := range steps {
		sh, err := Step(s, i, n)
		if err != nil || sh.Skip {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", s.Name, sh.Step.Load()))
	}
	if len(parts) == 0 {
		return "none"
	}
	return fmt.Sprint(parts)
}

package session

import (
	"context"
	"fmt"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/result"
)

// Windowing is how a level is measured until stable: windows of
// Requests answered requests on continuous load, judged by Rule after
// each one.
type Windowing struct {
	Requests int
	Rule     analyze.StabilityRule
}

// measureStable runs one level in windows until Rule settles it (stable,
// out of windows, or failed at once), and records its stability in the
// run. The level's numbers cover every window: the measured phase is one
// continuous run. The request budget leaves room for one more window than
// Rule allows, so that the rule, not the budget, ends the level.
func measureStable(ctx context.Context, t *Target, lvl Level, w Windowing, opts levelHooks) result.Run {
	lvl.Requests = w.Requests * (w.Rule.MaxWindows + 1)
	lvl.Duration = 0
	var (
		windows []analyze.WindowStats
		note    string
	)
	// OnWindow runs on the engine's window goroutine; Step returns after
	// it has finished, so windows and note are read safely below.
	opts.WindowRequests = w.Requests
	opts.OnWindow = func(win load.Window) bool {
		windows = append(windows, analyze.WindowStats{Throughput: win.Throughput(), P50: win.Latency.P50, OK: win.OK, Errors: win.Errors})
		done, why := w.Rule.Settle(windows)
		if done {
			note = why
		}
		return done
	}
	r := measureLevel(ctx, t, lvl, opts)
	st := w.Rule.Stable(windows)
	if note == "" {
		note = fmt.Sprintf("ended after %d windows, before the rule settled it", len(windows))
		if r.Status == result.StatusFailed {
			note = "not measured: " + r.Failure
		}
	}
	r.Stability = &result.Stability{Stable: st.Stable, Windows: len(windows), WindowRequests: w.Requests,
		ThroughputSpread: st.ThroughputSpread, P50Spread: st.P50Spread, Note: note}
	return r
}

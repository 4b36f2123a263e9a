package load

import (
	"context"
	"math"
	"sync"
	"time"
)

// StageTick is how often closed-loop stages adjust the active workers.
const StageTick = 100 * time.Millisecond

// gate parks the closed-loop workers beyond the stages' current target:
// worker i sends while i < active. A nil gate admits every worker.
type gate struct {
	mu      sync.Mutex
	active  int
	changed chan struct{} // closed when active changes
}

func newGate() *gate { return &gate{changed: make(chan struct{})} }

// ActiveWorkers is the closed-loop workers active at a target
// concurrency: the target rounded to the nearest whole worker.
func ActiveWorkers(target float64) int { return int(math.Round(target)) }

func (g *gate) set(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n != g.active {
		g.active = n
		close(g.changed)
		g.changed = make(chan struct{})
	}
}

// follow sets the active workers to the stages' target now and every
// StageTick until the returned stop is called.
func (g *gate) follow(stages []Stage, start float64, began, deadline time.Time) (stop func()) {
	if g == nil {
		return func() {}
	}
	g.set(ActiveWorkers(StageTarget(stages, start, 0)))
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(StageTick)
		defer ticker.Stop()
		for {
			select {
			case now := <-ticker.C:
				g.set(ActiveWorkers(StageTarget(stages, start, now.Sub(began))))
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// admit waits while worker i is parked; false when ctx ends or the
// deadline passes first.
func (g *gate) admit(ctx context.Context, i int, deadline time.Time) bool {
	if g == nil {
		return true
	}
	for {
		g.mu.Lock()
		active, changed := g.active, g.changed
		g.mu.Unlock()
		if i < active {
			return true
		}
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-changed:
			t.Stop()
		case <-t.C:
			return false
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

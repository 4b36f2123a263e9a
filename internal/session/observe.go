package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/observe"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/result"
)

// ServerWatch reads a deployment's server-side counters around a step:
// Triton's Prometheus metrics when a metrics URL is known, else its
// statistics API through the client.
type ServerWatch struct {
	Scraper  *observe.Scraper // nil: use the statistics API
	Client   protocol.Client
	Model    string
	Version  string
	Interval time.Duration // sampling during the step; 1 s if zero
}

// sample reads the counters once.
func (w *ServerWatch) sample(ctx context.Context) (observe.Counters, error) {
	if w.Scraper != nil {
		return w.Scraper.Scrape(ctx)
	}
	stats, err := w.Client.ModelStatistics(ctx, w.Model, w.Version)
	if err != nil {
		return observe.Counters{}, fmt.Errorf("statistics: %w", err)
	}
	return observe.FromStatistics(stats, w.Model, w.Version), nil
}

// Probe reports whether the watch can read anything, and says where from.
func (w *ServerWatch) Probe(ctx context.Context) (string, error) {
	c, err := w.sample(ctx)
	if err != nil {
		return "", err
	}
	if !c.Found {
		return "", fmt.Errorf("no counters for model %q", w.Model)
	}
	if w.Scraper != nil {
		return "metrics " + w.Scraper.URL, nil
	}
	return "the statistics API", nil
}

// ServerObservation is a watch in progress over one step.
type ServerObservation struct {
	w          *ServerWatch
	ctx        context.Context
	before     observe.Counters
	beforeErr  error
	mu         sync.Mutex
	during     []observe.Counters
	failed     int // samples that could not be read during the step
	quit, done chan struct{}
}

// Start takes the first sample and samples every interval until Stop.
func (w *ServerWatch) Start(ctx context.Context) *ServerObservation {
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	// Sampling must outlive an interrupted step: the last sample is what
	// saves the breakdown of what was measured.
	g := &ServerObservation{w: w, ctx: context.WithoutCancel(ctx), quit: make(chan struct{}), done: make(chan struct{})}
	g.before, g.beforeErr = w.sample(g.ctx)
	go func() {
		defer close(g.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				c, err := w.sample(g.ctx)
				g.mu.Lock()
				if err == nil {
					g.during = append(g.during, c)
				} else {
					g.failed++
				}
				g.mu.Unlock()
			case <-g.quit:
				return
			}
		}
	}()
	return g
}

// Stop takes the last sample and derives the step's breakdown. A server
// that restarted during the step (its counters went back, or its pod's
// restart count went up between any two samples), or whose metrics stopped
// answering while it was measured, gives reasons to call the step invalid;
// the breakdown then covers what could be read.
func (g *ServerObservation) Stop() (observe.Breakdown, []string, error) {
	close(g.quit)
	<-g.done
	if g.beforeErr != nil {
		return observe.Breakdown{}, nil, g.beforeErr
	}
	after, afterErr := g.w.sample(g.ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	samples := append([]observe.Counters{g.before}, g.during...)
	if afterErr == nil {
		samples = append(samples, after)
	}
	var invalid []string
	for i := 1; i < len(samples); i++ {
		a, z := samples[i-1], samples[i]
		if z.PodRestarts > a.PodRestarts || z.Success < a.Success || z.ExecCount < a.ExecCount {
			invalid = append(invalid, "the server restarted during the step (its restart count went up or its counters went back): the pod was probably OOM-killed")
			break
		}
	}
	if afterErr != nil || g.failed > 0 {
		invalid = append(invalid, fmt.Sprintf("the server's metrics stopped answering during the step (%d of %d samples failed): the pod went down", g.failed+boolInt(afterErr != nil), len(samples)+g.failed+boolInt(afterErr != nil)))
	}
	last := samples[len(samples)-1]
	if len(samples) < 2 || len(invalid) > 0 && last.Success < g.before.Success {
		return observe.Breakdown{}, invalid, nil
	}
	b, err := observe.Derive(g.before, last, samples[1:len(samples)-1])
	if err != nil && !errors.Is(err, observe.ErrRestarted) {
		return observe.Breakdown{}, invalid, err
	}
	if err != nil {
		return observe.Breakdown{}, append(invalid, err.Error()), nil
	}
	if g.w.Scraper == nil {
		b.Source = "statistics"
	}
	return b, invalid, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// applyServer completes a run with the server's view of the step: its
// breakdown, and as facts why the step is invalid (the server restarted,
// its metrics went silent) or why there is no view.
func applyServer(run *result.Run, g *ServerObservation) {
	b, invalid, err := g.Stop()
	for _, reason := range invalid {
		run.Invalidate(reason)
	}
	if err != nil {
		run.Note("server metrics: " + err.Error())
		return
	}
	if b.Samples > 0 {
		run.Server = &b
	}
}

// MetricsOff and MetricsAuto are the special values of a metrics URL.
const (
	MetricsOff  = "off"
	MetricsAuto = "auto"
)

// NewServerWatch decides where a deployment's server-side view comes
// from: the metrics URL given; with "auto" (or ""), Triton's metrics port
// derived from the server URL, else its statistics API; with "off",
// nowhere. It returns nil when nothing can be read, and one line that says
// what it chose, for the log.
func NewServerWatch(ctx context.Context, client protocol.Client, serverURL, model, version, metricsURL string) (*ServerWatch, string) {
	if metricsURL == MetricsOff {
		return nil, "server metrics: off"
	}
	probeCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var tried []string
	candidate := metricsURL
	if candidate == "" || candidate == MetricsAuto {
		candidate, _ = observe.MetricsURL(serverURL)
	}
	if candidate != "" {
		w := &ServerWatch{Scraper: &observe.Scraper{URL: candidate, Model: model, Version: version}, Client: client, Model: model, Version: version}
		if from, err := w.Probe(probeCtx); err == nil {
			return w, "server metrics: " + from
		} else {
			tried = append(tried, err.Error())
		}
	}
	w := &ServerWatch{Client: client, Model: model, Version: version}
	if from, err := w.Probe(probeCtx); err == nil {
		return w, "server metrics: " + from
	} else {
		tried = append(tried, err.Error())
	}
	return nil, "server metrics: off (" + strings.Join(tried, "; ") + ")"
}

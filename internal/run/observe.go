package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
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

// Start takes the first sample and samples every interval until the
// returned function is called; that takes the last sample and derives the
// step's breakdown.
func (w *ServerWatch) Start(ctx context.Context) func() (observe.Breakdown, error) {
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	// Sampling must outlive an interrupted step: the last sample is what
	// saves the breakdown of what was measured.
	sctx := context.WithoutCancel(ctx)
	before, beforeErr := w.sample(sctx)
	var (
		mu     sync.Mutex
		during []observe.Counters
	)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				if c, err := w.sample(sctx); err == nil {
					mu.Lock()
					during = append(during, c)
					mu.Unlock()
				}
			case <-quit:
				return
			}
		}
	}()
	return func() (observe.Breakdown, error) {
		close(quit)
		<-done
		if beforeErr != nil {
			return observe.Breakdown{}, beforeErr
		}
		after, err := w.sample(sctx)
		if err != nil {
			return observe.Breakdown{}, err
		}
		mu.Lock()
		defer mu.Unlock()
		b, err := observe.Derive(before, after, during)
		if err == nil && w.Scraper == nil {
			b.Source = "statistics"
		}
		return b, err
	}
}

// restarted reports whether a watch's error says the server restarted.
func restarted(err error) bool { return errors.Is(err, observe.ErrRestarted) }

// applyServer completes a run with the server's view of the step: the
// breakdown, its explanation of the client's p50, the cross-check of the
// counts, the guide's diagnosis, and invalidity when the server restarted.
func applyServer(run *result.Run, stop func() (observe.Breakdown, error), warmupOK int64) {
	b, err := stop()
	if err != nil {
		if restarted(err) {
			run.Validity = &result.Validity{Valid: false, Reasons: []string{err.Error()}}
		} else {
			run.Assessment.Notes = append(run.Assessment.Notes, "server metrics: "+err.Error())
		}
		return
	}
	run.Server = &b
	if run.Counts.OK > 0 && b.Success > 0 {
		run.Assessment.Notes = append(run.Assessment.Notes, observe.Explain(run.LatencyMs.P50, b))
	}
	if n := observe.CrossCheck(b, run.Counts.OK, warmupOK); n != "" {
		run.Assessment.Notes = append(run.Assessment.Notes, n)
	}
	run.Assessment.Notes = append(run.Assessment.Notes, analyze.Diagnose(analyze.ServerView{
		Concurrency: run.Load.Concurrency, ClientP50Ms: run.LatencyMs.P50, QueueMs: b.QueueMs, ComputeMs: b.ComputeMs(),
		AvgBatchSize: b.AvgBatchSize, CPUUtil: b.CPUUtil, GPUUtil: b.GPUUtil,
	})...)
}

// judge sets a run's validity when nothing made it invalid yet: a run
// that could not be measured is not valid.
func judge(run *result.Run) {
	if run.Validity != nil {
		return
	}
	run.Validity = &result.Validity{Valid: true, Reasons: []string{}}
	if run.Status == result.StatusFailed {
		run.Validity = &result.Validity{Valid: false, Reasons: []string{"not measured: " + run.Failure}}
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

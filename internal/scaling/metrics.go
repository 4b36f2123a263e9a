package scaling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrNoReplicas says a metrics endpoint has no replica families: the
// server behind it is not an autoscaled reference pod.
var ErrNoReplicas = errors.New("no inferbench_replicas_desired in the metrics: not an autoscaled reference pod")

// Metrics is a Source over an autoscaled reference pod's /metrics (see
// refserver's Deployment): inferbench_replicas_desired and _ready, and
// each live replica's inferbench_replica_{created,ready,first_success}_timestamp_seconds.
type Metrics struct {
	URL    string
	Client *http.Client // 5 s timeout if nil
}

// Describe names the source.
func (m *Metrics) Describe() string { return "refserver metrics " + m.URL }

// Sample scrapes the metrics once.
func (m *Metrics) Sample(ctx context.Context) (Sample, error) {
	client := m.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return Sample{}, fmt.Errorf("metrics %s: %w", m.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Sample{}, fmt.Errorf("metrics %s: %w", m.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("metrics %s: HTTP %d", m.URL, resp.StatusCode)
	}
	text, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return Sample{}, fmt.Errorf("metrics %s: %w", m.URL, err)
	}
	s, err := ParseMetrics(text)
	if err != nil {
		return Sample{}, fmt.Errorf("metrics %s: %w", m.URL, err)
	}
	return s, nil
}

// ParseMetrics reads a sample from an autoscaled reference pod's metrics
// text (the first pod's, if several).
func ParseMetrics(text []byte) (Sample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return Sample{}, fmt.Errorf("metrics text: %w", err)
	}
	gauge := func(name string) (int, bool) {
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 {
			return 0, false
		}
		return int(math.Round(f.GetMetric()[0].GetGauge().GetValue())), true
	}
	var s Sample
	var ok bool
	if s.Desired, ok = gauge("inferbench_replicas_desired"); !ok {
		return Sample{}, ErrNoReplicas
	}
	s.Ready, _ = gauge("inferbench_replicas_ready")
	byName := map[string]*Replica{}
	var order []string
	for _, f := range []struct {
		name string
		set  func(*Replica, time.Time)
	}{
		{"inferbench_replica_created_timestamp_seconds", func(r *Replica, t time.Time) { r.Created, r.Scheduled = t, t }},
		{"inferbench_replica_ready_timestamp_seconds", func(r *Replica, t time.Time) { r.Ready = t }},
		{"inferbench_replica_first_success_timestamp_seconds", func(r *Replica, t time.Time) { r.FirstSuccess = t }},
	} {
		fam, ok := families[f.name]
		if !ok {
			continue
		}
		for _, m := range fam.GetMetric() {
			name := labelOf(m, "replica")
			r, seen := byName[name]
			if !seen {
				r = &Replica{Name: name}
				byName[name] = r
				order = append(order, name)
			}
			sec := m.GetGauge().GetValue()
			f.set(r, time.Unix(0, int64(math.Round(sec*1e9))))
		}
	}
	for _, n := range order {
		s.Replicas = append(s.Replicas, *byName[n])
	}
	return s, nil
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

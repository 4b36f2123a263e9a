// Package observe watches a deployment from the server's side: Triton's
// Prometheus metrics (or its statistics API) before, during and after a
// step, turned into a per-request breakdown of where the time went.
package observe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Counters are one model's cumulative Triton counters at one moment, and
// the server-wide gauges beside them.
type Counters struct {
	At             time.Time
	Success        float64 // nv_inference_request_success
	Failure        float64 // nv_inference_request_failure, all reasons
	InferenceCount float64 // nv_inference_count
	ExecCount      float64 // nv_inference_exec_count
	RequestUs      float64 // nv_inference_request_duration_us
	QueueUs        float64 // nv_inference_queue_duration_us
	ComputeInputUs float64
	ComputeInferUs float64
	ComputeOutUs   float64
	Pending        float64 // nv_inference_pending_request_count (a gauge)
	// Server-wide gauges; -1 when not exported.
	GPUUtil        float64 // nv_gpu_utilization, averaged over GPUs, 0..1
	GPUMemoryBytes float64 // nv_gpu_memory_used_bytes, summed over GPUs
	CPUUtil        float64 // nv_cpu_utilization, 0..1
	// The reference server's pod gauges (a stand-in for Kubernetes when
	// there is none); -1 when not exported.
	PodRestarts       float64 // inferbench_pod_restarts_total
	PodMemoryInflight float64 // inferbench_pod_memory_inflight_bytes
	// Found is false when no per-model family was present for the model.
	Found bool
}

// Parse reads Prometheus text and extracts the counters of one model
// (version "" matches every version). Unparseable text is an error the
// caller turns into a warning.
func Parse(text []byte, modelName, version string) (Counters, error) {
	c := Counters{GPUUtil: -1, GPUMemoryBytes: -1, CPUUtil: -1, PodRestarts: -1, PodMemoryInflight: -1}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return c, fmt.Errorf("metrics text: %w", err)
	}
	perModel := map[string]*float64{
		"nv_inference_request_success":            &c.Success,
		"nv_inference_request_failure":            &c.Failure,
		"nv_inference_count":                      &c.InferenceCount,
		"nv_inference_exec_count":                 &c.ExecCount,
		"nv_inference_request_duration_us":        &c.RequestUs,
		"nv_inference_queue_duration_us":          &c.QueueUs,
		"nv_inference_compute_input_duration_us":  &c.ComputeInputUs,
		"nv_inference_compute_infer_duration_us":  &c.ComputeInferUs,
		"nv_inference_compute_output_duration_us": &c.ComputeOutUs,
		"nv_inference_pending_request_count":      &c.Pending,
	}
	for name, dst := range perModel {
		f, ok := families[name]
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "model") != modelName || (version != "" && label(m, "version") != version) {
				continue
			}
			*dst += value(m)
			c.Found = true
		}
	}
	if f, ok := families["nv_gpu_utilization"]; ok && len(f.GetMetric()) > 0 {
		sum := 0.0
		for _, m := range f.GetMetric() {
			sum += value(m)
		}
		c.GPUUtil = sum / float64(len(f.GetMetric()))
	}
	if f, ok := families["nv_gpu_memory_used_bytes"]; ok {
		c.GPUMemoryBytes = 0
		for _, m := range f.GetMetric() {
			c.GPUMemoryBytes += value(m)
		}
	}
	if f, ok := families["nv_cpu_utilization"]; ok && len(f.GetMetric()) > 0 {
		c.CPUUtil = value(f.GetMetric()[0])
	}
	for name, dst := range map[string]*float64{"inferbench_pod_restarts_total": &c.PodRestarts, "inferbench_pod_memory_inflight_bytes": &c.PodMemoryInflight} {
		if f, ok := families[name]; ok {
			*dst = 0
			for _, m := range f.GetMetric() {
				*dst += value(m)
			}
		}
	}
	return c, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// MetricsURL derives a Triton-style metrics address from a server URL:
// the same host, port 8002, path /metrics.
func MetricsURL(serverURL string) (string, error) {
	raw := serverURL
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("cannot derive a metrics URL from %q", serverURL)
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":8002/metrics", nil
}

// Scraper reads one metrics endpoint.
type Scraper struct {
	URL     string
	Model   string
	Version string
	Client  *http.Client
}

// Scrape fetches and parses the metrics once.
func (s *Scraper) Scrape(ctx context.Context) (Counters, error) {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return Counters{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Counters{}, fmt.Errorf("metrics %s: %w", s.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Counters{}, fmt.Errorf("metrics %s: HTTP %d", s.URL, resp.StatusCode)
	}
	text, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return Counters{}, fmt.Errorf("metrics %s: %w", s.URL, err)
	}
	c, err := Parse(text, s.Model, s.Version)
	c.At = time.Now()
	if err != nil {
		return c, fmt.Errorf("metrics %s: %w", s.URL, err)
	}
	return c, nil
}

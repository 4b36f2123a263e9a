package refserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
)

// metricFamily is one of Triton's per-model metric families.
type metricFamily struct {
	name, help, kind string
	value            func(snap snapshot, m *model) float64
}

func us(d duration) float64 { return float64(d.ns / 1000) }

// Triton's per-model families with its HELP texts (core metrics.cc). The
// failure counter is written apart: it carries a reason label.
var perModelFamilies = []metricFamily{
	{"nv_inference_request_success", "Number of successful inference requests, all batch sizes", "counter",
		func(s snapshot, _ *model) float64 { return float64(s.success.count) }},
	{"nv_inference_count", "Number of inferences performed (does not include cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return float64(s.inferenceCount) }},
	{"nv_inference_exec_count", "Number of model executions performed (does not include cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return float64(s.executionCount) }},
	{"nv_inference_pending_request_count", "Instantaneous number of pending requests awaiting execution per-model.", "gauge",
		func(_ snapshot, m *model) float64 { return float64(m.spec.Emulator.Pending()) }},
	{"nv_inference_request_duration_us", "Cumulative inference request duration in microseconds (includes cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return float64((s.success.ns + s.fail.ns) / 1000) }},
	{"nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds (includes cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return us(s.queue) }},
	{"nv_inference_compute_input_duration_us", "Cumulative compute input duration in microseconds (does not include cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return us(s.computeInput) }},
	{"nv_inference_compute_infer_duration_us", "Cumulative compute inference duration in microseconds (does not include cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return us(s.computeInfer) }},
	{"nv_inference_compute_output_duration_us", "Cumulative inference compute output duration in microseconds (does not include cached requests)", "counter",
		func(s snapshot, _ *model) float64 { return us(s.computeOutput) }},
}

// Metrics renders the Prometheus text exposition of every model's
// statistics, with Triton's metric names and labels (model, version; reason
// on failures). Counters equal what /stats reports, in microseconds.
func (s *Server) Metrics() []byte {
	snaps := make([]snapshot, len(s.order))
	for i, n := range s.order {
		snaps[i] = s.models[n].stats.snapshot()
	}
	var b bytes.Buffer
	writeHeader := func(name, help, kind string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
	}
	const failure = "nv_inference_request_failure"
	writeHeader(failure, "Number of failed inference requests, all batch sizes", "counter")
	for i, n := range s.order {
		m := s.models[n]
		for _, reason := range failureReasons {
			fmt.Fprintf(&b, "%s{model=%s,reason=%s,version=%s} %d\n", failure,
				strconv.Quote(m.spec.Name), strconv.Quote(reason), strconv.Quote(m.spec.Version), snaps[i].failures[reason])
		}
	}
	for _, f := range perModelFamilies {
		writeHeader(f.name, f.help, f.kind)
		for i, n := range s.order {
			m := s.models[n]
			fmt.Fprintf(&b, "%s{model=%s,version=%s} %s\n", f.name, strconv.Quote(m.spec.Name), strconv.Quote(m.spec.Version),
				strconv.FormatFloat(f.value(snaps[i], m), 'f', -1, 64))
		}
	}
	return b.Bytes()
}

// MetricsHandler serves /metrics (Triton's port 8002).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if !allow(w, r, http.MethodGet) {
			return
		}
		writeBody(w, http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", s.Metrics())
	})
	return mux
}

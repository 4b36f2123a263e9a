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
		snaps[i] = s.models[n].stats.Load().snapshot()
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
	s.writePodMetrics(&b)
	return b.Bytes()
}

// writePodMetrics writes inferbench's own families: the emulated pod's
// restarts and memory, and the faults injected. Unlike Triton's, they are
// the harness's view and survive a restart.
func (s *Server) writePodMetrics(b *bytes.Buffer) {
	pod := "{pod=" + strconv.Quote(s.name) + "}"
	for _, f := range []struct {
		name, help, kind string
		value            uint64
	}{
		{"inferbench_pod_restarts_total", "Times the emulated pod was OOM-killed and restarted (kept across restarts, like the kubelet's restart count)", "counter", s.restarts.Load()},
		{"inferbench_pod_memory_inflight_bytes", "Memory held by the requests in flight in the emulated pod, in bytes", "gauge", uint64(max(s.memory.inflight.Load(), 0))},
		{"inferbench_pod_memory_limit_bytes", "Memory limit of the emulated pod, in bytes (0: none)", "gauge", uint64(s.memory.limit)},
	} {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n%s%s %d\n", f.name, f.help, f.name, f.kind, f.name, pod, f.value)
	}
	if s.deploy != nil {
		s.deploy.writeMetrics(b)
	}
	const faults = "inferbench_injected_faults_total"
	fmt.Fprintf(b, "# HELP %s Faults injected into the model's requests, by kind (error, spike, stall, drop)\n# TYPE %s counter\n", faults, faults)
	for _, n := range s.order {
		m := s.models[n]
		for _, k := range faultKinds {
			fmt.Fprintf(b, "%s{fault=%s,model=%s,version=%s} %d\n", faults, strconv.Quote(k), strconv.Quote(m.spec.Name), strconv.Quote(m.spec.Version), m.faults.count(k))
		}
	}
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

package refserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inferbench/inferbench/internal/refserver"
)

// metricValue finds one sample in a parsed exposition by its labels.
func metricValue(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("metric %s is missing", name)
	}
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range labels {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			match = match && found
		}
		if match {
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s has no sample with labels %v", name, labels)
	return 0
}

// TestStatisticsAndMetricsEqualWhatWasServed sends requests of which the
// server fails a seeded fraction, then checks that /stats and /metrics count
// exactly the successes and failures the client saw.
func TestStatisticsAndMetricsEqualWhatWasServed(t *testing.T) {
	spec := tinyModel("tiny", refserver.NewInstances(4, 0))
	spec.ErrorRate = 0.3
	spec.Seed = 42
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	base := "http://" + r.HTTPAddr

	const total = 60
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/4; i++ {
				a := inferJSON(t, base, "tiny", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`)
				mu.Lock()
				statuses[a.status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ok, failed := statuses[200], statuses[500]
	if ok+failed != total || failed == 0 || ok == 0 {
		t.Fatalf("statuses %v: want only 200s and 500s, some of each", statuses)
	}

	a := send(t, "GET", base+"/v2/models/tiny/stats", nil, nil)
	var stats struct {
		ModelStats []struct {
			Name           string `json:"name"`
			Version        string `json:"version"`
			InferenceCount uint64 `json:"inference_count"`
			ExecutionCount uint64 `json:"execution_count"`
			InferenceStats map[string]struct {
				Count uint64 `json:"count"`
				Ns    uint64 `json:"ns"`
			} `json:"inference_stats"`
			BatchStats []struct {
				BatchSize    uint64 `json:"batch_size"`
				ComputeInfer struct {
					Count uint64 `json:"count"`
				} `json:"compute_infer"`
			} `json:"batch_stats"`
		} `json:"model_stats"`
	}
	if err := json.Unmarshal(a.body, &stats); err != nil || len(stats.ModelStats) != 1 {
		t.Fatalf("stats: %v %s", err, a.body)
	}
	ms := stats.ModelStats[0]
	is := ms.InferenceStats
	if ms.Name != "tiny" || ms.Version != "1" {
		t.Errorf("stats name/version = %q/%q", ms.Name, ms.Version)
	}
	if is["success"].Count != uint64(ok) || is["fail"].Count != uint64(failed) {
		t.Errorf("stats success/fail = %d/%d, client saw %d/%d", is["success"].Count, is["fail"].Count, ok, failed)
	}
	if ms.InferenceCount != uint64(ok) || ms.ExecutionCount != uint64(ok) || is["queue"].Count != uint64(ok) || is["compute_infer"].Count != uint64(ok) {
		t.Errorf("stats counts %+v, want %d each", ms, ok)
	}
	if len(ms.BatchStats) != 1 || ms.BatchStats[0].BatchSize != 1 || ms.BatchStats[0].ComputeInfer.Count != uint64(ok) {
		t.Errorf("batch_stats = %+v, want one entry of batch size 1 with %d executions", ms.BatchStats, ok)
	}

	m := send(t, "GET", "http://"+r.MetricsAddr+"/metrics", nil, nil)
	if m.status != 200 {
		t.Fatalf("/metrics: %d", m.status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(m.body))
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text: %v\n%s", err, m.body)
	}
	fams := map[string]*dto.MetricFamily{}
	for k, v := range families {
		fams[k] = v
	}
	lbl := map[string]string{"model": "tiny", "version": "1"}
	checks := []struct {
		name string
		want float64
	}{
		{"nv_inference_request_success", float64(ok)},
		{"nv_inference_count", float64(ok)},
		{"nv_inference_exec_count", float64(ok)},
		{"nv_inference_pending_request_count", 0},
		{"nv_inference_queue_duration_us", float64(is["queue"].Ns / 1000)},
		{"nv_inference_compute_infer_duration_us", float64(is["compute_infer"].Ns / 1000)},
		{"nv_inference_request_duration_us", float64((is["success"].Ns + is["fail"].Ns) / 1000)},
	}
	for _, c := range checks {
		if got := metricValue(t, fams, c.name, lbl); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	for reason, want := range map[string]int{"BACKEND": failed, "REJECTED": 0, "CANCELED": 0, "OTHER": 0} {
		got := metricValue(t, fams, "nv_inference_request_failure", map[string]string{"model": "tiny", "version": "1", "reason": reason})
		if got != float64(want) {
			t.Errorf("nv_inference_request_failure{reason=%s} = %v, want %d", reason, got, want)
		}
	}
	if fmt.Sprint(fams["nv_inference_pending_request_count"].GetType()) != "GAUGE" || fmt.Sprint(fams["nv_inference_request_success"].GetType()) != "COUNTER" {
		t.Errorf("metric types wrong")
	}
}

package live

import dto "github.com/prometheus/client_model/go"

// find is a family's metric whose labels include these pairs.
func find(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
next:
	for _, m := range fams[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's or a gauge's value, -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) int64 {
	m := find(fams, name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return int64(m.Counter.GetValue())
	case m.Gauge != nil:
		return int64(m.Gauge.GetValue())
	}
	return -1
}

package threshold

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		expr string
		want Threshold
	}{
		{"p99 < 50ms", Threshold{Metric: Percentile, P: 99, Op: "<", Limit: 50}},
		{"p99.9<=1.5s", Threshold{Metric: Percentile, P: 99.9, Op: "<=", Limit: 1500}},
		{"p50 < 800us", Threshold{Metric: Percentile, P: 50, Op: "<", Limit: 0.8}},
		{"P95 < 2x baseline", Threshold{Metric: Percentile, P: 95, Op: "<", Limit: 2, Baseline: true}},
		{"p50 < 2 x baseline", Threshold{Metric: Percentile, P: 50, Op: "<", Limit: 2, Baseline: true}},
		{"errors < 1%", Threshold{Metric: Errors, Op: "<", Limit: 0.01}},
		{"errors <= 0%", Threshold{Metric: Errors, Op: "<=", Limit: 0}},
		{"throughput > 500/s", Threshold{Metric: Throughput, Op: ">", Limit: 500}},
		{"throughput >= 500", Threshold{Metric: Throughput, Op: ">=", Limit: 500}},
		{"throughput > 0.8x baseline", Threshold{Metric: Throughput, Op: ">", Limit: 0.8, Baseline: true}},
		{"valid", Threshold{Metric: Valid}},
		{"  valid ", Threshold{Metric: Valid}},
	} {
		got, err := Parse(c.expr)
		c.want.Expr = c.expr
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.expr, got, err, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"p99 <", "threshold 'p99 <': want a value after '<' at column 6"},
		{"p101 < 5ms", "threshold 'p101 < 5ms': percentile 101 is not between 0 and 100 at column 2"},
		{"p0 < 5ms", "threshold 'p0 < 5ms': percentile 0 is not between 0 and 100 at column 2"},
		{"errors < 150%", "threshold 'errors < 150%': 150% is above 100% at column 10"},
		{"latency < 5ms", `threshold 'latency < 5ms': unknown metric "latency": want pNN (a percentile such as p99 or p99.9), throughput, errors or valid at column 1`},
		{"pfoo < 5ms", `threshold 'pfoo < 5ms': unknown metric "pfoo": want pNN (a percentile such as p99 or p99.9), throughput, errors or valid at column 1`},
		{"", "threshold '': want a metric (pNN, throughput, errors) or valid at column 1"},
		{"p99", `threshold 'p99': want a comparison (<, <=, >, >=) after "p99" at column 4`},
		{"p99 = 5ms", `threshold 'p99 = 5ms': want a comparison (<, <=, >, >=), not "=" at column 5`},
		{"p99 < 5", "threshold 'p99 < 5': want a unit after 5: ms, s or us at column 8"},
		{"p99 < 5min", `threshold 'p99 < 5min': unknown unit "min": want ms, s or us at column 8`},
		{"p99 < fast", `threshold 'p99 < fast': want a number, not "fast" at column 7`},
		{"p99 < 5ms please", `threshold 'p99 < 5ms please': unexpected "please" after the value at column 11`},
		{"errors < 1", "threshold 'errors < 1': want a percentage such as 1% at column 11"},
		{"errors < 2x baseline", "threshold 'errors < 2x baseline': errors compare with a percentage, not with the baseline at column 13"},
		{"p50 < twice baseline", "threshold 'p50 < twice baseline': want a factor such as 2x before baseline at column 7"},
		{"p50 < -2x baseline", `threshold 'p50 < -2x baseline': "-2" is not a factor above 0 (such as 2x) at column 7`},
		{"throughput > 5 req/min", `threshold 'throughput > 5 req/min': unexpected "req/min" after the value at column 16`},
		{"valid yes", "threshold 'valid yes': valid stands alone: want nothing after it at column 7"},
	} {
		_, err := Parse(c.expr)
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q): %v\n want %s", c.expr, err, c.want)
		}
	}
}

func TestPasses(t *testing.T) {
	for _, c := range []struct {
		op   string
		v    float64
		want bool
	}{{"<", 49, true}, {"<", 50, false}, {"<=", 50, true}, {">", 50, false}, {">", 51, true}, {">=", 50, true}, {"", 1, false}} {
		th := Threshold{Op: c.op, Limit: 50}
		if got := th.Passes(c.v); got != c.want {
			t.Errorf("%g %s 50: %v, want %v", c.v, c.op, got, c.want)
		}
	}
}

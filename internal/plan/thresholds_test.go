package plan

import (
	"testing"
)

const twoDeployments = `deployments:
  - {name: a, protocol: kserve-http, url: http://127.0.0.1:8000, model: m}
  - {name: b, protocol: kserve-http, url: http://127.0.0.1:8010, model: m}
steps:
  - {name: warm, concurrency: 1, requests: 10, repeat: 3}
  - {name: heavy, concurrency: 8, requests: 10}
`

func TestRepeatAndThresholds(t *testing.T) {
	p, err := Parse("p.yaml", []byte(twoDeployments+`repeat: 5
thresholds:
  - expr: p99 < 50ms
  - {expr: "errors < 1%", deployment: b, step: heavy}
  - expr: valid
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Repeat != 5 || p.Trials(p.Steps[0]) != 3 || p.Trials(p.Steps[1]) != 5 || p.Trials(Step{}) != 5 {
		t.Errorf("repeat %d, trials %d %d", p.Repeat, p.Trials(p.Steps[0]), p.Trials(p.Steps[1]))
	}
	if len(p.Thresholds) != 3 || p.Thresholds[1].Deployment != "b" || p.Thresholds[1].Step != "heavy" || p.Thresholds[1].Parsed.Limit != 0.01 || p.Thresholds[0].Parsed.Limit != 50 {
		t.Errorf("thresholds %+v", p.Thresholds)
	}
	if (&Plan{}).Trials(Step{}) != 1 {
		t.Error("no repeat: want one trial")
	}
	// Written back, read again: the same.
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse("w.yaml", y, nil)
	if err != nil || q.Repeat != 5 || q.Steps[0].Repeat != 3 || len(q.Thresholds) != 3 || q.Thresholds[1] != p.Thresholds[1] {
		t.Errorf("round trip: %+v, %v\n%s", q, err, y)
	}
}

func TestThresholdErrors(t *testing.T) {
	for _, c := range []struct{ tail, want string }{
		{"thresholds:\n  - expr: p99 <\n", "p.yaml:8:16: threshold 'p99 <': want a value after '<' at column 6"},
		{"thresholds:\n  - {expr: \"p101 < 5ms\"}\n", "p.yaml:8:14: threshold 'p101 < 5ms': percentile 101 is not between 0 and 100 at column 2"},
		{"thresholds:\n  - expr: 'errors < 150%'\n", "p.yaml:8:21: threshold 'errors < 150%': 150% is above 100% at column 10"},
		{"thresholds:\n  - expr: latency < 5ms\n", `p.yaml:8:11: threshold 'latency < 5ms': unknown metric "latency": want pNN (a percentile such as p99 or p99.9), throughput, errors or valid at column 1`},
		{"thresholds:\n  - {expr: valid, deployment: c}\n", `p.yaml:8:31: threshold "valid": no deployment is named "c"`},
		{"thresholds:\n  - {expr: valid, step: cold}\n", `p.yaml:8:25: threshold "valid": no step is named "cold" (have warm, heavy)`},
		{"thresholds:\n  - {deployment: a}\n", `p.yaml:8:5: thresholds[0] has no expr`},
		{"thresholds: []\n", "p.yaml:7:13: thresholds must be a non-empty list"},
		{"repeat: 0\n", "p.yaml:7:9: repeat: 0 trials: want 1 to 100"},
		{"repeat: 101\n", "p.yaml:7:9: repeat: 101 trials: want 1 to 100"},
	} {
		_, err := Parse("p.yaml", []byte(twoDeployments+c.tail), nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.tail, err, c.want)
		}
	}
	_, err := Parse("p.yaml", []byte(`deployments:
  - {name: a, protocol: kserve-http, url: http://127.0.0.1:8000, model: m}
steps:
  - {name: s, concurrency: 1, requests: 10, repeat: -1}
`), nil)
	if err == nil || err.Error() != `p.yaml:4:53: step "s": repeat: -1 trials: want 1 to 100` {
		t.Errorf("a step's repeat: %v", err)
	}
}

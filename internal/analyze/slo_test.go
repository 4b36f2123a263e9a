package analyze

import "testing"

func TestParseSLO(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // SLO.String(), or "" for an error
	}{
		{"p99<=200ms", "p99<=200ms"},
		{" p50 <= 20ms ", "p50<=20ms"},
		{"p99.9<=1.5s", "p99.9<=1500ms"},
		{"p95<500us", "p95<=0.5ms"},
		{"p99<=0ms", ""},
		{"p98<=10ms", ""},
		{"p99>=10ms", ""},
		{"p99<=10", ""},
		{"", ""},
	} {
		slo, err := ParseSLO(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseSLO(%q) = %v, want an error", tt.in, slo)
		case tt.want != "" && (err != nil || slo.String() != tt.want):
			t.Errorf("ParseSLO(%q) = %v, %v; want %s", tt.in, slo, err, tt.want)
		}
	}
}

package analyze

import (
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

func TestSearchVerdict(t *testing.T) {
	spot := func(c int, thr float64) *result.OperatingPoint {
		return &result.OperatingPoint{Concurrency: c, ThroughputRPS: thr, P50Ms: 10}
	}
	a := result.Search{Deployment: result.Deployment{Name: "a"}, SweetSpot: spot(4, 400)}
	b := result.Search{Deployment: result.Deployment{Name: "b"}, SweetSpot: spot(16, 800)}
	dead := result.Search{Deployment: result.Deployment{Name: "dead"}, Reason: "the deployment does not work"}
	for _, tt := range []struct {
		searches []result.Search
		want     string
	}{
		{nil, ""},
		{[]result.Search{a}, "OK, sweet spot of a c=4 (400.0 req/s, p50 10.00 ms)"},
		{[]result.Search{a, b, dead}, "OK, sweet spots: a c=4 (400.0 req/s, p50 10.00 ms), b c=16 (800.0 req/s, p50 10.00 ms), dead none; the most throughput at its sweet spot: b"},
		{[]result.Search{dead}, "FAIL: no level of any deployment met the objective (the deployment does not work)"},
	} {
		if got := searchVerdict(tt.searches); got != tt.want {
			t.Errorf("searchVerdict = %q, want %q", got, tt.want)
		}
	}
	if got := SearchSummary(&result.Search{Mode: result.ModeRate, SweetSpot: &result.OperatingPoint{Rate: 336.3, ThroughputRPS: 330}, MaxUsefulRate: 400,
		RecommendedRange: []float64{282.8, 336.3}, End: "bisected"}); !strings.Contains(got, "sweet spot 336.3/s") || !strings.Contains(got, "recommended 282.8-336.3/s (bisected)") {
		t.Errorf("summary %q", got)
	}
}

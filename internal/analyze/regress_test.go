package analyze

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/result"
)

func TestCompareFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	base := &result.File{Runs: trialRuns(rng, 5, map[string]float64{"a": 10, "same": 8, "gone": 5}, []string{"a", "same", "gone"})}
	next := &result.File{Runs: trialRuns(rng, 5, map[string]float64{"a": 12, "same": 8, "new": 5}, []string{"a", "same", "new"})}
	fc := CompareFiles(base, next, []float64{50, 99})
	if len(fc.Matched) != 2 || len(fc.OnlyBase) != 1 || fc.OnlyBase[0] != "gone c=1" || len(fc.OnlyNew) != 1 || fc.OnlyNew[0] != "new c=1" {
		t.Fatalf("matched %+v, only base %q, only new %q", fc.Matched, fc.OnlyBase, fc.OnlyNew)
	}
	a := fc.Matched[0]
	if a.Deployment != "a" || len(a.Changes) != 3 || a.BaseTrials != 5 {
		t.Fatalf("a: %+v", a)
	}
	for _, c := range a.Changes {
		if !c.Regression() || c.Improvement() || !strings.HasSuffix(c.Words(), ", regression") {
			t.Errorf("a %s: %s, want a regression", c.Metric, c.Words())
		}
	}
	if p50 := a.Changes[1]; p50.Metric != "p50" || !(p50.Ratio.Lo <= 1.2 && 1.2 <= p50.Ratio.Hi) || !strings.HasPrefix(p50.Words(), "p50 +2") {
		t.Errorf("p50 10 -> 12 ms: %s, want +20%% with an interval holding it", p50.Words())
	}
	if thr := a.Changes[0]; thr.Worse() < 0.1 || !thr.Fails(0.10) || thr.Fails(0.5) {
		t.Errorf("throughput 100 -> 83/s: worse %.3f", thr.Worse())
	}
	for _, c := range fc.Matched[1].Changes {
		if c.Ratio.Significant() && (c.Worse() > 0.05 || c.Worse() < -0.05) || c.Fails(0.10) {
			t.Errorf("same %s: %s", c.Metric, c.Words())
		}
	}
	if got := fc.Failing(0.10); len(got) != 3 || !strings.HasPrefix(got[0], "a c=1: throughput -1") {
		t.Errorf("failing: %q", got)
	}
	// Better: an improvement, never failing.
	better := CompareFiles(next, base, []float64{50})
	if c := better.Matched[0].Changes[1]; !c.Improvement() || c.Fails(0) || !strings.HasSuffix(c.Words(), ", improvement") {
		t.Errorf("12 -> 10 ms: %s", c.Words())
	}
	// Runs without intervals (v1: one run each, no timeline): compared,
	// never significant, and why.
	v1 := func(f *result.File) *result.File {
		c := &result.File{}
		for _, r := range f.Runs {
			if r.Trial == 1 {
				r.Trial, r.Timeline, r.Histograms = 0, nil, nil
				c.Runs = append(c.Runs, r)
			}
		}
		return c
	}
	old := CompareFiles(v1(base), v1(next), []float64{50, 99.99})
	c := old.Matched[0].Changes
	// p99.99: a v1 run does not keep it, and it is left out.
	if len(c) != 2 || c[1].Ratio.OK || c[1].Metric != "p50" || !strings.HasSuffix(c[1].Words(), "% (no interval)") || len(old.Matched[0].NoInterval) != 1 || !strings.HasPrefix(old.Matched[0].NoInterval[0], "one run, without a timeline") || len(old.Failing(0)) != 0 {
		t.Errorf("v1: %+v", old.Matched[0])
	}
}

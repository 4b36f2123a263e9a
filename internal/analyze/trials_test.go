package analyze

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// simRun is a run of a deployment at c=1 whose latencies are drawn from a
// lognormal around serviceMs (sigma 0.1), perSecond a second for secs
// seconds: its histogram, per-second timeline and figures as a real run
// keeps them.
func simRun(rng *rand.Rand, name string, trial int, serviceMs float64, secs, perSecond int) result.Run {
	whole := measure.NewHistogram()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tl []measure.Interval
	var ok int64
	for s := range secs + 2 { // a partial first and last second around them
		n := perSecond
		dur := 1.0
		if s == 0 || s == secs+1 {
			n, dur = perSecond/2, 0.5
		}
		h := measure.NewCoarseHistogram()
		for range n {
			d := time.Duration(serviceMs * math.Exp(0.1*rng.NormFloat64()) * float64(time.Millisecond))
			h.Record(d)
			whole.Record(d)
		}
		ok += int64(n)
		tl = append(tl, measure.Interval{Start: start.Add(time.Duration(s) * time.Second), DurationS: dur, Sent: int64(n), OK: int64(n), Histogram: h.MustEncode()})
	}
	elapsed := float64(secs) + 1
	return result.Run{Step: "c=1", Trial: trial, Deployment: result.Deployment{Name: name, URL: "u-" + name, Protocol: "kserve-http"},
		Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 1}, Status: result.StatusOK,
		Counts: result.Counts{Sent: ok, OK: ok}, ThroughputRPS: float64(ok) / elapsed, ElapsedS: elapsed,
		LatencyMs: whole.Summary(), Histograms: &result.Histograms{Latency: whole.MustEncode()}, Timeline: tl}
}

// trialRuns are k trials of each deployment at c=1, interleaved, with
// throughputs drawn around 1000/serviceMs (2% noise between trials).
func trialRuns(rng *rand.Rand, k int, services map[string]float64, order []string) []result.Run {
	var runs []result.Run
	for trial := 1; trial <= k; trial++ {
		for _, name := range order {
			r := simRun(rng, name, trial, services[name]*math.Exp(0.02*rng.NormFloat64()), 3, 50)
			r.ThroughputRPS = 1000 / services[name] * math.Exp(0.02*rng.NormFloat64())
			runs = append(runs, r)
		}
	}
	return runs
}

func TestGroupsAndTrialEstimates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runs := trialRuns(rng, 5, map[string]float64{"a": 10, "b": 12}, []string{"a", "b"})
	groups := Groups(runs)
	if len(groups) != 2 || len(groups[0].Runs) != 5 || groups[0].Deployment != "a" || runs[groups[1].Runs[4]].Trial != 5 {
		t.Fatalf("groups %+v", groups)
	}
	e := Estimate(runs, groups[0], ReportedPercentiles)
	if e.Trials != 5 || e.Measured != 5 || !e.Throughput.OK || e.Throughput.Method != "t over 5 trials" {
		t.Fatalf("estimates %+v", e)
	}
	if !e.Throughput.Contains(100) || e.Throughput.Hi/e.Throughput.Lo > 1.15 {
		t.Errorf("throughput of 5 trials around 100/s with 2%% noise: %+v", e.Throughput)
	}
	if p := e.Percentiles[50]; !p.OK || !p.Contains(10) && math.Abs(p.Value-10) > 0.5 {
		t.Errorf("p50 around 10 ms: %+v", p)
	}
	if e.ThroughputMin > e.Throughput.Value || e.ThroughputMax < e.Throughput.Value {
		t.Errorf("spread %g-%g around the median %g", e.ThroughputMin, e.ThroughputMax, e.Throughput.Value)
	}
	two := Estimate(runs, Group{Deployment: "a", Runs: groups[0].Runs[:2]}, nil)
	if two.Throughput.OK || !strings.Contains(two.Throughput.Why, "2 measured trials") {
		t.Errorf("two trials: %+v", two.Throughput)
	}
}

func TestEstimateFromTimeline(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	long := []result.Run{simRun(rng, "a", 0, 5, 30, 200)}
	e := Estimate(long, Groups(long)[0], []float64{50, 99, 99.9, 100})
	if !e.Throughput.OK || !strings.HasPrefix(e.Throughput.Method, "batch means") || e.Throughput.Value != long[0].ThroughputRPS {
		t.Errorf("throughput of a 30 s run: %+v", e.Throughput)
	}
	p50 := e.Percentiles[50]
	if !p50.OK || !strings.HasPrefix(p50.Method, "block bootstrap over 30 s") || p50.Value != long[0].LatencyMs.P50 || !(p50.Lo <= p50.Value && p50.Value <= p50.Hi) {
		t.Errorf("p50 of a 30 s run: %+v", p50)
	}
	if p := e.Percentiles[99.9]; p.OK || !strings.Contains(p.Why, "above p99.9") {
		t.Errorf("p99.9 of 6,000 answers: %+v", p)
	}
	if p := e.Percentiles[100]; p.OK {
		t.Errorf("the max: %+v", p)
	}
	short := []result.Run{simRun(rng, "a", 0, 5, 3, 200)}
	if e := Estimate(short, Groups(short)[0], nil); e.Throughput.OK || !strings.Contains(e.Throughput.Why, "3 whole seconds") {
		t.Errorf("a 3 s run: %+v", e.Throughput)
	}
	v1 := simRun(rng, "a", 0, 5, 30, 10)
	v1.Timeline, v1.Histograms = nil, nil
	if e := Estimate([]result.Run{v1}, Group{Runs: []int{0}}, []float64{99}); e.Throughput.OK || !strings.Contains(e.Throughput.Why, "without a timeline") || e.Percentiles[99].Value != v1.LatencyMs.P99 {
		t.Errorf("a v1 run: %+v", e)
	}
}

// TestRankOnlySignificant is the acceptance's decision logic on
// synthetic trials: two deployments of the same service time tie; 10 ms
// against 12 ms at c=1 is a significant difference whose interval holds
// the true 1.2.
func TestRankOnlySignificant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	same := trialRuns(rng, 5, map[string]float64{"a": 10, "b": 10}, []string{"a", "b"})
	f := &result.File{Complete: true, Runs: same}
	v := Verdict(f)
	if !strings.Contains(v, "no significant difference between") || !strings.Contains(v, "a") {
		t.Errorf("same service time: %s", v)
	}
	lines := Rank(same, []string{"a", "b"})[0].Lines
	if !strings.Contains(lines[1], "no significant difference, 95% CI") {
		t.Errorf("ranking: %q", lines)
	}
	differ := trialRuns(rng, 5, map[string]float64{"fast": 10, "slow": 12}, []string{"fast", "slow"})
	ranks := Rank(differ, []string{"fast", "slow"})
	if len(ranks) != 2 {
		t.Fatalf("rankings %+v", ranks)
	}
	for _, r := range ranks {
		if !strings.HasPrefix(r.Lead, "fast: ") {
			t.Errorf("%s: lead %q, want fast first", r.Objective, r.Lead)
		}
		// "... 1.20x faster than slow (95% CI 1.17-1.23)"
		var x, lo, hi float64
		i := strings.Index(r.Lead, ", ")
		if _, err := sscanRatio(r.Lead[i+2:], &x, &lo, &hi); err != nil || !(lo <= 1.2 && 1.2 <= hi) || lo <= 1 {
			t.Errorf("%s: lead %q: want a significant ratio whose interval holds 1.2 (%v)", r.Objective, r.Lead, err)
		}
	}
	if v := Verdict(&result.File{Complete: true, Runs: differ}); !strings.Contains(v, "faster than slow (95% CI") {
		t.Errorf("verdict: %s", v)
	}
}

// sscanRatio reads "1.20x ... (95% CI 1.17-1.23)".
func sscanRatio(s string, x, lo, hi *float64) (int, error) {
	var rest string
	n, err := fmt.Sscanf(s, "%fx", x)
	if err != nil {
		return n, err
	}
	i := strings.Index(s, "95% CI ")
	if i < 0 {
		return 0, errors.New("no 95% CI in the text")
	}
	rest = s[i+len("95% CI "):]
	return fmt.Sscanf(strings.ReplaceAll(strings.TrimSuffix(rest, ")"), "-", " "), "%f %f", lo, hi)
}

// TestVerdictOfTrials: one level run 3 times is one level, its medians.
func TestVerdictOfTrials(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	runs := trialRuns(rng, 3, map[string]float64{"a": 10}, []string{"a"})
	v := Verdict(&result.File{Complete: true, Runs: runs})
	if !strings.HasPrefix(v, "OK, a at concurrency 1 (median of 3 trials): ") || strings.Contains(v, "best of") {
		t.Errorf("verdict: %s", v)
	}
}

package analyze

import (
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

func TestCheckFor(t *testing.T) {
	for _, tt := range []struct {
		c    int
		name string
	}{{1, ""}, {2, "realistic"}, {8, "realistic"}, {12, "heavy"}, {16, "heavy"}, {32, ""}} {
		c, ok := CheckFor(tt.c)
		if c.Name != tt.name || ok != (tt.name != "") {
			t.Errorf("CheckFor(%d) = %+v %v", tt.c, c, ok)
		}
	}
	r := result.Run{Load: result.Load{Mode: result.ModeConcurrency, Concurrency: 8}, Status: result.StatusOK, ErrorRate: 0.01}
	if n := CheckNote(&r, 1.5); !strings.HasPrefix(n, "realistic check passed") {
		t.Errorf("note %q", n)
	}
	if n := CheckNote(&r, 2.5); !strings.Contains(n, "FAILED") || !strings.Contains(n, "2.50x") {
		t.Errorf("note %q", n)
	}
	if n := CheckNote(&r, 0); n != "" {
		t.Errorf("note without a baseline %q", n)
	}
	r.Load.Concurrency = 32
	if n := CheckNote(&r, 2.5); n != "" {
		t.Errorf("stress level note %q", n)
	}
}

func pts(levels ...[4]float64) []Point { // concurrency, throughput, error rate, latency x
	var out []Point
	for _, l := range levels {
		out = append(out, Point{Concurrency: int(l[0]), Throughput: l[1], ErrorRate: l[2], LatencyX: l[3], P50: 10 * l[3]})
	}
	return out
}

func TestOperating(t *testing.T) {
	tests := []struct {
		name                 string
		pts                  []Point
		low, high, maxUseful int
		bestC                int
		plateau              bool
	}{
		{"single instance: plateau at 16", pts([4]float64{1, 100, 0, 1}, [4]float64{2, 190, 0, 1.05}, [4]float64{4, 350, 0, 1.1}, [4]float64{8, 600, 0, 1.3}, [4]float64{16, 800, 0, 2}, [4]float64{32, 810, 0, 3.9}, [4]float64{64, 805, 0.02, 7.9}),
			8, 16, 16, 32, true},
		{"gil: nothing gained past 2", pts([4]float64{1, 35, 0, 1}, [4]float64{2, 38, 0, 1.8}, [4]float64{4, 39, 0, 3.6}, [4]float64{8, 39, 0, 7}),
			1, 2, 2, 4, true},
		{"batching: grows to 32, errors at 64", pts([4]float64{1, 100, 0, 1}, [4]float64{4, 300, 0, 1.3}, [4]float64{16, 900, 0, 1.8}, [4]float64{32, 1500, 0.01, 2.1}, [4]float64{64, 1600, 0.15, 4}),
			32, 32, 32, 32, false},
		{"too few levels", pts([4]float64{1, 100, 0, 1}, [4]float64{8, 500, 0, 1.6}),
			8, 8, 0, 8, false},
	}
	for _, tt := range tests {
		o := Operating("d", tt.pts)
		if o.RecommendedLow != tt.low || o.RecommendedHigh != tt.high || o.MaxUseful != tt.maxUseful || o.Best.Concurrency != tt.bestC || o.PlateauReached != tt.plateau {
			t.Errorf("%s: recommended %d-%d, max useful %d, best c=%d, plateau %v; want %d-%d, %d, c=%d, %v",
				tt.name, o.RecommendedLow, o.RecommendedHigh, o.MaxUseful, o.Best.Concurrency, o.PlateauReached, tt.low, tt.high, tt.maxUseful, tt.bestC, tt.plateau)
		}
	}
	if o := Operating("d", nil); o.Levels != 0 || o.MaxUseful != 0 {
		t.Errorf("empty: %+v", o)
	}
	o := Operating("d", tests[0].pts)
	if o.ScalingAtBest < 0.25 || o.ScalingAtBest > 0.26 {
		t.Errorf("scaling at best %v, want 810/(32x100)", o.ScalingAtBest)
	}
}

func TestRank(t *testing.T) {
	run := func(dep string, c int, thr, p50, errRate float64) result.Run {
		return result.Run{Deployment: result.Deployment{Name: dep}, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: c}, Status: result.StatusOK,
			Counts: result.Counts{Sent: 100, OK: 100}, ThroughputRPS: thr, ErrorRate: errRate, LatencyMs: measureLatency(p50)}
	}
	runs := []result.Run{
		run("grpc", 1, 120, 8, 0), run("http", 1, 100, 10, 0), run("batch", 1, 80, 12.5, 0),
		run("grpc", 16, 700, 22, 0), run("http", 16, 600, 26, 0), run("batch", 16, 1500, 10.6, 0),
		run("http", 32, 2000, 60, 0.3), // fast but failing: not within limits
		run("grpc", 24, 900, 40, 0),    // fast but 5x its baseline's p50: not within limits
	}
	ranks := Rank(runs, Deployments(runs))
	if len(ranks) != 2 {
		t.Fatalf("%d rankings", len(ranks))
	}
	lat, thr := strings.Join(ranks[0].Lines, "\n"), strings.Join(ranks[1].Lines, "\n")
	if !strings.HasPrefix(lat, "1. grpc: 8.00 ms") || !strings.Contains(lat, "3. batch: 12.50 ms (1.56x the best)") {
		t.Errorf("latency ranking:\n%s", lat)
	}
	if !strings.HasPrefix(thr, "1. batch: 1500.0 req/s at c=16") || !strings.Contains(thr, "3. http: 600.0 req/s at c=16 (the best is 2.50x this)") {
		t.Errorf("throughput ranking:\n%s", thr)
	}
}

func measureLatency(p50 float64) measure.Latency { return measure.Latency{P50: p50} }

package stats

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestTCrit(t *testing.T) {
	for _, c := range []struct {
		df   int
		want float64
	}{{0, 1.960}, {1, 12.706}, {4, 2.776}, {30, 2.042}, {40, 2.021}, {60, 2.000}, {120, 1.980}, {100000, 1.960}} {
		if got := TCrit(c.df); math.Abs(got-c.want) > 0.002 {
			t.Errorf("TCrit(%d) = %.4f, want %.3f", c.df, got, c.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %g, want %g", c.in, got, c.want)
		}
	}
}

func TestTrials(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      []float64
		ok      bool
		lo, hi  float64 // bounds the interval must reach
		value   float64
		whyPart string
	}{
		{"two trials", []float64{100, 110}, false, 0, 0, 105, "needs 3"},
		{"a zero", []float64{100, 0, 110}, false, 0, 0, 100, "above 0"},
		{"equal", []float64{100, 100, 100}, true, 100, 100, 100, ""},
		// logs of 90, 100, 110: mean 4.6009, sd 0.1003; t(2) 4.303 x sd/sqrt3 = 0.2492
		{"three", []float64{90, 100, 110}, true, 77.7, 127.9, 100, ""},
		{"five", []float64{98, 100, 102, 99, 101}, true, 98.0, 102.0, 100, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := Trials(c.in)
			if e.OK != c.ok || e.Value != c.value {
				t.Fatalf("Trials(%v) = %+v, want ok %v, value %g", c.in, e, c.ok, c.value)
			}
			if !c.ok {
				if !strings.Contains(e.Why, c.whyPart) {
					t.Errorf("why %q lacks %q", e.Why, c.whyPart)
				}
				return
			}
			if math.Abs(e.Lo-c.lo) > 0.1 || math.Abs(e.Hi-c.hi) > 0.1 {
				t.Errorf("interval %.2f-%.2f, want %.1f-%.1f", e.Lo, e.Hi, c.lo, c.hi)
			}
		})
	}
}

func TestBatchSize(t *testing.T) {
	for _, c := range []struct {
		n    int
		tau  float64
		want int
	}{{10, 1, 2}, {60, 1, 8}, {60, 3, 12}, {100, 1, 10}, {1000, 3, 32}, {1000, 19, 95}, {3600, 1, 60}} {
		if got := BatchSize(c.n, c.tau); got != c.want {
			t.Errorf("BatchSize(%d, %g) = %d, want %d", c.n, c.tau, got, c.want)
		}
	}
}

func TestCorrelationTime(t *testing.T) {
	alternating := []float64{1, -1, 1, -1, 1, -1, 1, -1}
	if got := CorrelationTime(alternating); got != 1 {
		t.Errorf("alternating: %g, want 1 (negative correlation clipped)", got)
	}
	trend := make([]float64, 50)
	for i := range trend {
		trend[i] = float64(i)
	}
	if got := CorrelationTime(trend); math.Abs(got-19) > 0.01 {
		t.Errorf("a trend: %g, want 19 (r clipped to 0.9)", got)
	}
	if got := CorrelationTime([]float64{5, 5, 5, 5}); got != 1 {
		t.Errorf("constant: %g, want 1", got)
	}
}

func TestBatchMeans(t *testing.T) {
	short := BatchMeans([]float64{1, 2, 3})
	if short.OK || !strings.Contains(short.Why, "3 whole seconds") || short.Value != 2 {
		t.Errorf("3 seconds: %+v", short)
	}
	flat := BatchMeans([]float64{100, 100, 100, 100, 100, 100, 100, 100, 100, 100})
	if !flat.OK || math.Abs(flat.Lo-100) > 1e-9 || math.Abs(flat.Hi-100) > 1e-9 || flat.DF != 4 {
		t.Errorf("constant series: %+v, want the interval 100-100 over 5 batches", flat)
	}
	// 10 seconds, batches of 2: means 100, 110, 100, 110, 100.
	e := BatchMeans([]float64{100, 100, 110, 110, 100, 100, 110, 110, 100, 100})
	if !e.OK || e.Value != 104 || e.DF != 4 || !strings.Contains(e.Method, "5 batches of 2 s") {
		t.Fatalf("%+v", e)
	}
	// sd of the means 5.477, se 2.449, t(4) 2.776: +-6.80 (relative 0.0654).
	if math.Abs(e.Lo-104*math.Exp(-0.06538)) > 0.05 || math.Abs(e.Hi-104*math.Exp(0.06538)) > 0.05 {
		t.Errorf("interval %.2f-%.2f, want about 97.4-111.0", e.Lo, e.Hi)
	}
	re := e.Recentred(105)
	if re.Value != 105 || re.Lo <= e.Lo || re.Hi <= e.Hi {
		t.Errorf("recentred: %+v", re)
	}
}

func TestRatioOf(t *testing.T) {
	a := Trials([]float64{120, 121, 119, 120, 122})
	b := Trials([]float64{100, 101, 99, 100, 98})
	same := Trials([]float64{101, 99, 100, 102, 98})
	r := RatioOf(a, b)
	if !r.OK || !r.Significant() || math.Abs(r.Value-1.2) > 0.02 || !(r.Lo < 1.2 && r.Hi > 1.2) || r.Hi-r.Lo > 0.1 {
		t.Errorf("120 vs 100: %+v", r)
	}
	if !strings.HasPrefix(r.Times(), "1.21x (95% CI 1.19-1.2") {
		t.Errorf("Times: %q", r.Times())
	}
	n := RatioOf(same, b)
	if !n.OK || n.Significant() || !strings.HasPrefix(n.Times(), "no significant difference (0.9") {
		t.Errorf("equal: %+v %q", n, n.Times())
	}
	if got := RatioOf(b, a).Change(); !strings.HasPrefix(got, "-17% (-") {
		t.Errorf("Change: %q", got)
	}
	// Within 1% is never significant, however tight the interval.
	for _, c := range []struct {
		lo, hi float64
		want   bool
	}{{1.001, 1.009, false}, {1.011, 1.02, true}, {0.98, 0.995, false}, {0.95, 0.989, true}} {
		if got := (Ratio{OK: true, Value: c.lo, Lo: c.lo, Hi: c.hi}).Significant(); got != c.want {
			t.Errorf("%g-%g significant: %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
	none := RatioOf(None(10, "one trial"), b)
	if none.OK || none.Significant() || none.Value != 0.1 || none.Why != "one trial" || !strings.Contains(none.Times(), "no interval: one trial") {
		t.Errorf("without an interval: %+v %q", none, none.Times())
	}
}

func TestWelch(t *testing.T) {
	for _, c := range []struct {
		va       float64
		dfa      int
		vb       float64
		dfb      int
		want     int
		whatCase string
	}{
		{1, 4, 1, 4, 8, "equal variances: the sum of the df"},
		{1, 4, 0, 4, 4, "one exact"},
		{1, 0, 1, 0, 0, "both normal"},
		{1, 4, 1, 0, 16, "one normal"},
	} {
		if got := welch(c.va, c.dfa, c.vb, c.dfb); got != c.want {
			t.Errorf("%s: welch = %d, want %d", c.whatCase, got, c.want)
		}
	}
}

// TestBatchMeansCoverage: 200 simulated runs of 120 seconds whose
// throughput per second is AR(1) around 500 req/s (phi 0.5: each second
// remembers half the last one's deviation); the 95% interval holds 500 in
// 90-99% of them.
func TestBatchMeansCoverage(t *testing.T) {
	const runs, n, mu, phi, sd = 200, 120, 500.0, 0.5, 50.0
	rng := rand.New(rand.NewPCG(17, 17))
	hits := 0
	for range runs {
		xs := make([]float64, n)
		x := rng.NormFloat64() * sd / math.Sqrt(1-phi*phi) // stationary start
		for i := range xs {
			x = phi*x + rng.NormFloat64()*sd
			xs[i] = mu + x
		}
		if e := BatchMeans(xs); e.Contains(mu) {
			hits++
		}
	}
	t.Logf("batch means: %d of %d intervals hold the true mean", hits, runs)
	if hits < runs*90/100 || hits > runs*99/100 {
		t.Errorf("coverage %d/%d, want 90-99%%", hits, runs)
	}
}

// quantize rounds v up to the next of HdrHistogram's buckets at 2
// significant digits (a relative width of 1/128), as per-second histograms
// hold latencies.
func quantize(v float64) float64 {
	step := math.Log1p(1.0 / 128)
	return math.Exp(math.Ceil(math.Log(v)/step) * step)
}

// TestPercentileCoverage: 200 simulated runs of 40 seconds of 100
// latencies each, lognormal (sigma 0.3 around 10 ms) with a per-second
// AR(1) drift of the log (phi 0.5): the true p99 of the stationary
// distribution is known exactly, and the bootstrap's 95% interval holds it
// in 90-99% of them.
func TestPercentileCoverage(t *testing.T) {
	const runs, n, perSecond, phi, driftSD, sigma = 200, 40, 100, 0.5, 0.05, 0.3
	mu := math.Log(10.0)
	z99 := 2.326348
	total := math.Sqrt(sigma*sigma + driftSD*driftSD/(1-phi*phi))
	truth := quantize(math.Exp(mu + total*z99))
	rng := rand.New(rand.NewPCG(29, 29))
	hits := 0
	for range runs {
		seconds := make([][]Bin, n)
		a := rng.NormFloat64() * driftSD / math.Sqrt(1-phi*phi)
		for s := range seconds {
			a = phi*a + rng.NormFloat64()*driftSD
			bins := map[float64]int64{}
			for range perSecond {
				bins[quantize(math.Exp(mu+a+sigma*rng.NormFloat64()))]++
			}
			for v, c := range bins {
				seconds[s] = append(seconds[s], Bin{v, c})
			}
		}
		if e := PercentileInterval(seconds, 99); e.Contains(truth) {
			hits++
		}
	}
	t.Logf("block bootstrap p99: %d of %d intervals hold the true %.3f ms", hits, runs, truth)
	if hits < runs*90/100 || hits > runs*99/100 {
		t.Errorf("coverage %d/%d, want 90-99%%", hits, runs)
	}
}

func TestPercentileInterval(t *testing.T) {
	// 20 seconds each holding 1..100 ms once: p50 is 50 in every
	// resample, p99 99.
	seconds := make([][]Bin, 20)
	for s := range seconds {
		for v := 1; v <= 100; v++ {
			seconds[s] = append(seconds[s], Bin{float64(v), 1})
		}
	}
	for _, c := range []struct {
		p    float64
		want float64
	}{{50, 50}, {99, 99}} {
		e := PercentileInterval(seconds, c.p)
		if !e.OK || e.Value != c.want || math.Abs(e.Lo-c.want) > 1e-9 || math.Abs(e.Hi-c.want) > 1e-9 {
			t.Errorf("p%g: %+v, want %g-%g", c.p, e, c.want, c.want)
		}
	}
	if e := PercentileInterval(seconds, 99.99); e.OK || !strings.Contains(e.Why, "above p99.99") {
		t.Errorf("p99.99 of 2000 answers: %+v", e)
	}
	if e := PercentileInterval(seconds[:5], 50); e.OK || !strings.Contains(e.Why, "5 whole seconds") || e.Value != 50 {
		t.Errorf("5 seconds: %+v", e)
	}
	if e := PercentileInterval(nil, 50); e.OK || e.Why == "" {
		t.Errorf("nothing: %+v", e)
	}
	// Deterministic: the same input gives the same interval.
	if a, b := PercentileInterval(seconds, 90), PercentileInterval(seconds, 90); a != b {
		t.Errorf("two renderings differ: %+v %+v", a, b)
	}
}

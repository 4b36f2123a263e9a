package analyze

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// instancesModel is a closed loop against n instances of service time s
// (ms), rejecting requests beyond n+queue in flight.
func instancesModel(n int, s float64, queue int) func(float64) Measured {
	return func(c float64) Measured {
		l := Measured{Load: c, Stable: true}
		served := math.Min(c, float64(n+queue))
		if limit := float64(n + queue); c > limit && queue >= 0 {
			l.ErrorRate = (c - limit) / c
		}
		l.Throughput = math.Min(served, float64(n)) * 1000 / s
		wait := math.Max(1, served/float64(n))
		l.P50, l.P90, l.P95, l.P99, l.P999 = s*wait, s*wait, s*wait, s*wait*1.1, s*wait*1.2
		return l
	}
}

// search drives the policy against a model until it is done.
func search(t *testing.T, sp Space, obj Objective, model func(float64) Measured) ([]float64, Move, Outcome) {
	t.Helper()
	var history []Measured
	var loads []float64
	for i := 0; i < 40; i++ {
		step := Next(sp, obj, history)
		if step.Done {
			return loads, step, Conclude(obj, history, step.Reason)
		}
		if measured(history, step.Next) {
			t.Fatalf("level %g asked for twice: %v", step.Next, loads)
		}
		loads = append(loads, step.Next)
		history = append(history, model(step.Next))
	}
	t.Fatalf("no end after 40 levels: %v", loads)
	return nil, Move{}, Outcome{}
}

var concurrency = Space{Start: 1, Max: 64, Factor: 2, Integer: true}

func TestSearchFourInstances(t *testing.T) {
	loads, step, out := search(t, concurrency, DefaultObjective, instancesModel(4, 10, 1000))
	if fmt.Sprint(loads) != "[1 2 4 8 16 11 9]" || step.Phase != "bisected" {
		t.Errorf("levels %v, end %+v", loads, step)
	}
	if out.SweetSpot == nil || out.SweetSpot.Load != 4 || out.SweetSpot.Throughput != 400 {
		t.Errorf("sweet spot %+v, want c=4 at 400/s", out.SweetSpot)
	}
	if out.MaxUseful != 4 || out.RecommendedLow != 4 || out.RecommendedHigh != 4 || out.Breaking != nil {
		t.Errorf("outcome %+v", out)
	}
}

func TestSearchQueueLimit(t *testing.T) {
	// 20 instances, no queue: 503s above concurrency 20.
	loads, _, out := search(t, concurrency, DefaultObjective, instancesModel(20, 10, 0))
	if fmt.Sprint(loads) != "[1 2 4 8 16 32 23 19 21]" {
		t.Errorf("levels %v", loads)
	}
	if out.Breaking == nil || out.Breaking.Load < 16 || out.Breaking.Load > 24 {
		t.Errorf("breaking point %+v, want between 16 and 24", out.Breaking)
	}
	if out.SweetSpot == nil || out.SweetSpot.Load != 19 {
		t.Errorf("sweet spot %+v, want 19 (20 is not measured, 21 has errors)", out.SweetSpot)
	}
}

func TestSearchPlateauWithoutFailure(t *testing.T) {
	// A GIL-bound service: throughput flat after 2, latency grows slowly.
	gil := func(c float64) Measured {
		thr := 35.0
		if c >= 2 {
			thr = 38
		}
		return Measured{Load: c, Throughput: thr, P50: 26 + c*0.1, P99: 30 + c*0.1}
	}
	loads, step, out := search(t, concurrency, Objective{MaxErrorRate: 0.05}, gil)
	if fmt.Sprint(loads) != "[1 2 4 8]" || step.Phase != "plateau" {
		t.Errorf("levels %v, end %+v", loads, step)
	}
	if out.SweetSpot.Load != 2 || out.MaxUseful != 2 {
		t.Errorf("outcome %+v", out)
	}
}

func TestSearchOverloadBacksOffToHalf(t *testing.T) {
	cliff := func(c float64) Measured {
		l := Measured{Load: c, Throughput: 100 * math.Min(c, 16), P50: 10, P99: 12}
		if c > 16 {
			l.ErrorRate, l.Throughput = 0.7, 500
		}
		return l
	}
	sp := concurrency
	sp.Start, sp.Factor = 4, 4
	loads, _, out := search(t, sp, DefaultObjective, cliff)
	// 4, 16, 64 (70% errors: back off to 32, still failing), then bisect 16..32.
	if fmt.Sprint(loads) != "[4 16 64 32 23 19 17]" {
		t.Errorf("levels %v", loads)
	}
	if out.SweetSpot.Load != 16 || out.Breaking.Load != 17 {
		t.Errorf("outcome sweet %+v breaking %+v", out.SweetSpot, out.Breaking)
	}
}

// TestMaxUsefulAcrossBisectedLevels: levels close together (a bisection's)
// need only a gain in proportion to their step to count as useful.
func TestMaxUsefulAcrossBisectedLevels(t *testing.T) {
	// Throughput grows as c^0.5 up to 16, then stays flat.
	grow := func(c float64) Measured {
		return Measured{Load: c, Throughput: 100 * math.Sqrt(math.Min(c, 16)), P50: 10, P99: 12}
	}
	var history []Measured
	for _, c := range []float64{1, 2, 4, 8, 16, 11, 13, 14, 15, 32} {
		history = append(history, grow(c))
	}
	if out := Conclude(Objective{MaxErrorRate: 0.05}, history, ""); out.MaxUseful != 16 {
		t.Errorf("max useful %v, want 16 (13 -> 14 -> 15 -> 16 each add about 3.5%%, in steps of 7%%)", out.MaxUseful)
	}
	for _, tt := range []struct{ a, b, want float64 }{{4, 8, 0.05}, {8, 4, 0.05}, {10, 11, 0.0067}, {1, 4, 0.1025}} {
		if got := usefulGain(tt.a, tt.b); math.Abs(got-tt.want) > 5e-4 {
			t.Errorf("usefulGain(%v, %v) = %.4f, want %.4f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSearchBaselineFails(t *testing.T) {
	_, step, _ := search(t, concurrency, DefaultObjective, func(c float64) Measured { return Measured{Load: c, ErrorRate: 1} })
	if step.Phase != "baseline failed" || !strings.Contains(step.Reason, "errors 100.0%") {
		t.Errorf("end %+v", step)
	}
}

func TestSearchMaximum(t *testing.T) {
	linear := func(c float64) Measured { return Measured{Load: c, Throughput: 100 * c, P50: 10, P99: 11} }
	loads, step, _ := search(t, Space{Start: 1, Max: 64, Factor: 2, Integer: true}, DefaultObjective, linear)
	if loads[len(loads)-1] != 64 || step.Phase != "maximum reached" {
		t.Errorf("levels %v end %+v: never above the maximum", loads, step)
	}
}

// TestSearchRateWithSLO: rate mode, an M/D/4-like server of 10 ms, p99 <= 50 ms.
func TestSearchRateWithSLO(t *testing.T) {
	server := func(r float64) Measured {
		rho := r / 400
		l := Measured{Load: r, Throughput: math.Min(r, 400), P50: 10}
		if rho >= 1 {
			l.P99 = 5000
		} else {
			l.P99 = 10 + 8*rho/(1-rho) // grows without bound near capacity
		}
		return l
	}
	obj := Objective{MaxErrorRate: 0.05, SLO: &SLO{Percentile: 99, MaxMs: 50}}
	loads, _, out := search(t, Space{Start: 100, Max: 100000, Factor: 2}, obj, server)
	if out.SweetSpot == nil || out.SweetSpot.Load < 250 || out.SweetSpot.Load > 400 {
		t.Errorf("levels %v: highest passing rate %+v, want 250..400", loads, out.SweetSpot)
	}
	if out.Breaking == nil || out.Breaking.Load > 400*BisectResolution*1.2 {
		t.Errorf("breaking %+v", out.Breaking)
	}
}

func TestObjectivePasses(t *testing.T) {
	obj := Objective{MaxErrorRate: 0.05, MaxLatencyRatio: 2, SLO: &SLO{Percentile: 99, MaxMs: 100}}
	for _, tt := range []struct {
		l    Measured
		want string
	}{
		{Measured{P50: 19, P99: 90}, ""},
		{Measured{ErrorRate: 0.06, P50: 10}, "errors 6.0% > 5%"},
		{Measured{P50: 21, P99: 50}, "p50 21.00 ms > 2x baseline"},
		{Measured{P50: 10, P99: 101}, "p99 101.00 ms misses the objective p99<=100ms"},
	} {
		ok, why := obj.Passes(tt.l, 10)
		if ok != (tt.want == "") || !strings.Contains(why, tt.want) {
			t.Errorf("Passes(%+v) = %v %q, want %q", tt.l, ok, why, tt.want)
		}
	}
}

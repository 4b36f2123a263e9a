package analyze

import (
	"fmt"
	"testing"
)

// lv is a level in short: load, throughput, p50 (ms), error rate.
func lv(load, thr, p50, errRate float64) Measured {
	return Measured{Load: load, Throughput: thr, P50: p50, P99: 1.2 * p50, ErrorRate: errRate, Stable: true}
}

// TestNextTable: given the levels measured so far, the next level.
func TestNextTable(t *testing.T) {
	sp := Space{Start: 1, Max: 64, Factor: 2, Integer: true}
	base := lv(1, 100, 10, 0)
	for _, tt := range []struct {
		name    string
		history []Measured
		want    string // "next phase" or "done phase"
	}{
		{"nothing yet: the baseline", nil, "next 1 rise"},
		{"baseline fails", []Measured{lv(1, 90, 10, 0.2)}, "done baseline failed"},
		{"nothing succeeds", []Measured{lv(1, 0, 0, 0)}, "done baseline failed"},
		{"rise from the baseline", []Measured{base}, "next 2 rise"},
		{"keep rising", []Measured{base, lv(2, 200, 10, 0), lv(4, 390, 11, 0)}, "next 8 rise"},
		{"one flat step is not a plateau", []Measured{base, lv(2, 200, 10, 0), lv(4, 205, 19, 0)}, "next 8 rise"},
		{"two flat steps are", []Measured{base, lv(2, 200, 10, 0), lv(4, 205, 15, 0), lv(8, 207, 19, 0)}, "done plateau"},
		{"latency miss: bisect", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 12, 0), lv(8, 700, 16, 0), lv(16, 900, 25, 0)}, "next 11 bisect"},
		{"errors over 5%: bisect", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 12, 0.06)}, "next 3 bisect"},
		{"bisect towards the limit", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 12, 0), lv(8, 700, 16, 0), lv(16, 900, 25, 0), lv(11, 800, 19, 0)}, "next 13 bisect"},
		{"neighbours: done", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 12, 0), lv(8, 700, 16, 0), lv(16, 900, 25, 0), lv(11, 800, 19, 0), lv(13, 850, 21, 0), lv(12, 820, 20, 0)}, "done bisected"},
		{"overloaded: back off to half", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 10, 0), lv(8, 800, 10, 0), lv(16, 1500, 11, 0), lv(32, 300, 12, 0.8), lv(64, 200, 12, 0.9)}, "next 23 bisect"},
		{"overloaded, half unknown", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 10, 0), lv(8, 800, 10, 0), lv(16, 1500, 11, 0), lv(32, 1600, 12, 0), lv(64, 200, 12, 0.7)}, "next 45 bisect"},
		{"overloaded at once past the start", []Measured{base, lv(2, 200, 10, 0), lv(4, 50, 10, 0.6)}, "next 3 bisect"},
		{"the maximum", []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 10, 0), lv(8, 800, 10, 0), lv(16, 1600, 10, 0), lv(32, 3200, 10, 0), lv(64, 6400, 10, 0)}, "done maximum reached"},
	} {
		st := Next(sp, DefaultObjective, tt.history)
		got := fmt.Sprintf("next %g %s", st.Next, st.Phase)
		if st.Done {
			got = "done " + st.Phase
		}
		if got != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, got, st.Reason, tt.want)
		}
	}
	// Back off: a level with more than 50% errors whose half is unknown
	// and above the last passing level is measured next.
	backOff := []Measured{lv(4, 400, 10, 0), lv(16, 1600, 10, 0), lv(64, 300, 10, 0.7)}
	if st := Next(Space{Start: 4, Max: 64, Factor: 4, Integer: true}, DefaultObjective, backOff); st.Next != 32 || st.Phase != "back off" {
		t.Errorf("back off: %+v", st)
	}
}

// TestConcludeTable: given a finished search's levels, the verdict.
func TestConcludeTable(t *testing.T) {
	base := lv(1, 100, 10, 0)
	for _, tt := range []struct {
		name    string
		obj     Objective
		history []Measured
		want    string // sweet spot, max useful, breaking point, recommended range
	}{
		{"nothing", DefaultObjective, nil, "spot - useful 0 breaking - range 0-0"},
		{"baseline only", DefaultObjective, []Measured{base}, "spot 1 useful 1 breaking - range 1-1"},
		{"ties go to the lowest level", DefaultObjective, []Measured{base, lv(2, 200, 10, 0), lv(4, 390, 11, 0), lv(8, 400, 19, 0), lv(16, 400, 39, 0)},
			"spot 4 useful 4 breaking - range 4-4"},
		{"errors break", DefaultObjective, []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 10, 0), lv(8, 500, 11, 0.04), lv(16, 300, 11, 0.3)},
			"spot 8 useful 8 breaking 16 range 4-8"},
		{"an SLO miss breaks", Objective{MaxErrorRate: 0.05, SLO: &SLO{Percentile: 99, MaxMs: 20}}, []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 12, 0), lv(8, 700, 17, 0)},
			"spot 4 useful 8 breaking 8 range 4-4"},
		{"a p50 miss does not break", DefaultObjective, []Measured{base, lv(2, 200, 10, 0), lv(4, 400, 12, 0), lv(8, 700, 25, 0)},
			"spot 4 useful 8 breaking - range 4-4"},
	} {
		out := Conclude(tt.obj, tt.history, "")
		spot, breaking := "-", "-"
		if out.SweetSpot != nil {
			spot = fmt.Sprint(out.SweetSpot.Load)
		}
		if out.Breaking != nil {
			breaking = fmt.Sprint(out.Breaking.Load)
		}
		got := fmt.Sprintf("spot %s useful %g breaking %s range %g-%g", spot, out.MaxUseful, breaking, out.RecommendedLow, out.RecommendedHigh)
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

package analyze

import (
	"math"
	"strings"
	"testing"
)

func windows(pairs ...float64) []WindowStats {
	var ws []WindowStats
	for i := 0; i+1 < len(pairs); i += 2 {
		ws = append(ws, WindowStats{Throughput: pairs[i], P50: pairs[i+1], OK: 50})
	}
	return ws
}

func TestStable(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ws       []WindowStats
		stable   bool
		thr, p50 float64
	}{
		{"none", nil, false, 0, 0},
		{"two windows are not enough", windows(100, 10, 100, 10), false, 0, 0},
		{"three alike", windows(100, 10, 104, 10.2, 98, 10.1), true, 0.0612, 0.02},
		{"exactly 10%", windows(100, 10, 110, 11, 105, 10.5), true, 0.1, 0.1},
		{"throughput drifts", windows(100, 10, 115, 10, 105, 10), false, 0.15, 0},
		{"p50 drifts", windows(100, 10, 100, 12, 100, 10), false, 0, 0.2},
		{"only the last three count", windows(50, 30, 100, 10, 101, 10, 99, 10.5), true, 0.0202, 0.05},
		{"a window without success", windows(100, 10, 0, 0, 100, 10), false, MaxSpread, MaxSpread},
	} {
		st := StabilityRule{}.Stable(tt.ws)
		if st.Stable != tt.stable || st.ThroughputSpread != tt.thr || st.P50Spread != tt.p50 || st.Windows != len(tt.ws) {
			t.Errorf("%s: %+v, want stable %v spreads %v/%v", tt.name, st, tt.stable, tt.thr, tt.p50)
		}
	}
}

// TestPoissonThroughputThreshold: Poisson windows may spread more in
// throughput, never in p50.
func TestPoissonThroughputThreshold(t *testing.T) {
	if got := PoissonThroughputThreshold(100, 0.1); math.Abs(got-0.4) > 1e-9 {
		t.Errorf("threshold at 100 requests a window: %v, want 0.4", got)
	}
	rule := StabilityRule{ThroughputThreshold: PoissonThroughputThreshold(100, 0.1)}
	if !rule.Stable(windows(100, 10, 125, 10.5, 95, 10)).Stable || rule.Stable(windows(100, 10, 100, 12, 100, 10)).Stable {
		t.Errorf("rule %+v", rule)
	}
}

func TestSettle(t *testing.T) {
	failing := []WindowStats{{Throughput: 20, P50: 10, OK: 40, Errors: 10}}
	dead := []WindowStats{{Errors: 50}}
	for _, tt := range []struct {
		name     string
		ws       []WindowStats
		failFast float64
		done     bool
		why      string
	}{
		{"nothing yet", nil, 0.5, false, ""},
		{"one good window", windows(100, 10), 0.5, false, ""},
		{"baseline fails fast", failing, 0.05, true, "first window failed (20% errors)"},
		{"a level tolerates it", failing, 0.5, false, ""},
		{"nothing succeeded", dead, 0.5, true, "first window failed (100% errors)"},
		{"stable", windows(100, 10, 101, 10, 100, 10), 0.5, true, "stable after 3 windows"},
		{"still moving", windows(100, 10, 150, 10, 100, 10, 150, 10), 0.5, false, ""},
		{"gives up", windows(100, 10, 150, 10, 100, 10, 150, 10, 100, 10, 150, 10), 0.5, true, "NOT stable after 6 windows (throughput spread 50%"},
	} {
		done, why := StabilityRule{MaxWindows: 6, FailFast: tt.failFast}.Settle(tt.ws)
		if done != tt.done || !strings.HasPrefix(why, tt.why) {
			t.Errorf("%s: %v %q, want %v %q", tt.name, done, why, tt.done, tt.why)
		}
	}
}

func TestMemoryWarning(t *testing.T) {
	for _, tt := range []struct {
		inflight   float64
		per, limit int64
		want       string
	}{
		{32, DefaultMemoryPerRequest, 0, ""},
		{32, DefaultMemoryPerRequest, 4_800_000_000, ""},
		{48, DefaultMemoryPerRequest, 4_800_000_000, ""},
		{64, DefaultMemoryPerRequest, 4_800_000_000, "64 requests in flight x 100 MB per request = 6.4 GB, above the pod's limit of 4.8 GB: the pod may be OOM-killed; 48 fit"},
		{4, 0, 1, ""},
	} {
		got := MemoryWarning(tt.inflight, tt.per, tt.limit)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("MemoryWarning(%v, %d, %d) = %q, want %q", tt.inflight, tt.per, tt.limit, got, tt.want)
		}
	}
}

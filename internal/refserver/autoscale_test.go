package refserver

import (
	"testing"
	"time"
)

func TestDesiredReplicas(t *testing.T) {
	rps := AutoscaleConfig{TargetRPS: 80, MinReplicas: 1, MaxReplicas: 4}
	zero := AutoscaleConfig{TargetInFlight: 2, MinReplicas: 0, MaxReplicas: 3}
	for _, tc := range []struct {
		name    string
		c       AutoscaleConfig
		metric  float64
		waiting bool
		want    int
	}{
		{"idle keeps the minimum", rps, 0, false, 1},
		{"50/s fits one", rps, 50, false, 1},
		{"exactly the target fits one", rps, 80, false, 1},
		{"a hair under a multiple is that multiple", rps, 160 - 1e-12, false, 2},
		{"just over the target wants two", rps, 81, false, 2},
		{"300/s wants four", rps, 300, false, 4},
		{"capped at the maximum", rps, 1000, false, 4},
		{"scale to zero when idle", zero, 0, false, 0},
		{"activation: a waiting request wants one", zero, 0, true, 1},
		{"in flight 5 over 2 wants three", zero, 5, false, 3},
		{"waiting does not lower the count", zero, 5, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DesiredReplicas(tc.c, tc.metric, tc.waiting); got != tc.want {
				t.Errorf("DesiredReplicas(%v, waiting %v) = %d, want %d", tc.metric, tc.waiting, got, tc.want)
			}
		})
	}
}

func TestNextScale(t *testing.T) {
	c := AutoscaleConfig{TargetRPS: 80, MaxReplicas: 4, ScaleUpDelay: 3 * time.Second, ScaleDownDelay: 10 * time.Second}
	s := time.Second
	type step struct {
		at      time.Duration
		desired int
		want    int
	}
	for _, tc := range []struct {
		name  string
		start int
		steps []step
	}{
		{"scale up after the delay, to what is wanted then", 1, []step{{0, 1, 1}, {s / 10, 2, 1}, {2 * s, 3, 1}, {3*s + s/10 - 1, 4, 1}, {3*s + s/10, 4, 4}}},
		{"a break restarts the delay", 1, []step{{0, 2, 1}, {2 * s, 1, 1}, {4 * s, 2, 1}, {6 * s, 2, 1}, {7 * s, 2, 2}}},
		{"scale down after its own delay", 4, []step{{0, 1, 4}, {9 * s, 2, 4}, {10 * s, 2, 2}}},
		{"from zero at once (activation)", 0, []step{{5 * s, 1, 1}, {6 * s, 1, 1}}},
		{"no delay scales at once", 2, []step{{0, 2, 2}}},
		{"up then down cancels the up", 2, []step{{0, 3, 2}, {s, 1, 2}, {3 * s, 1, 2}, {11 * s, 1, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := NewScaleState(tc.start)
			for i, p := range tc.steps {
				st = NextScale(c, st, p.desired, p.at)
				if st.Replicas != p.want {
					t.Fatalf("step %d (at %v, desired %d): %d replicas, want %d (state %+v)", i, p.at, p.desired, st.Replicas, p.want, st)
				}
			}
		})
	}
}

func TestAutoscaleValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    AutoscaleConfig
		ok   bool
	}{
		{"rps", AutoscaleConfig{TargetRPS: 1, MaxReplicas: 1}, true},
		{"in flight from zero", AutoscaleConfig{TargetInFlight: 1, MaxReplicas: 2}, true},
		{"no target", AutoscaleConfig{MaxReplicas: 1}, false},
		{"both targets", AutoscaleConfig{TargetRPS: 1, TargetInFlight: 1, MaxReplicas: 1}, false},
		{"max below min", AutoscaleConfig{TargetRPS: 1, MinReplicas: 3, MaxReplicas: 2}, false},
		{"max zero", AutoscaleConfig{TargetRPS: 1}, false},
		{"negative cold start", AutoscaleConfig{TargetRPS: 1, MaxReplicas: 1, ColdStart: -1}, false},
		{"window under tick", AutoscaleConfig{TargetRPS: 1, MaxReplicas: 1, Window: time.Millisecond, Tick: time.Second}, false},
	} {
		if err := tc.c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

package loaders

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

func TestEvenAddsUp(t *testing.T) {
	for _, tc := range []struct{ total, n int }{{64, 4}, {10, 3}, {3, 4}, {1, 1}, {0, 4}, {1001, 7}} {
		sum := 0
		for i := range tc.n {
			s := Even(tc.total, i, tc.n)
			if lo, hi := tc.total/tc.n, tc.total/tc.n+1; s < lo || s > hi {
				t.Errorf("Even(%d, %d, %d) = %d, want %d or %d", tc.total, i, tc.n, s, lo, hi)
			}
			sum += s
		}
		if sum != tc.total {
			t.Errorf("Even(%d, ·, %d) shares add up to %d", tc.total, tc.n, sum)
		}
	}
}

func TestStepShares(t *testing.T) {
	w := 10
	for _, tc := range []struct {
		name string
		step plan.Step
		n    int
		// want per loader
		conc, req []int
		rate      float64
		seeds     []uint64
		phases    []time.Duration
		skip      []bool
	}{
		{name: "closed", step: plan.Step{Name: "a", Concurrency: 10, Requests: 103}, n: 4,
			conc: []int{3, 3, 2, 2}, req: []int{26, 26, 26, 25}, skip: []bool{false, false, false, false}},
		{name: "fewer workers than loaders", step: plan.Step{Name: "a", Concurrency: 3, Requests: 100}, n: 4,
			conc: []int{1, 1, 1, 0}, req: []int{34, 33, 33, 0}, skip: []bool{false, false, false, true}},
		{name: "fewer requests than loaders", step: plan.Step{Name: "a", Concurrency: 8, Requests: 2}, n: 4,
			conc: []int{2, 2, 2, 2}, req: []int{1, 1, 0, 0}, skip: []bool{false, false, true, true}},
		{name: "constant rate", step: plan.Step{Name: "r", Rate: 100, Arrival: load.ArrivalConstant, Duration: time.Second}, n: 4,
			rate: 25, phases: []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond},
			skip: []bool{false, false, false, false}},
		{name: "poisson rate", step: plan.Step{Name: "r", Rate: 90, Arrival: load.ArrivalPoisson, Requests: 10, Warmup: &w}, n: 3,
			rate: 30, req: []int{4, 3, 3}, seeds: []uint64{1, 2, 3}, phases: []time.Duration{0, 0, 0}, skip: []bool{false, false, false}},
		{name: "poisson seeded", step: plan.Step{Name: "r", Rate: 10, Arrival: load.ArrivalPoisson, Seed: 7, Duration: time.Second}, n: 2,
			rate: 5, seeds: []uint64{7, 8}, skip: []bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sumReq := 0
			for i := range tc.n {
				sh, err := Step(tc.step, i, tc.n)
				if err != nil {
					t.Fatal(err)
				}
				s := sh.Step
				if s.Name != tc.step.Name || s.Duration != tc.step.Duration {
					t.Errorf("loader %d: name %q duration %v, want the step's", i, s.Name, s.Duration)
				}
				if tc.conc != nil && s.Concurrency != tc.conc[i] {
					t.Errorf("loader %d: concurrency %d, want %d", i, s.Concurrency, tc.conc[i])
				}
				if tc.req != nil && s.Requests != tc.req[i] {
					t.Errorf("loader %d: requests %d, want %d", i, s.Requests, tc.req[i])
				}
				sumReq += s.Requests
				if tc.rate != 0 && math.Abs(s.Rate-tc.rate) > 1e-9 {
					t.Errorf("loader %d: rate %v, want %v", i, s.Rate, tc.rate)
				}
				if tc.seeds != nil && s.Seed != tc.seeds[i] {
					t.Errorf("loader %d: seed %d, want %d", i, s.Seed, tc.seeds[i])
				}
				if tc.phases != nil && s.Phase != tc.phases[i] {
					t.Errorf("loader %d: phase %v, want %v", i, s.Phase, tc.phases[i])
				}
				if sh.Skip != tc.skip[i] {
					t.Errorf("loader %d: skip %v, want %v", i, sh.Skip, tc.skip[i])
				}
				if tc.step.Warmup != nil && *s.Warmup != Even(*tc.step.Warmup, i, tc.n) {
					t.Errorf("loader %d: warmup %d", i, *s.Warmup)
				}
			}
			if sumReq != tc.step.Requests {
				t.Errorf("requests add up to %d, want %d", sumReq, tc.step.Requests)
			}
		})
	}
}

func TestStepStagesScaled(t *testing.T) {
	open := plan.Step{Name: "ramp", Rate: 40, Arrival: load.ArrivalConstant,
		Stages: []load.Stage{{Duration: time.Second, Target: 100}, {Duration: time.Second, Target: 20, Hold: true}}, Duration: 2 * time.Second}
	sh, err := Step(open, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Step.Rate != 10 || sh.Step.Stages[0].Target != 25 || sh.Step.Stages[1].Target != 5 || !sh.Step.Stages[1].Hold {
		t.Errorf("open stages share %+v", sh.Step)
	}
	if open.Stages[0].Target != 100 {
		t.Errorf("the step's own stages changed: %+v", open.Stages)
	}
	closed := plan.Step{Name: "ramp", Concurrency: 5, StagedConcurrency: true,
		Stages: []load.Stage{{Duration: time.Second, Target: 64}}, Duration: time.Second}
	sh, err = Step(closed, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Step.Concurrency != 1 || sh.Step.Stages[0].Target != 16 || sh.Skip {
		t.Errorf("closed stages share %+v skip %v", sh.Step, sh.Skip)
	}
}

func TestStepBursty(t *testing.T) {
	s := plan.Step{Name: "b", Arrival: load.ArrivalBursty, BurstSize: 5, BurstIdle: time.Second, Duration: time.Second}
	sum := 0
	for i := range 4 {
		sh, err := Step(s, i, 4)
		if err != nil {
			t.Fatal(err)
		}
		sum += sh.Step.BurstSize
		if sh.Step.BurstIdle != time.Second {
			t.Errorf("loader %d: idle %v", i, sh.Step.BurstIdle)
		}
	}
	if sum != 5 {
		t.Errorf("burst sizes add up to %d, want 5", sum)
	}
}

func TestStepRejects(t *testing.T) {
	if _, err := Step(plan.Step{Name: "t", Schedule: &load.Schedule{Offsets: []time.Duration{0}}}, 0, 2); !errors.Is(err, ErrUnsplittable) {
		t.Errorf("trace replay: %v, want ErrUnsplittable", err)
	}
	for _, c := range [][2]int{{-1, 2}, {2, 2}, {0, 0}} {
		if _, err := Step(plan.Step{Concurrency: 1}, c[0], c[1]); err == nil {
			t.Errorf("loader %d of %d: no error", c[0], c[1])
		}
	}
}

func TestParticipants(t *testing.T) {
	got, err := Participants(plan.Step{Concurrency: 2, Requests: 100}, 4)
	if err != nil || len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("Participants = %v, %v; want [0 1]", got, err)
	}
}

func TestConstantPhasesInterleave(t *testing.T) {
	// Four loaders at 25/s each, phase-shifted: their sends merged are one
	// send every 10 ms, as one loader at 100/s.
	var dues []time.Duration
	for i := range 4 {
		p := load.ConstantPacer{PerSecond: 25, Phase: Phase(100, i, 4)}
		for k := range uint64(5) {
			dues = append(dues, p.Due(k))
		}
	}
	seen := map[time.Duration]bool{}
	for _, d := range dues {
		if d%(10*time.Millisecond) != 0 || seen[d] {
			t.Fatalf("sends at %v: not one every 10 ms", dues)
		}
		seen[d] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct sends, want 20", len(seen))
	}
}

func TestClockCheck(t *testing.T) {
	coord := &result.Clock{Against: "the API server", OffsetMs: 10, UncertaintyMs: 2, Probes: 40}
	withClock := func(off, unc float64) *result.File {
		return &result.File{Environment: &result.Environment{Clock: &result.Clock{Against: "the API server", OffsetMs: off, UncertaintyMs: unc}}}
	}
	for _, tc := range []struct {
		name         string
		files        []*result.File
		warnings     int
		want, reject string
	}{
		{"all close", []*result.File{withClock(12, 1), withClock(-20, 3)}, 0, "the farthest, loader 1, is 30.0 ms behind the coordinator's (±5.0 ms)", ""},
		{"one far ahead", []*result.File{withClock(12, 1), withClock(90, 3)}, 1, "loader 1, is 80.0 ms ahead", ""},
		{"over only within the uncertainty", []*result.File{withClock(65, 10)}, 0, "Clocks: 1 loader measured against the API server; the farthest, loader 0, is 55.0 ms ahead", ""},
		{"one lost, one without a clock", []*result.File{nil, {}, withClock(10, 1)}, 0, "loaders [1] did not measure theirs", ""},
		{"none measured", []*result.File{{}}, 0, "no loader measured its clock", "farthest"},
	} {
		w, s := ClockCheck(coord, tc.files, 50*time.Millisecond)
		if len(w) != tc.warnings || !strings.Contains(s, tc.want) || (tc.reject != "" && strings.Contains(s, tc.reject)) {
			t.Errorf("%s: warnings %q, summary %q; want %d warnings and %q", tc.name, w, s, tc.warnings, tc.want)
		}
	}
	if w, s := ClockCheck(nil, []*result.File{withClock(500, 1)}, 50*time.Millisecond); w != nil || s != "" {
		t.Errorf("no coordinator clock: %q %q, want nothing (local loaders share the machine's clock)", w, s)
	}
}

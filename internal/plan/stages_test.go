package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
)

const stageDep = "deployments:\n  - name: a\n    protocol: kserve-grpc\n    url: 127.0.0.1:1\n    model: m\n"

func TestStagesAndSchedules(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trace.txt"), []byte("# ms\n0\n2.5\n10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := stageDep + `steps:
  - name: ramp
    rate: 10
    arrival: poisson
    stages:
      - {duration: 30s, target: 400}
      - {duration: 1m, target: 400, ramp: false}
  - name: users
    concurrency: 1
    stages: [{duration: 10s, target: 16}]
  - name: replay
    schedule: trace.txt
    schedule_speed: 2x
  - name: looped
    schedule: trace.txt
    schedule_loop: true
    duration: 5s
  - name: bursts
    arrival: bursty
    burst_size: 8
    burst_idle: 200ms
    requests: 80
`
	path := filepath.Join(dir, "plan.yaml")
	p, err := Parse(path, []byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	ramp := p.Steps[0]
	if !ramp.Open() || ramp.Rate != 10 || ramp.Arrival != load.ArrivalPoisson || ramp.Duration != 90*time.Second ||
		len(ramp.Stages) != 2 || ramp.Stages[0] != (load.Stage{Duration: 30 * time.Second, Target: 400}) || !ramp.Stages[1].Hold {
		t.Errorf("ramp step: %+v", ramp)
	}
	if u := p.Steps[1]; u.Open() || !u.StagedConcurrency || u.Concurrency != 1 || u.Duration != 10*time.Second {
		t.Errorf("closed-loop stages: %+v", u)
	}
	if r := p.Steps[2]; !r.Open() || r.Requests != 3 || r.ScheduleSpeed != 2 || len(r.Schedule.Offsets) != 3 || r.SchedulePath != "trace.txt" {
		t.Errorf("replay step: %+v", r)
	}
	if l := p.Steps[3]; !l.ScheduleLoop || l.Duration != 5*time.Second || l.Requests != 0 {
		t.Errorf("looped step: %+v", l)
	}
	if b := p.Steps[4]; !b.Open() || b.Arrival != load.ArrivalBursty || b.BurstSize != 8 || b.BurstIdle != 200*time.Millisecond {
		t.Errorf("bursty step: %+v", b)
	}
	if got := ramp.Load(); got != "2 stages up to 400/s for 1m30s" {
		t.Errorf("Load() = %q", got)
	}
	// written and read back, the same steps
	out, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(path, out, env(nil))
	if err != nil {
		t.Fatalf("written as\n%s\nread back: %v", out, err)
	}
	for i, s := range again.Steps {
		if s.Load() != p.Steps[i].Load() || len(s.Stages) != len(p.Steps[i].Stages) || s.Arrival != p.Steps[i].Arrival {
			t.Errorf("step %d read back as %q, was %q", i, s.Load(), p.Steps[i].Load())
		}
	}
	q := Quick(p.Steps)
	if q[0].Duration != 9*time.Second || q[0].Stages[0].Duration != 3*time.Second || p.Steps[0].Stages[0].Duration != 30*time.Second {
		t.Errorf("quick: %v (was %v)", q[0].Duration, p.Steps[0].Stages)
	}
}

func TestBadStagesAndSchedules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("back.txt", "0\n5\n3\n")
	write("garbage.txt", "0\n1\nten\n")
	steps := stageDep + "steps:\n  - "
	for _, tt := range []struct{ name, yaml, want string }{
		{"zero stage duration", steps + "stages: [{duration: 0s, target: 5}]\n", `p.yaml:7:25: step "step-1" stage 1 duration: "0s" must be positive`},
		{"negative stage duration", steps + "stages: [{duration: 10s, target: 5}, {duration: -1s, target: 5}]\n", `step "step-1" stage 2 duration: "-1s" must be positive`},
		{"target not a number", steps + "stages: [{duration: 10s, target: lots}]\n", `p.yaml:7:38: steps[0].stages[0].target: "lots" is not a number`},
		{"negative target", steps + "stages: [{duration: 10s, target: -3}]\n", `p.yaml:7:38: step "step-1" stage 1: target -3 must be a finite number not below 0`},
		{"no target", steps + "stages: [{duration: 10s}]\n", `has no target`},
		{"all zero", steps + "stages: [{duration: 10s, target: 0}]\n", `nothing would be sent`},
		{"stages and duration", steps + "stages: [{duration: 10s, target: 5}]\n    duration: 20s\n", `p.yaml:8:15: step "step-1": the stages set the step's length (10s): give no requests or duration`},
		{"stages from both", steps + "stages: [{duration: 10s, target: 5}]\n    rate: 1\n    concurrency: 2\n", `give concurrency (closed-loop stages from it) or rate`},
		{"closed stages from 0", steps + "stages: [{duration: 10s, target: 5}]\n    concurrency: 0\n", `concurrency 0 (the closed-loop stages' start) must be at least 1`},
		{"poisson closed stages", steps + "stages: [{duration: 10s, target: 5}]\n    concurrency: 1\n    arrival: poisson\n", `arrival applies to open-loop stages`},
		{"non-monotonic schedule", steps + "schedule: back.txt\n", `p.yaml:7:15: step "step-1": ` + filepath.Join(dir, "back.txt") + `:3: offset 3 ms comes before the previous line's 5 ms`},
		{"garbage schedule", steps + "schedule: garbage.txt\n", filepath.Join(dir, "garbage.txt") + `:3: "ten" is not an offset in milliseconds`},
		{"missing schedule", steps + "schedule: none.txt\n", `none.txt: no such file`},
		{"schedule and rate", steps + "schedule: back.txt\n    rate: 3\n", `p.yaml:8:11: step "step-1": a schedule sets the send times: give no concurrency, rate or arrival`},
		{"speed", stageDep + "steps:\n  - {schedule: " + filepath.Join(dir, "garbage.txt") + ", schedule_speed: fast}\n", `garbage.txt:3`},
		{"speed without schedule", steps + "rate: 3\n    requests: 3\n    schedule_speed: 2x\n", `schedule_speed applies to a step with a schedule only`},
		{"bursty without size", steps + "arrival: bursty\n    burst_idle: 1s\n    requests: 3\n", `arrival bursty needs burst_size`},
		{"bursty without idle", steps + "arrival: bursty\n    burst_size: 4\n    requests: 3\n", `arrival bursty needs burst_idle`},
		{"bursty with rate", steps + "arrival: bursty\n    burst_size: 4\n    burst_idle: 1s\n    rate: 4\n    requests: 3\n", `give no concurrency or rate`},
		{"bursty stages", steps + "stages: [{duration: 10s, target: 5}]\n    arrival: bursty\n    burst_size: 2\n    burst_idle: 1s\n", `p.yaml:8:14: step "step-1": stages ramp a constant or poisson rate: arrival bursty does not combine with them`},
		{"burst size alone", steps + "rate: 3\n    requests: 3\n    burst_size: 4\n", `burst_size applies to a step with arrival: bursty only`},
	} {
		_, err := Parse(filepath.Join(dir, "p.yaml"), []byte(tt.yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !IsPlanError(err) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	write("ok.txt", "0\n1\n2\n")
	if _, err := Parse(filepath.Join(dir, "p.yaml"), []byte(steps+"schedule: ok.txt\n    requests: 4\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "requests 4: the schedule sends 3 (add schedule_loop: true to repeat it)") {
		t.Errorf("more requests than the trace: %v", err)
	}
}

// TestReadmeRampPlan: the README's ramp plan parses, and its mean rate
// is the one the README gives.
func TestReadmeRampPlan(t *testing.T) {
	text, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(text), "## Ramps, bursts and autoscaling")
	_, rest, ok2 := strings.Cut(rest, "```yaml\n")
	yaml, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no ramp plan")
	}
	p, err := Parse("README.md", []byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Steps[0]
	pacer, err := load.NewStagedPacer(s.Stages, s.Rate, false, 1)
	if err != nil || s.Duration != 6*time.Minute || pacer.Rate() != 302.5 || !strings.Contains(string(text), "here 302.5/s") {
		t.Errorf("duration %v, mean rate %v (%v)", s.Duration, pacer.Rate(), err)
	}
}

package analyze

import (
	"reflect"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/observe"
	"github.com/inferbench/inferbench/internal/result"
)

// measuredRun is a closed-loop level that went well: 100 sent, 100 answered.
func measuredRun(c int) result.Run {
	return result.Run{Deployment: result.Deployment{Name: "d", URL: "u", Protocol: "p"},
		Load: result.Load{Mode: result.ModeConcurrency, Concurrency: c}, Status: result.StatusOK,
		Warmup: result.Warmup{Attempted: 5, Succeeded: 5}, Counts: result.Counts{Sent: 100, OK: 100},
		ThroughputRPS: 100, LatencyMs: measure.Latency{P50: 10, P99: 20}, Client: result.Client{CPUPercent: 20, Cores: 4}}
}

func TestJudgeRun(t *testing.T) {
	with := func(c int, change func(*result.Run)) result.Run {
		r := measuredRun(c)
		change(&r)
		return r
	}
	differ := &result.OutputCheck{Deployments: []result.DeploymentOutputs{{Name: "other", Status: result.OutputReference}, {Name: "d", Status: result.OutputDiffers, Detail: "img.png: 3 boxes, 2"}}}
	tests := []struct {
		name    string
		run     result.Run
		outputs *result.OutputCheck
		band    string
		notes   []string // prefixes, one per note
		invalid []string // prefixes, one per reason
		facts   result.Facts
	}{
		{name: "quiet", run: measuredRun(4), band: "excellent"},
		{name: "5% is still excellent", run: with(4, func(r *result.Run) { r.ErrorRate = 0.05 }), band: "excellent"},
		{name: "errors", run: with(4, func(r *result.Run) { r.ErrorRate = 0.3 }), band: "poor", notes: []string{"error rate poor: too many errors"}},
		{name: "overloaded", run: with(4, func(r *result.Run) { r.ErrorRate = 0.6 }), band: "overloaded", notes: []string{"error rate overloaded: system overloaded"}},
		{name: "a stored band is not read", run: with(4, func(r *result.Run) {
			r.ErrorRate = 0.3
			r.Assessment = result.Assessment{ErrorBand: "excellent", Notes: []string{}}
			r.Facts = &result.Facts{}
		}), band: "poor", notes: []string{"error rate poor"}},
		{name: "failed", run: with(4, func(r *result.Run) {
			r.Status, r.Failure, r.Counts = result.StatusFailed, "warmup failed: 0/5", result.Counts{}
		}), invalid: []string{"not measured: warmup failed: 0/5"}},
		{name: "failed at a stress level: warned", run: with(128, func(r *result.Run) {
			r.Status, r.Failure, r.Counts = result.StatusFailed, "warmup failed", result.Counts{}
		}), notes: []string{"concurrency 128 is in the breaking-point zone"}, invalid: []string{"not measured: warmup failed"}},
		{name: "unreachable at a stress level: not warned", run: with(128, func(r *result.Run) {
			r.Status, r.Failure, r.Counts, r.Warmup = result.StatusFailed, "deployment failed its check", result.Counts{}, result.Warmup{}
		}), invalid: []string{"not measured: deployment failed its check"}},
		{name: "stress", run: measuredRun(60), band: "excellent", notes: []string{"concurrency 60 is above 50"}},
		{name: "interrupted", run: with(4, func(r *result.Run) { r.Status = result.StatusInterrupted }), band: "excellent", notes: []string{"interrupted: "}},
		{name: "client CPU", run: with(4, func(r *result.Run) { r.Client.CPUPercent = 390 }), band: "excellent", notes: []string{"the client used 390% CPU of the machine's 4 cores"}},
		{name: "late sends", run: with(0, func(r *result.Run) {
			r.Load = result.Load{Mode: result.ModeRate, Rate: 100}
			r.Client.LateSends = 5
		}), band: "excellent", notes: []string{"5 of 100 sends (5.0%) left more than 2 ms"}},
		{name: "unstable", run: with(4, func(r *result.Run) {
			r.Stability = &result.Stability{Windows: 6, Note: "NOT stable after 6 windows"}
		}), band: "excellent", notes: []string{"not stable: NOT stable after 6 windows; its numbers are less certain"}},
		{name: "stable", run: with(4, func(r *result.Run) { r.Stability = &result.Stability{Stable: true, Windows: 3} }), band: "excellent"},
		{name: "server: queueing", run: with(4, func(r *result.Run) {
			r.Server = &observe.Breakdown{Samples: 2, Success: 105, QueueMs: 7, CPUUtil: -1, GPUUtil: -1}
		}), band: "excellent", notes: []string{"p50 10.00 ms = queue 7.00", "queueing dominates: 7.00 ms of the 10.00 ms p50"}},
		{name: "server: another client", run: with(4, func(r *result.Run) {
			r.Server = &observe.Breakdown{Samples: 2, Success: 300, CPUUtil: -1, GPUUtil: -1}
		}), band: "excellent", notes: []string{"p50 10.00 ms = queue 0.00", "the server counted 300 successes, the client 100"}},
		{name: "pods", run: with(4, func(r *result.Run) {
			r.Pods = &result.Pods{Pods: []result.Pod{{Name: "a", Phase: "Running", Ready: true, RestartsAfter: 1, LastTermination: "OOMKilled", CPULimitMilli: 1000, CPUMilliMax: 1000}}}
		}), band: "excellent", notes: []string{"CPU at limit: pod a"}, invalid: []string{"pod a was OOM-killed during the step"}},
		{name: "outputs differ", run: measuredRun(4), outputs: differ, band: "excellent",
			notes:   []string{"its outputs differ from the other deployments' for the same image: img.png"},
			invalid: []string{"its outputs differ"}},
		{name: "facts are kept", run: with(4, func(r *result.Run) {
			r.Facts = &result.Facts{Notes: []string{"memory: 16 requests in flight"}, Invalid: []string{"the server restarted during the step"}}
		}), band: "excellent", invalid: []string{"the server restarted"},
			facts: result.Facts{Notes: []string{"memory: 16 requests in flight"}, Invalid: []string{"the server restarted during the step"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := JudgeRun(&tt.run, nil, tt.outputs)
			if j.Band.Name != tt.band {
				t.Errorf("band %q, want %q", j.Band.Name, tt.band)
			}
			prefixes(t, "notes", j.Notes, tt.notes)
			prefixes(t, "invalid", j.Invalid, tt.invalid)
			if j.Valid() != (len(tt.invalid) == 0) {
				t.Errorf("valid %v with reasons %q", j.Valid(), j.Invalid)
			}
			if !reflect.DeepEqual(j.Facts, tt.facts) {
				t.Errorf("facts %+v, want %+v", j.Facts, tt.facts)
			}
			if (j.ClientLimit != "") != strings.HasPrefix(tt.name, "client") && tt.name != "late sends" {
				t.Errorf("client limit %q", j.ClientLimit)
			}
		})
	}
}

func prefixes(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s %q, want %d: %q", what, got, len(want), want)
		return
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("%s[%d] = %q, want it to start with %q", what, i, got[i], want[i])
		}
	}
}

func TestJudgeBaselines(t *testing.T) {
	run := func(name, url string, c int, p50 float64, status string) result.Run {
		r := measuredRun(c)
		r.Deployment = result.Deployment{Name: name, URL: url, Protocol: "p"}
		r.LatencyMs = measure.Latency{P50: p50, P99: 2 * p50}
		r.Status = status
		if status == result.StatusFailed {
			r.Counts = result.Counts{}
		}
		return r
	}
	f := &result.File{Runs: []result.Run{
		run("a", "u", 1, 0, result.StatusFailed), // not measured: not a baseline
		run("a", "u", 2, 10, result.StatusOK),    // the baseline
		run("b", "u", 1, 5, result.StatusOK),
		run("a", "u", 8, 25, result.StatusOK),
		run("a", "other", 8, 40, result.StatusOK), // another URL: its own baseline
		run("b", "u", 16, 20, result.StatusOK),
		run("a", "u", 4, 0, result.StatusFailed),
	}}
	want := []struct {
		p50x  float64
		check string
	}{{0, ""}, {1, "realistic check passed"}, {1, ""}, {2.5, "realistic check FAILED: 0.0% errors (limit 5%), p50 2.50x baseline (limit 2x)"}, {1, "realistic check passed"}, {4, "heavy check FAILED"}, {0, ""}}
	for i, j := range Judge(f) {
		if j.LatencyVsBaselineP50 != want[i].p50x || j.LatencyVsBaselineP99 != want[i].p50x || !strings.HasPrefix(j.Check, want[i].check) || (want[i].check == "") != (j.Check == "") {
			t.Errorf("run %d: p50 %vx, p99 %vx, check %q; want %vx, %q", i, j.LatencyVsBaselineP50, j.LatencyVsBaselineP99, j.Check, want[i].p50x, want[i].check)
		}
	}
	// c=8 is measured twice (u, then other): the last run is kept, with
	// its own URL's baseline.
	if pts := Points(f.Runs, "a"); len(pts) != 2 || pts[0].LatencyX != 1 || pts[1].LatencyX != 1 {
		t.Errorf("points %+v", pts)
	}
}

// TestFactsOfAnOldFile: a run written before facts were kept apart has
// them among its stored notes and reasons; the judgement's own are told
// apart by their shape.
func TestFactsOfAnOldFile(t *testing.T) {
	r := measuredRun(16)
	r.Assessment.Notes = []string{
		"the client used 390% CPU of the machine's 4 cores: it, not the server, probably limited this result",
		"12 of 100 sends (12.0%) left more than 2 ms after their intended time: the client could not keep the schedule, so the load was lower than asked",
		"interrupted: the numbers cover the requests answered until then",
		"error rate poor: too many errors: reduce concurrency",
		"concurrency 60 is above 50, a stress level: expect heavy queueing and errors; 8-16 is the realistic range for most benchmarks",
		"server metrics: scrape http://x:8002/metrics: connection refused",
		"p50 -1.20 ms = queue 0.00 + compute 1.00 + network/client -2.20 ms (server means over 5 requests)",
		"the server counted 300 successes, the client 100: another client shares the server, or the metrics belong to another model or pod",
		"queueing dominates: 1 ms", "batching works: 2", "CPU bottleneck: 3",
		"pod checks: the last look at the pods failed: timeout",
		"CPU at limit: pod a used", "memory near limit: pod a used", "pod a was not ready at the end of the step (phase Pending)",
		"OOM risk: 100 MB per in-flight request",
		"not stable: NOT stable after 6 windows; its numbers are less certain",
		"memory: 16 requests in flight x 100 MB per request = 1.6 GB",
		"its outputs differ from the other deployments' for the same image: x",
	}
	r.Validity = &result.Validity{Reasons: []string{
		"the server restarted during the step (its restart count went up or its counters went back): the pod was probably OOM-killed",
		"pod a was OOM-killed during the step (restarts 0 -> 1): its memory limit is too small for this load",
		"pod b restarted during the step (restarts 0 -> 1)", "pod c went away during the step (deleted, evicted or replaced)",
		"its outputs differ from the other deployments' for the same image: x",
		"not measured: boom",
	}}
	want := result.Facts{
		Notes: []string{"server metrics: scrape http://x:8002/metrics: connection refused", "pod checks: the last look at the pods failed: timeout",
			"OOM risk: 100 MB per in-flight request", "memory: 16 requests in flight x 100 MB per request = 1.6 GB"},
		Invalid: []string{"the server restarted during the step (its restart count went up or its counters went back): the pod was probably OOM-killed"},
	}
	if got := FactsOf(&r); !reflect.DeepEqual(got, want) {
		t.Errorf("facts\n%q\nwant\n%q", got, want)
	}
	// Once recorded apart, the stored notes are not read again.
	r.Facts = &result.Facts{}
	if got := FactsOf(&r); len(got.Notes)+len(got.Invalid) != 0 {
		t.Errorf("facts %q", got)
	}
}

// TestRecord: the copy the file keeps is the judgement with the facts
// after it; recording again changes nothing; Judged leaves its input be.
func TestRecord(t *testing.T) {
	r := measuredRun(8)
	r.ErrorRate = 0.3
	r.Assessment = result.Assessment{ErrorBand: "excellent", Notes: []string{"memory: 8 requests in flight x 1 GB", "error rate excellent: old words"}}
	f := &result.File{Runs: []result.Run{measuredRun(1), r}}
	f.Runs[1].LatencyMs.P50 = 30
	judged := Judged(f)
	if f.Runs[1].Facts != nil || f.Runs[1].Assessment.ErrorBand != "excellent" || f.Runs[1].Validity != nil {
		t.Errorf("Judged changed its input: %+v", f.Runs[1])
	}
	got := judged.Runs[1]
	want := result.Assessment{ErrorBand: "poor", LatencyVsBaselineP50: 3, LatencyVsBaselineP99: 1,
		Check: "realistic check FAILED: 30.0% errors (limit 5%), p50 3.00x baseline (limit 2x)",
		Notes: []string{"error rate poor: too many errors: reduce concurrency", "memory: 8 requests in flight x 1 GB"}}
	if !reflect.DeepEqual(got.Assessment, want) {
		t.Errorf("assessment\n%+v\nwant\n%+v", got.Assessment, want)
	}
	if got.Validity == nil || !got.Validity.Valid || got.Facts == nil || len(got.Facts.Notes) != 1 || got.Client.Limited {
		t.Errorf("validity %+v, facts %+v, client %+v", got.Validity, got.Facts, got.Client)
	}
	again := Judged(judged)
	if !reflect.DeepEqual(again, judged) {
		t.Errorf("judging a judged file changed it:\n%+v\n%+v", again.Runs[1], judged.Runs[1])
	}
	Record(f)
	if !reflect.DeepEqual(f, judged) {
		t.Errorf("Record and Judged differ")
	}
}

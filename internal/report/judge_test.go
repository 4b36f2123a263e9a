package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/observe"
	"github.com/inferbench/inferbench/internal/result"
)

// v1Files are result files written by the code of b2cf551, before the
// judgement was recomputed at rendering: one of `inferbench demo` (a plan,
// server metrics, an output check), one of `inferbench sweep --preset
// field-guide --pod-memory-limit 1GB` (searches, stability, memory checks).
var v1Files = []string{"v1-demo", "v1-sweep"}

func readFixture(t *testing.T, name string) *result.File {
	t.Helper()
	f, err := result.Read(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOldFilesRenderAsBefore: a v1 file renders as that code rendered it
// (testdata/*.golden, by its `inferbench report`), with the judgement now
// recomputed: the rules have not changed, so neither has the report.
func TestOldFilesRenderAsBefore(t *testing.T) {
	for _, name := range v1Files {
		f := readFixture(t, name)
		for _, format := range []string{"text", "md", "csv", "html"} {
			want, err := os.ReadFile(filepath.Join("testdata", name+"."+format+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if got := render(t, format, f); got != string(want) {
				t.Errorf("%s %s differs from the old rendering:\n%s", name, format, firstDiff(got, string(want)))
			}
		}
	}
}

// firstDiff shows where two renderings part.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return "got:  ..." + got[from:min(len(got), i+200)] + "\nwant: ..." + want[from:min(len(want), i+200)]
}

// richFile has a run of every kind of judgement: errors, a stress level, a
// client that limited the result, an interrupted level, an unstable one, a
// server breakdown, pods that restarted and ran at their limits, outputs
// that differ, and facts (a server restart, a memory check).
func richFile() *result.File {
	f := sample()
	dep := f.Runs[0].Deployment
	other := result.Deployment{Name: "triton", Protocol: "kserve-http", URL: "http://127.0.0.1:8000", Model: "yolov8n"}
	ok := func(d result.Deployment, c int, p50, errRate float64) result.Run {
		return result.Run{Deployment: d, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: c, Requests: 200}, Status: result.StatusOK,
			Warmup: result.Warmup{Attempted: 10, Succeeded: 10}, Counts: result.Counts{Sent: 200, OK: int64(200 * (1 - errRate)), Errors: int64(200 * errRate)},
			ErrorRate: errRate, ThroughputRPS: 300, LatencyMs: measure.Latency{P50: p50, P90: 1.2 * p50, P95: 1.3 * p50, P99: 1.5 * p50, P999: 2 * p50},
			Client: result.Client{CPUPercent: 50, Cores: 2}}
	}
	limited := ok(dep, 8, 16, 0.12)
	limited.Client.CPUPercent = 190
	interrupted := ok(dep, 16, 30, 0)
	interrupted.Status = result.StatusInterrupted
	unstable := ok(other, 1, 5, 0)
	unstable.Stability = &result.Stability{Windows: 6, WindowRequests: 50, ThroughputSpread: 0.3, Note: "NOT stable after 6 windows (throughput spread 30%, p50 spread 2%)"}
	unstable.Server = &observe.Breakdown{Samples: 3, Success: 210, QueueMs: 3, ComputeInferMs: 1.5, AvgBatchSize: 1, CPUUtil: -1, GPUUtil: -1}
	pods := ok(other, 4, 9, 0.02)
	pods.Pods = &result.Pods{Namespace: "ml", Selector: "app=triton", Metrics: true, Pods: []result.Pod{{Name: "triton-0", Phase: "Running", Ready: true,
		RestartsBefore: 0, RestartsAfter: 1, LastTermination: "OOMKilled", CPULimitMilli: 2000, CPUMilliMax: 1990, MemoryLimitBytes: 4e9, MemoryBytesMax: 3.9e9}}}
	pods.Note("memory: 4 requests in flight x 1.2 GB per request = 4.8 GB, above the pod's limit of 4.0 GB")
	restarted := ok(other, 8, 12, 0)
	restarted.Invalidate("the server restarted during the step (its restart count went up or its counters went back): the pod was probably OOM-killed")
	f.Runs = append(f.Runs, limited, interrupted, unstable, pods, restarted)
	f.OutputCheck = &result.OutputCheck{Images: []string{"a.png"}, Verdict: result.OutputsDiffer, Deployments: []result.DeploymentOutputs{
		{Name: dep.Name, Boxes: []int{3}, Status: result.OutputReference}, {Name: other.Name, Boxes: []int{2}, Status: result.OutputDiffers, Detail: "a.png: 2 boxes against 3"}}}
	return f
}

// corrupt overwrites every copy of a judgement a file keeps with nonsense
// (the facts stay: they are not judgement).
func corrupt(f *result.File) {
	for i := range f.Runs {
		r := &f.Runs[i]
		if r.Facts == nil {
			r.Facts = &result.Facts{}
		}
		r.Assessment = result.Assessment{ErrorBand: "excellent", LatencyVsBaselineP50: 99, LatencyVsBaselineP99: 99, Check: "bogus check", Notes: []string{"bogus note"}}
		r.Validity = &result.Validity{Valid: true, Reasons: []string{}}
		r.Client.Limited, r.Client.Warning = true, "bogus warning"
	}
}

// TestReportsRecomputeTheJudgement: whatever judgement a file keeps,
// intact, blank or corrupt, every format renders the same one, recomputed;
// JSON included, whose copy of the judgement is the recomputed one.
func TestReportsRecomputeTheJudgement(t *testing.T) {
	files := map[string]func() *result.File{"rich": richFile}
	for _, name := range v1Files {
		files[name] = func() *result.File { return readFixture(t, name) }
	}
	for name, file := range files {
		intact := file()
		analyze.Record(intact) // the facts set apart, as a file of this code keeps them
		blank := file()
		analyze.Record(blank)
		for i := range blank.Runs {
			r := &blank.Runs[i]
			r.Assessment, r.Validity, r.Client.Limited, r.Client.Warning = result.Assessment{}, nil, false, ""
		}
		bogus := file()
		analyze.Record(bogus)
		corrupt(bogus)
		for _, format := range Formats {
			want := render(t, format, intact)
			for what, f := range map[string]*result.File{"blank": blank, "corrupt": bogus} {
				if got := render(t, format, f); got != want {
					t.Errorf("%s %s, %s judgement: the report differs:\n%s", name, format, what, firstDiff(got, want))
				}
			}
			if strings.Contains(want, "bogus") {
				t.Errorf("%s %s renders a stored judgement", name, format)
			}
		}
	}
	// The rich file shows every kind of judgement.
	out := render(t, "text", richFile())
	for _, want := range []string{
		"WARNING: nim-grpc c=8: the client used 190% CPU of the machine's 2 cores",
		"12.0% marginal", "note: error rate marginal: errors are significant: reduce concurrency",
		"note: concurrency 64 is above 50, a stress level", "note: concurrency 128 is in the breaking-point zone",
		"note: interrupted: the numbers cover the requests answered until then",
		"note: not stable: NOT stable after 6 windows",
		"note: p50 5.00 ms = queue 3.00 + compute 1.50", "note: queueing dominates",
		"INVALID: pod triton-0 was OOM-killed during the step (restarts 0 -> 1): its memory limit is too small for this load; its outputs differ",
		"note: CPU at limit: pod triton-0", "note: memory near limit: pod triton-0",
		"note: memory: 4 requests in flight x 1.2 GB per request",
		"INVALID: the server restarted during the step",
		"realistic check passed: 2.0% errors (limit 5%), p50 1.80x baseline (limit 2x)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

// TestNewRulesJudgeOldFiles: a file whose stored judgement says
// "excellent" for a level with 30% errors is rendered "poor" in every
// format: the judgement is the rules', not the file's.
func TestNewRulesJudgeOldFiles(t *testing.T) {
	for _, facts := range []bool{false, true} { // an old file, and one with its facts apart
		f := sample()
		r := &f.Runs[1]
		r.ErrorRate, r.Counts = 0.3, result.Counts{Sent: 500, OK: 350, Errors: 150}
		r.Assessment = result.Assessment{ErrorBand: "excellent", LatencyVsBaselineP50: 1, Notes: []string{}}
		if facts {
			r.Facts = &result.Facts{}
		}
		for format, want := range map[string][]string{
			"text": {"30.0% poor", "note: error rate poor: too many errors: reduce concurrency", "9.88x"},
			"md":   {"30.0% poor", "9.88x"},
			"csv":  {",0.3,poor,", ",9.88,43.48,"},
			"html": {"30.0% poor", "error rate poor: too many errors"},
			"json": {`"error_band": "poor"`, `"latency_vs_baseline_p50": 9.88`, `"error rate poor: too many errors: reduce concurrency"`},
		} {
			out := render(t, format, f)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("facts apart %v, %s lacks %q", facts, format, w)
				}
			}
			for _, stale := range []string{"30.0% excellent", ",0.3,excellent,"} {
				if strings.Contains(out, stale) {
					t.Errorf("facts apart %v, %s still says %q", facts, format, stale)
				}
			}
		}
	}
}

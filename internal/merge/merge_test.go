package merge

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/observe"
	"github.com/inferbench/inferbench/internal/result"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

var dep = result.Deployment{Name: "nim-grpc", Protocol: "kserve-grpc", URL: "127.0.0.1:8021", Model: "yolov8n"}

// shardRun is a run of concurrency 16 with the given latencies, measured
// over [start, end) with a one-second timeline built from secondOf.
func shardRun(start, end time.Time, lat []time.Duration, secondOf []int, errs int64) result.Run {
	h := measure.NewHistogram()
	for _, d := range lat {
		h.Record(d)
	}
	var tl []measure.Interval
	for s := start.Truncate(time.Second); s.Before(end); s = s.Add(time.Second) {
		iv := measure.Interval{Start: s, DurationS: 1}
		if s.Before(start) {
			iv.Start, iv.DurationS = start, s.Add(time.Second).Sub(start).Seconds()
		}
		if e := s.Add(time.Second); e.After(end) {
			iv.DurationS = end.Sub(iv.Start).Seconds()
		}
		sh := measure.NewHistogram()
		for i, d := range lat {
			if secondOf[i] == int(s.Sub(t0)/time.Second) {
				sh.Record(d)
			}
		}
		iv.Sent, iv.OK, iv.InFlight = sh.Count(), sh.Count(), 16
		if sh.Count() > 0 {
			iv.Histogram = sh.MustEncode()
		}
		tl = append(tl, iv)
	}
	tl[0].Sent += errs
	tl[0].Errors = map[string]int64{measure.ClassTimeout: errs}
	n := int64(len(lat))
	return result.Run{
		Step: "c=16", Deployment: dep, Status: result.StatusOK,
		Load:       result.Load{Mode: result.ModeConcurrency, Concurrency: 16, Requests: int(n + errs)},
		Warmup:     result.Warmup{Attempted: 10, Succeeded: 9, Errors: []measure.ErrorGroup{{Class: measure.ClassTimeout, Count: 1, Example: "deadline exceeded"}}},
		Counts:     result.Counts{Sent: n + errs, OK: n, Errors: errs},
		Errors:     []measure.ErrorGroup{{Class: measure.ClassTimeout, Count: errs, Example: "deadline exceeded"}},
		LatencyMs:  h.Summary(),
		ElapsedS:   end.Sub(start).Seconds(),
		Client:     result.Client{CPUPercent: 40, Cores: 2},
		Payload:    &result.Payload{RequestBytes: 100, ResponseBytes: 1000},
		Started:    &start,
		Ended:      &end,
		Histograms: &result.Histograms{Latency: h.MustEncode()},
		Timeline:   tl,
	}
}

// TestMergeIsExact splits one recorded set of latencies into four runs,
// merges them, and finds every count and percentile of the single
// histogram, over the whole run and in every second of its timeline.
func TestMergeIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40000
	whole := measure.NewHistogram()
	perSecond := make([]*measure.Histogram, 11)
	for i := range perSecond {
		perSecond[i] = measure.NewHistogram()
	}
	lat := make([][]time.Duration, 4)
	secs := make([][]int, 4)
	for range n {
		// A long-tailed distribution from 100 µs to minutes.
		d := time.Duration(math.Exp(rng.NormFloat64()*1.5+9.5)) * time.Microsecond / 10
		if rng.IntN(1000) == 0 {
			d = time.Duration(rng.IntN(300)) * time.Second
		}
		shard := rng.IntN(4)
		// Shard k measures from t0 + k×100 ms to t0 + 10 s + k×100 ms.
		sec := rng.IntN(10)
		whole.Record(d)
		perSecond[sec].Record(d)
		lat[shard] = append(lat[shard], d)
		secs[shard] = append(secs[shard], sec)
	}
	var members []Member
	for k := range 4 {
		start := t0.Add(time.Duration(k) * 100 * time.Millisecond)
		members = append(members, Member{Source: string(rune('a'+k)) + ".json", Host: "loader", Run: shardRun(start, start.Add(10*time.Second), lat[k], secs[k], int64(k))})
	}
	got, err := Runs(members)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts != (result.Counts{Sent: n + 6, OK: n, Errors: 6}) || got.Load.Requests != n+6 {
		t.Errorf("counts %+v, requests %d: want %d sent, %d ok, 6 errors", got.Counts, got.Load.Requests, n+6, n)
	}
	if want := whole.Summary(); got.LatencyMs != want {
		t.Errorf("latency %+v, want the single histogram's %+v", got.LatencyMs, want)
	}
	merged, err := measure.DecodeHistogram(got.Histograms.Latency)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Count() != whole.Count() || merged.MaxMs() != whole.MaxMs() {
		t.Errorf("merged count %d max %v, want %d %v", merged.Count(), merged.MaxMs(), whole.Count(), whole.MaxMs())
	}
	for p := 0.0; p <= 100; p += 0.5 {
		if a, b := merged.Percentile(p), whole.Percentile(p); a != b {
			t.Errorf("p%g: merged %v ms, single %v ms", p, a, b)
		}
	}
	for _, p := range []float64{99.9, 99.99, 99.999} {
		if a, b := merged.Percentile(p), whole.Percentile(p); a != b {
			t.Errorf("p%g: merged %v ms, single %v ms", p, a, b)
		}
	}
	// The measured phases overlap: their union is 10.3 s, not 40 s.
	if got.ElapsedS != 10.3 || got.ThroughputRPS != math.Round(n/10.3*100)/100 {
		t.Errorf("elapsed %v s, throughput %v/s: want 10.3 s and %d/10.3", got.ElapsedS, got.ThroughputRPS, n)
	}
	if !got.Started.Equal(t0) || !got.Ended.Equal(t0.Add(10300*time.Millisecond)) {
		t.Errorf("started %v ended %v", got.Started, got.Ended)
	}
	if got.ErrorRate != math.Round(6.0/(n+6)*1e4)/1e4 || len(got.Errors) != 1 || got.Errors[0].Count != 6 {
		t.Errorf("error rate %v, errors %+v", got.ErrorRate, got.Errors)
	}
	if got.Warmup.Attempted != 40 || got.Warmup.Succeeded != 36 || got.Warmup.Errors[0].Count != 4 {
		t.Errorf("warmup %+v", got.Warmup)
	}
	if got.Client.CPUPercent != 160 || got.Client.Cores != 2 {
		t.Errorf("client %+v: want CPU summed (160%%) and the one machine's 2 cores", got.Client)
	}
	// The timeline: 11 seconds (the shards' last partial second is the
	// 11th), sent summing to the total, each second's histogram the
	// single second's.
	var sent, ok int64
	for i, iv := range got.Timeline {
		sent += iv.Sent
		ok += iv.OK
		if !iv.Start.Equal(t0.Add(time.Duration(i) * time.Second)) {
			t.Errorf("interval %d starts at %v", i, iv.Start)
		}
		if i < 10 {
			if iv.InFlight != 64 {
				t.Errorf("interval %d: in flight %d, want 4×16", i, iv.InFlight)
			}
			h, err := measure.DecodeHistogram(iv.Histogram)
			if err != nil {
				t.Fatal(err)
			}
			if h.Count() != perSecond[i].Count() || h.Percentile(99) != perSecond[i].Percentile(99) || iv.LatencyMs.P50 != perSecond[i].Percentile(50) {
				t.Errorf("second %d: %d values p99 %v, want %d p99 %v", i, h.Count(), h.Percentile(99), perSecond[i].Count(), perSecond[i].Percentile(99))
			}
		}
	}
	if len(got.Timeline) != 11 || sent != got.Counts.Sent || ok != got.Counts.OK {
		t.Errorf("timeline of %d intervals: %d sent %d ok, want 11 and %d %d", len(got.Timeline), sent, ok, got.Counts.Sent, got.Counts.OK)
	}
	if got.Facts == nil || !strings.Contains(got.Facts.Notes[0], "merged from 4 runs (a.json, b.json, c.json, d.json), at most 4 at the same time") {
		t.Errorf("facts %+v", got.Facts)
	}
}

func TestRunsKeepsOneLoadersObservations(t *testing.T) {
	a := shardRun(t0, t0.Add(2*time.Second), []time.Duration{time.Millisecond}, []int{0}, 0)
	b := shardRun(t0.Add(5*time.Second), t0.Add(6*time.Second), []time.Duration{3 * time.Millisecond, 5 * time.Millisecond, 7 * time.Millisecond}, []int{5, 5, 5}, 0)
	b.Server = &observe.Breakdown{QueueMs: 1, Success: 4}
	b.Payload = &result.Payload{RequestBytes: 200, ResponseBytes: 2000}
	b.Status = result.StatusInterrupted
	b.Facts = &result.Facts{Invalid: []string{"the server restarted during the step"}}
	got, err := Runs([]Member{{Source: "a.json", Host: "h1", Run: a}, {Source: "b.json", Host: "h2", Run: b}})
	if err != nil {
		t.Fatal(err)
	}
	// Disjoint phases: 2 s + 1 s measured, not the 6 s from first to last.
	if got.ElapsedS != 3 || got.ThroughputRPS != round(4.0/3, 2) {
		t.Errorf("elapsed %v, throughput %v: want 3 s and 4/3", got.ElapsedS, got.ThroughputRPS)
	}
	if got.Server != b.Server || got.Status != result.StatusInterrupted || got.Client.Cores != 4 {
		t.Errorf("server %+v status %s cores %d", got.Server, got.Status, got.Client.Cores)
	}
	if got.Payload.RequestBytes != 175 || got.Payload.ResponseBytes != 1750 {
		t.Errorf("payload %+v: want weighted by sent, 175 and 1750", got.Payload)
	}
	notes := strings.Join(got.Facts.Notes, "\n")
	for _, want := range []string{"at most 1 at the same time", "server: the observation of one loader (b.json)", "2 machine(s)"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if !reflect.DeepEqual(got.Facts.Invalid, []string{"the server restarted during the step"}) {
		t.Errorf("invalid %v", got.Facts.Invalid)
	}
}

func TestUnion(t *testing.T) {
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, tt := range []struct {
		name     string
		spans    [][2]float64
		length   float64
		together int
	}{
		{"one", [][2]float64{{0, 10}}, 10, 1},
		{"side by side", [][2]float64{{0, 10}, {0.5, 10.5}, {1, 9}}, 10.5, 3},
		{"one after the other", [][2]float64{{0, 2}, {5, 6}, {6, 7}}, 4, 1},
		{"nested and apart", [][2]float64{{10, 20}, {0, 1}, {12, 13}, {19, 25}}, 16, 2},
	} {
		var s []span
		for _, x := range tt.spans {
			s = append(s, span{at(x[0]), at(x[1])})
		}
		_, _, length, together := union(s)
		if length.Seconds() != tt.length || together != tt.together {
			t.Errorf("%s: %v s, %d together; want %v s, %d", tt.name, length.Seconds(), together, tt.length, tt.together)
		}
	}
}

func TestUnmergeable(t *testing.T) {
	ok := shardRun(t0, t0.Add(time.Second), []time.Duration{time.Millisecond}, []int{0}, 0)
	rate := ok
	rate.Load = result.Load{Mode: result.ModeRate, Rate: 100, Arrival: "constant"}
	for _, tt := range []struct {
		name   string
		edit   func(r *result.Run)
		schema string
		want   string
	}{
		{"a v2 run", func(*result.Run) {}, result.SchemaV2, ""},
		{"interrupted", func(r *result.Run) { r.Status = result.StatusInterrupted }, result.SchemaV2, ""},
		{"v1", func(r *result.Run) { r.Histograms, r.Started, r.Ended, r.Timeline = nil, nil, nil, nil }, result.SchemaV1, "an inferbench.result/v1 file"},
		{"failed", func(r *result.Run) { r.Status, r.Failure = result.StatusFailed, "every warmup request failed" }, result.SchemaV2, "a failed run (every warmup request failed)"},
		{"sweep level", func(r *result.Run) { r.Stability = &result.Stability{} }, result.SchemaV2, "a sweep's level"},
		{"no bounds", func(r *result.Run) { r.Started = nil }, result.SchemaV2, "no bounds"},
		{"rate without service time", func(r *result.Run) { *r = rate }, result.SchemaV2, "no service-time histogram"},
	} {
		r := ok
		h := *ok.Histograms
		r.Histograms = &h
		tt.edit(&r)
		got := Unmergeable(&r, tt.schema)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDifferences(t *testing.T) {
	base := shardRun(t0, t0.Add(time.Second), []time.Duration{time.Millisecond}, []int{0}, 0)
	for _, tt := range []struct {
		name string
		edit func(r *result.Run)
		want []string
	}{
		{"requests may differ", func(r *result.Run) { r.Load.Requests = 7 }, nil},
		{"concurrency", func(r *result.Run) { r.Load.Concurrency = 32 }, []string{"concurrency 16 vs 32"}},
		{"url and step", func(r *result.Run) { r.Deployment.URL, r.Step = "10.0.0.1:8001", "heavy" },
			[]string{"url 127.0.0.1:8021 vs 10.0.0.1:8001", `step "c=16" vs "heavy"`}},
		{"model version", func(r *result.Run) { r.Deployment.ModelVersion = "2" }, []string{"model version (none) vs 2"}},
		{"duration", func(r *result.Run) { r.Load.DurationS = 30 }, []string{"duration 0s vs 30s"}},
	} {
		r := base
		tt.edit(&r)
		if got := Differences(KeyOf(&base), KeyOf(&r)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMergeGroups(t *testing.T) {
	got := mergeGroups([]measure.ErrorGroup{
		{Class: "timeout", Count: 2, Example: "deadline"}, {Class: "http_status", Count: 3, Example: "HTTP 503"},
		{Class: "timeout", Count: 2, Example: "deadline"}, {Class: "http_status", Count: 1, Example: "HTTP 500"},
	})
	want := []measure.ErrorGroup{{Class: "timeout", Count: 4, Example: "deadline"}, {Class: "http_status", Count: 3, Example: "HTTP 503"}, {Class: "http_status", Count: 1, Example: "HTTP 500"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%+v, want %+v", got, want)
	}
}

func file(complete bool, plan string, runs ...result.Run) *result.File {
	f := result.New("test", t0)
	f.Complete = complete
	f.Environment = &result.Environment{Hostname: "loader", CPUs: 2}
	f.Plan = &result.PlanInfo{Path: "bench", Text: plan}
	f.Runs = runs
	return f
}

// TestFilesSaysWhatMatched merges two files whose runs partly match.
func TestFilesSaysWhatMatched(t *testing.T) {
	run := func(c int, start time.Time) result.Run {
		r := shardRun(start, start.Add(time.Second), []time.Duration{time.Millisecond, 2 * time.Millisecond}, []int{0, 0}, 0)
		r.Load.Concurrency = c
		r.Step = "c=" + string(rune('0'+c))
		return r
	}
	old := file(true, "p", run(4, t0))
	old.Schema = result.SchemaV1
	old.Runs[0].Histograms, old.Runs[0].Started, old.Runs[0].Ended, old.Runs[0].Timeline = nil, nil, nil, nil
	c8 := run(8, t0)
	c8.Step = "c=1"
	out, err := Files([]Input{
		{"a.json", file(true, "p", run(1, t0), run(2, t0), c8)},
		{"b.json", file(false, "q", run(1, t0), run(2, t0.Add(time.Second)))},
		{"old.json", old},
	}, "test", t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"merged 2 runs of nim-grpc/c=1 from a.json, b.json: 4 sent, 4.0 req/s over 1.000 s, p50 1.000 ms, p99 2.000 ms",
		"merged 2 runs of nim-grpc/c=2 from a.json, b.json: 4 sent, 2.0 req/s over 2.000 s, p50 1.000 ms, p99 2.000 ms",
		"kept apart: nim-grpc/c=1 from a.json: no run of the other files has its deployment, step and load (the nearest, b.json's nim-grpc/c=1, differs in concurrency 8 vs 1)",
		"kept apart: nim-grpc/c=4 from old.json: no histograms (an inferbench.result/v1 file): cannot be merged exactly",
		"plan: the files' plans differ; the merged file keeps none",
	}
	if !reflect.DeepEqual(out.Lines, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(out.Lines, "\n"), strings.Join(want, "\n"))
	}
	f := out.File
	if f.Schema != result.SchemaV2 || f.Complete || f.Plan != nil || len(f.Runs) != 4 || out.Merged != 2 || out.Kept != 2 {
		t.Errorf("file: schema %s complete %v plan %v, %d runs (%d merged, %d kept)", f.Schema, f.Complete, f.Plan, len(f.Runs), out.Merged, out.Kept)
	}
	// The judgement is recomputed for the merged file.
	if f.Runs[0].Validity == nil || !f.Runs[0].Validity.Valid || f.Runs[0].Assessment.ErrorBand != "excellent" {
		t.Errorf("merged run not judged: %+v %+v", f.Runs[0].Validity, f.Runs[0].Assessment)
	}

	same, err := Files([]Input{{"a.json", file(true, "p", run(1, t0))}, {"b.json", file(true, "p", run(1, t0))}}, "test", t0)
	if err != nil || !same.File.Complete || same.File.Plan == nil || same.File.Plan.Text != "p" {
		t.Errorf("same plans: %v %+v", err, same.File.Plan)
	}
	if _, err := Files([]Input{{"a.json", file(true, "p")}}, "test", t0); err == nil {
		t.Error("one file merged")
	}
	bad := run(1, t0)
	bad.Histograms = &result.Histograms{Latency: "not base64!"}
	if _, err := Files([]Input{{"a.json", file(true, "p", run(1, t0))}, {"bad.json", file(true, "p", bad)}}, "test", t0); err == nil ||
		!strings.Contains(err.Error(), "bad.json: nim-grpc/c=1: latency histogram") {
		t.Errorf("a corrupt histogram: %v", err)
	}
}

package analyze

import (
	"github.com/inferbench/inferbench/internal/observe"
	"github.com/inferbench/inferbench/internal/result"
)

// Judgement in one place.
//
// A result file stores measurements and facts; everything a rule
// concludes from them is judgement, and Judge recomputes all of it from
// the file whenever a report is rendered, so an old file rendered with
// new rules gives the new judgement. The file may keep a copy of it
// (Record, at save time) for readers of the JSON; no report reads it.
//
// Measurements: a run's load, counts, error rate, throughput, latency,
// warmup, client CPU, cores and late sends, the server's breakdown, the
// pods' state and usage, and the summary of its stability windows.
//
// Facts, kept as recorded (result.Run.Facts): what the run saw that the
// file holds nowhere else, so that no rule could recompute it: the
// server's metrics that could not be read; a server that restarted or
// whose metrics stopped answering during the step (seen between samples
// the file does not keep); a sweep's memory check, made before the level
// from options the file does not keep; a pod check that failed; the OOM
// risk estimated from the pods' memory over the steps so far. Status and
// Failure are facts too, and so are three verdicts made at run time on
// data the file does not keep: a level's Stability.Stable (the windows
// and the threshold are not stored, only their spreads), the output
// check's verdicts (the answers are not stored, only their box counts),
// and the sweep's searches (their paths, sweet spots and notes are
// recorded as the search policy concluded them).
//
// Judgement, recomputed (Judgement): the error band and its advice; the
// latency against the deployment's baseline and the guide's check at the
// level; the concurrency warning; the client-limited warning; the notes
// on an interrupted and on an unstable level; a stall and a throughput
// drift read from the timeline (timeline.go); the server's breakdown
// explained, cross-checked and diagnosed; the notes on the pods' usage
// and the restarts that invalidate a step; the invalidity of a step whose
// outputs differ; and the validity those make up, with the facts'.

// Judgement is analyze's judgement of one run.
type Judgement struct {
	// Band is the error rate's band; zero for a run that was not measured.
	Band Band
	// LatencyVsBaselineP50 and P99 are the run's latency over its
	// deployment's baseline (the first measured run of the same
	// deployment); 0 without one.
	LatencyVsBaselineP50, LatencyVsBaselineP99 float64
	// Check is the guide's check at the level, "" when none applies.
	Check string
	// ClientLimit says why the client probably limited the result, or "".
	ClientLimit string
	// Notes are the judgement's notes, in the order reports show them;
	// the facts' notes follow them in a report.
	Notes []string
	// Invalid are the reasons not to trust the numbers: the judgement's
	// and the facts'. The run is valid when there is none.
	Invalid []string
	// Facts are the run's facts, set apart from the notes of an old file.
	Facts result.Facts
}

// Valid reports whether the run's numbers may be trusted.
func (j Judgement) Valid() bool { return len(j.Invalid) == 0 }

// Judge judges every run of f from its measurements and facts alone; the
// judgements are in the order of f.Runs, and f is not changed.
func Judge(f *result.File) []Judgement {
	base := baselines(f.Runs)
	out := make([]Judgement, len(f.Runs))
	for i := range f.Runs {
		var b *result.Run
		if base[i] >= 0 {
			b = &f.Runs[base[i]]
		}
		out[i] = JudgeRun(&f.Runs[i], b, f.OutputCheck)
	}
	return out
}

// JudgeRun judges one run against its baseline (nil: none) and the file's
// output check (nil: none).
func JudgeRun(r *result.Run, baseline *result.Run, outputs *result.OutputCheck) Judgement {
	j := Judgement{Facts: FactsOf(r)}
	failed := r.Status == result.StatusFailed
	if failed {
		j.Invalid = append(j.Invalid, "not measured: "+r.Failure)
	}
	j.Invalid = append(j.Invalid, j.Facts.Invalid...)
	if w := ClientLimit(r.Client.CPUPercent, r.Client.Cores, r.Client.LateSends, r.Counts.Sent); w != "" {
		j.ClientLimit = w
		j.Notes = append(j.Notes, w)
	}
	if r.Status == result.StatusInterrupted {
		j.Notes = append(j.Notes, "interrupted: the numbers cover the requests answered until then")
	}
	if !failed {
		j.Band = ErrorBand(r.ErrorRate)
		if j.Band != BandExcellent {
			j.Notes = append(j.Notes, "error rate "+j.Band.Name+": "+j.Band.Advice)
		}
	}
	if driven(r) {
		if w := ConcurrencyWarning(r.Load.Concurrency); w != "" {
			j.Notes = append(j.Notes, w)
		}
	}
	j.Notes = append(j.Notes, serverNotes(r)...)
	if p := r.Pods; p != nil {
		j.Notes = append(j.Notes, PodsNotes(p.Pods)...)
		j.Invalid = append(j.Invalid, PodsInvalid(p.Pods)...)
	}
	if st := r.Stability; st != nil && !st.Stable && !failed {
		j.Notes = append(j.Notes, "not stable: "+st.Note+"; its numbers are less certain")
	}
	j.Notes = append(j.Notes, TimelineNotes(r)...)
	if why := outputsDiffer(r, outputs); why != "" {
		j.Notes = append(j.Notes, why)
		j.Invalid = append(j.Invalid, why)
	}
	if baseline != nil {
		j.LatencyVsBaselineP50 = Ratio(r.LatencyMs.P50, baseline.LatencyMs.P50)
		j.LatencyVsBaselineP99 = Ratio(r.LatencyMs.P99, baseline.LatencyMs.P99)
		j.Check = CheckNote(r, j.LatencyVsBaselineP50)
	}
	return j
}

// driven reports whether load was put on the level at all: a run that
// failed before sending anything (its deployment unreachable) was not.
func driven(r *result.Run) bool {
	return r.Status != result.StatusFailed || r.Counts.Sent > 0 || r.Warmup.Attempted > 0
}

// serverNotes explain the client's p50 with the server's breakdown,
// cross-check the counts, and apply the guide's diagnosis.
func serverNotes(r *result.Run) []string {
	b := r.Server
	if b == nil {
		return nil
	}
	var notes []string
	if r.Counts.OK > 0 && b.Success > 0 {
		notes = append(notes, observe.Explain(r.LatencyMs.P50, *b))
	}
	if n := observe.CrossCheck(*b, r.Counts.OK, int64(r.Warmup.Succeeded)); n != "" {
		notes = append(notes, n)
	}
	return append(notes, Diagnose(ServerView{
		Concurrency: r.Load.Concurrency, ClientP50Ms: r.LatencyMs.P50, QueueMs: b.QueueMs, ComputeMs: b.ComputeMs(),
		AvgBatchSize: b.AvgBatchSize, CPUUtil: b.CPUUtil, GPUUtil: b.GPUUtil,
	})...)
}

// outputsDiffer is why a run's numbers are those of wrong answers: its
// deployment's outputs differ from the others' in the output check.
func outputsDiffer(r *result.Run, check *result.OutputCheck) string {
	if check == nil {
		return ""
	}
	for _, d := range check.Deployments {
		if d.Name == r.Deployment.Name && d.Status == result.OutputDiffers {
			return "its outputs differ from the other deployments' for the same image: " + d.Detail
		}
	}
	return ""
}

// baselines gives each run the index of its baseline, or -1: the first
// measured run (not failed, with a success) of the same deployment (name,
// URL and protocol) in the file, normally its lowest concurrency; a run
// whose load changed (stages) is a baseline only when its deployment has
// no other. A run that was not measured has none.
func baselines(runs []result.Run) []int {
	first := map[[3]string]int{}
	out := make([]int, len(runs))
	for _, staged := range []bool{false, true} {
		for i := range runs {
			r := &runs[i]
			if r.Status == result.StatusFailed || r.Counts.OK == 0 || (len(r.Load.Stages) > 0) != staged {
				continue
			}
			key := [3]string{r.Deployment.Name, r.Deployment.URL, r.Deployment.Protocol}
			if _, ok := first[key]; !ok {
				first[key] = i
			}
		}
	}
	for i := range runs {
		r := &runs[i]
		out[i] = -1
		if r.Status == result.StatusFailed || r.Counts.OK == 0 {
			continue
		}
		out[i] = first[[3]string{r.Deployment.Name, r.Deployment.URL, r.Deployment.Protocol}]
	}
	return out
}

// Apply writes a judgement into its run, as the copy the file keeps for
// readers of the JSON: the assessment (its notes followed by the facts'),
// the validity, the client's warning, and the facts set apart.
func Apply(r *result.Run, j Judgement) {
	notes := append(append([]string{}, j.Notes...), j.Facts.Notes...)
	r.Assessment = result.Assessment{ErrorBand: j.Band.Name, LatencyVsBaselineP50: j.LatencyVsBaselineP50,
		LatencyVsBaselineP99: j.LatencyVsBaselineP99, Check: j.Check, Notes: notes}
	r.Validity = &result.Validity{Valid: j.Valid(), Reasons: append([]string{}, j.Invalid...)}
	r.Client.Limited, r.Client.Warning = j.ClientLimit != "", j.ClientLimit
	r.Facts = &result.Facts{Notes: clip(j.Facts.Notes), Invalid: clip(j.Facts.Invalid)}
}

// clip copies a list, nil when empty (omitted from the JSON).
func clip(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

// Record judges f and writes the judgement into its runs, in place: what
// a run calls before it saves the file, so that the file keeps a copy of
// the judgement and its facts set apart. It may be called any number of
// times; each gives the same file.
func Record(f *result.File) {
	for i, j := range Judge(f) {
		Apply(&f.Runs[i], j)
	}
	for i, res := range EvaluateThresholds(f) {
		f.Thresholds[i].Results = res
	}
}

// Judged is a copy of f with the judgement of its runs recomputed (see
// Record); f is not changed. Reports render it.
func Judged(f *result.File) *result.File {
	c := *f
	c.Runs = append([]result.Run(nil), f.Runs...)
	c.Thresholds = append([]result.Threshold(nil), f.Thresholds...)
	Record(&c)
	return &c
}

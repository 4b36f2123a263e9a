// Package merge merges result files exactly: the runs of several files
// that measured the same deployment at the same step and load (shards of
// one load spread over several loaders, or repeated trials) become one run
// whose histograms, counts, errors and timeline are the sums of theirs.
// Runs that cannot be merged exactly are kept as they were, side by side.
package merge

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/result"
)

// Input is one result file and the name it is known by (its path).
type Input struct {
	Name string
	File *result.File
}

// Outcome is the merged file and what was done, one line per group of
// runs, for the user.
type Outcome struct {
	File *result.File
	// Lines say which runs were merged, which were kept apart and why, and
	// what of the files' other parts was kept.
	Lines []string
	// Merged is the number of merged runs written; Kept the runs written
	// as they were.
	Merged, Kept int
}

// Key is what runs must share to be merged: the whole deployment, the
// step, and the load but for its request count (shards of one load may
// split its requests over the loaders; the merged run records their sum).
type Key struct {
	Deployment result.Deployment
	Step       string
	// Trial keeps a step's repeated trials apart: the shards of one load
	// from several loaders share it.
	Trial int
	Mode  string
	// Concurrency, Rate, Arrival and DurationS are the load of each run.
	Concurrency int
	Rate        float64
	Arrival     string
	DurationS   float64
}

// KeyOf is a run's key.
func KeyOf(r *result.Run) Key {
	return Key{Deployment: r.Deployment, Step: r.Step, Trial: r.Trial, Mode: r.Load.Mode, Concurrency: r.Load.Concurrency,
		Rate: r.Load.Rate, Arrival: r.Load.Arrival, DurationS: r.Load.DurationS}
}

// Differences lists how two keys differ, one "field a vs b" each.
func Differences(a, b Key) []string {
	var out []string
	add := func(field, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %s vs %s", field, orNone(x), orNone(y)))
		}
	}
	add("deployment", a.Deployment.Name, b.Deployment.Name)
	add("protocol", a.Deployment.Protocol, b.Deployment.Protocol)
	add("url", a.Deployment.URL, b.Deployment.URL)
	add("model", a.Deployment.Model, b.Deployment.Model)
	add("model version", a.Deployment.ModelVersion, b.Deployment.ModelVersion)
	add("step", quote(a.Step), quote(b.Step))
	add("trial", fmt.Sprint(a.Trial), fmt.Sprint(b.Trial))
	add("mode", a.Mode, b.Mode)
	add("concurrency", fmt.Sprint(a.Concurrency), fmt.Sprint(b.Concurrency))
	add("rate", fmt.Sprintf("%g/s", a.Rate), fmt.Sprintf("%g/s", b.Rate))
	add("arrival", a.Arrival, b.Arrival)
	add("duration", fmt.Sprintf("%gs", a.DurationS), fmt.Sprintf("%gs", b.DurationS))
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func quote(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q", s)
}

// Unmergeable says why a run cannot be merged exactly, "" when it can: it
// must keep its histograms (the service-time one too in rate mode) and the
// bounds of its measured phase, and not be a failed run or a sweep's level
// (whose stability windows cannot be added).
func Unmergeable(r *result.Run, schema string) string {
	switch {
	case r.Status == result.StatusFailed:
		return "a failed run (" + measure.Truncate(r.Failure, 80) + ")"
	case r.Stability != nil:
		return "a sweep's level, measured until stable: its windows cannot be added"
	case r.Histograms == nil || r.Histograms.Latency == "":
		if schema == result.SchemaV1 {
			return "no histograms (an " + result.SchemaV1 + " file): cannot be merged exactly"
		}
		return "no histograms: cannot be merged exactly"
	case r.Load.Mode == result.ModeRate && r.Histograms.ServiceTime == "":
		return "no service-time histogram: cannot be merged exactly"
	case r.Started == nil || r.Ended == nil:
		return "no bounds of its measured phase (started, ended)"
	}
	return ""
}

// Member is one run to merge, with where it came from.
type Member struct {
	Source string // the file's name
	Host   string // the machine that ran it ("" when unknown)
	Run    result.Run
}

// Label names a run in messages: deployment/step (or its load).
func Label(r *result.Run) string {
	step := r.Step
	if step == "" {
		if r.Load.Mode == result.ModeRate {
			step = fmt.Sprintf("%g/s %s", r.Load.Rate, r.Load.Arrival)
		} else {
			step = fmt.Sprintf("c=%d", r.Load.Concurrency)
		}
	}
	return r.Deployment.Name + "/" + step
}

// Runs merges runs of one key exactly (every one must be mergeable, see
// Unmergeable). Histograms are decoded, added and re-encoded; the latency
// summaries are the merged histograms'; counts, warmups, error groups,
// late sends and client CPU add up; the timelines are aligned by
// wall-clock second and added; the measured phase is the union of theirs,
// over which throughput and send rate are computed. What only one loader
// saw (the server's metrics, the pods, the client's preprocessing) is the
// first member's, and a fact says so. The judgement (assessment,
// validity, client warning) is left for analyze.Record.
func Runs(members []Member) (result.Run, error) {
	if len(members) == 0 {
		return result.Run{}, fmt.Errorf("no runs to merge")
	}
	first := members[0].Run
	out := result.Run{Step: first.Step, Trial: first.Trial, Deployment: first.Deployment, Load: first.Load, Status: result.StatusOK}
	out.Load.Requests = 0
	var (
		latency, service                *measure.Histogram
		timelines                       [][]measure.Interval
		spans                           []span
		errs, warmErrs                  []measure.ErrorGroup
		facts                           result.Facts
		sources                         []string
		reqBytes, resBytes, payloadSent float64
		hosts                           = map[string]int{}
		missingTimeline                 []string
	)
	for i, m := range members {
		r := m.Run
		if why := Unmergeable(&r, ""); why != "" {
			return result.Run{}, fmt.Errorf("%s: %s: %s", m.Source, Label(&r), why)
		}
		if KeyOf(&r) != KeyOf(&first) {
			return result.Run{}, fmt.Errorf("%s: %s: differs from %s's (%s)", m.Source, Label(&r), members[0].Source,
				strings.Join(Differences(KeyOf(&first), KeyOf(&r)), ", "))
		}
		if !slices.Contains(sources, m.Source) {
			sources = append(sources, m.Source)
		}
		var err error
		if latency, err = add(latency, r.Histograms.Latency); err != nil {
			return result.Run{}, fmt.Errorf("%s: %s: latency histogram: %w", m.Source, Label(&r), err)
		}
		if r.Load.Mode == result.ModeRate {
			if service, err = add(service, r.Histograms.ServiceTime); err != nil {
				return result.Run{}, fmt.Errorf("%s: %s: service-time histogram: %w", m.Source, Label(&r), err)
			}
		}
		if r.Status == result.StatusInterrupted {
			out.Status = result.StatusInterrupted
		}
		out.Load.Requests += r.Load.Requests
		out.Warmup.Attempted += r.Warmup.Attempted
		out.Warmup.Succeeded += r.Warmup.Succeeded
		warmErrs = append(warmErrs, r.Warmup.Errors...)
		out.Counts.Sent += r.Counts.Sent
		out.Counts.OK += r.Counts.OK
		out.Counts.Errors += r.Counts.Errors
		out.Counts.Dropped += r.Counts.Dropped
		errs = append(errs, r.Errors...)
		out.Client.CPUPercent += r.Client.CPUPercent
		out.Client.LateSends += r.Client.LateSends
		// Loaders on one machine share its cores: count each machine once.
		host := m.Host
		if host == "" {
			host = fmt.Sprintf("(unknown machine %d)", i)
		}
		hosts[host] = max(hosts[host], r.Client.Cores)
		if r.Payload != nil && r.Counts.Sent > 0 {
			n := float64(r.Counts.Sent)
			reqBytes += r.Payload.RequestBytes * n
			resBytes += r.Payload.ResponseBytes * n
			payloadSent += n
		}
		if len(r.Timeline) > 0 {
			timelines = append(timelines, r.Timeline)
		} else if r.Counts.Sent > 0 {
			missingTimeline = append(missingTimeline, m.Source)
		}
		spans = append(spans, span{*r.Started, *r.Ended})
		f := analyze.FactsOf(&r)
		facts.Notes = appendNew(facts.Notes, f.Notes...)
		facts.Invalid = appendNew(facts.Invalid, f.Invalid...)
	}

	out.Histograms = &result.Histograms{Latency: latency.MustEncode()}
	out.LatencyMs = latency.Summary()
	if service != nil {
		out.Histograms.ServiceTime = service.MustEncode()
		s := service.Summary()
		out.ServiceTimeMs = &s
	}
	out.Errors = mergeGroups(errs)
	if len(warmErrs) > 0 {
		out.Warmup.Errors = mergeGroups(warmErrs)
	}
	if out.Counts.Sent > 0 {
		out.ErrorRate = round(float64(out.Counts.Errors)/float64(out.Counts.Sent), 4)
	}
	start, end, measured, together := union(spans)
	out.Started, out.Ended = &start, &end
	out.ElapsedS = round(measured.Seconds(), 3)
	if measured > 0 {
		out.ThroughputRPS = round(float64(out.Counts.OK)/measured.Seconds(), 2)
		if out.Load.Mode == result.ModeRate {
			out.SendRateRPS = round(float64(out.Counts.Sent)/measured.Seconds(), 2)
		}
	}
	out.Client.CPUPercent = round(out.Client.CPUPercent, 1)
	for _, c := range hosts {
		out.Client.Cores += c
	}
	if payloadSent > 0 {
		out.Payload = &result.Payload{RequestBytes: round(reqBytes/payloadSent, 1), ResponseBytes: round(resBytes/payloadSent, 1)}
	}
	tl, err := measure.MergeTimelines(timelines...)
	if err != nil {
		return result.Run{}, fmt.Errorf("%s: timelines: %w", Label(&first), err)
	}
	out.Timeline = tl

	note := fmt.Sprintf("merged from %d runs (%s), at most %d at the same time: histograms, counts, errors and timeline added exactly; throughput over the union of their measured phases (%.3f s); client CPU summed over the loaders (%d cores on %d machine(s))",
		len(members), strings.Join(sources, ", "), together, measured.Seconds(), out.Client.Cores, len(hosts))
	if together > 1 {
		note += fmt.Sprintf("; side by side, the server saw up to %d times each run's load", together)
	}
	facts.Notes = append([]string{note}, facts.Notes...)
	if len(missingTimeline) > 0 {
		facts.Notes = append(facts.Notes, "timeline: the runs of "+strings.Join(missingTimeline, ", ")+" kept none; the merged timeline lacks them")
	}
	for _, m := range members {
		if m.Run.Server != nil {
			out.Server = m.Run.Server
			facts.Notes = append(facts.Notes, "server: the observation of one loader ("+m.Source+"), taken over its run alone")
			break
		}
	}
	for _, m := range members {
		if m.Run.Pods != nil {
			out.Pods = m.Run.Pods
			facts.Notes = append(facts.Notes, "pods: the observation of one loader ("+m.Source+"), taken over its run alone")
			break
		}
	}
	for _, m := range members {
		if m.Run.Client.PreprocessMs != nil {
			out.Client.PreprocessMs = m.Run.Client.PreprocessMs
			facts.Notes = append(facts.Notes, "client preprocessing: one loader's ("+m.Source+"; no histogram of it is kept to add)")
			break
		}
	}
	out.Facts = &facts
	return out, nil
}

// add decodes enc and adds it into h (nil: a new histogram).
func add(h *measure.Histogram, enc string) (*measure.Histogram, error) {
	d, err := measure.DecodeHistogram(enc)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return d, nil
	}
	h.Merge(d)
	return h, nil
}

// mergeGroups adds up error groups of the same class and example, the most
// frequent first (then by class and example), as measure.ErrorTally lists
// them.
func mergeGroups(groups []measure.ErrorGroup) []measure.ErrorGroup {
	type key struct{ class, example string }
	counts := map[key]int64{}
	var order []key
	for _, g := range groups {
		k := key{g.Class, g.Example}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k] += g.Count
	}
	out := make([]measure.ErrorGroup, 0, len(order))
	for _, k := range order {
		out = append(out, measure.ErrorGroup{Class: k.class, Count: counts[k], Example: k.example})
	}
	slices.SortStableFunc(out, func(a, b measure.ErrorGroup) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Class, b.Class); c != 0 {
			return c
		}
		return strings.Compare(a.Example, b.Example)
	})
	return out
}

type span struct{ start, end time.Time }

// union is the earliest start, the latest end, the length of the union of
// the spans (overlaps counted once, gaps not at all) and the most spans
// that overlap at one instant.
func union(spans []span) (start, end time.Time, length time.Duration, together int) {
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b span) int { return a.start.Compare(b.start) })
	start, end = s[0].start, s[0].end
	curStart, curEnd := s[0].start, s[0].end
	for _, x := range s[1:] {
		if x.end.After(end) {
			end = x.end
		}
		if x.start.After(curEnd) {
			length += curEnd.Sub(curStart)
			curStart, curEnd = x.start, x.end
			continue
		}
		if x.end.After(curEnd) {
			curEnd = x.end
		}
	}
	length += curEnd.Sub(curStart)
	// The most spans open at once: at each start, those begun and not ended.
	for _, x := range s {
		n := 0
		for _, y := range s {
			if !y.start.After(x.start) && y.end.After(x.start) {
				n++
			}
		}
		together = max(together, n)
	}
	return start, end, length, max(together, 1)
}

// appendNew appends the strings of add that dst lacks.
func appendNew(dst []string, add ...string) []string {
	for _, s := range add {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

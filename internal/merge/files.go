package merge

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inferbench/inferbench/internal/analyze"
	"github.com/inferbench/inferbench/internal/result"
)

// group is the runs of one key (or one run kept apart).
type group struct {
	key     Key
	members []Member
	apart   string // why the run is kept apart without looking for a match
}

// Files merges result files: runs of the same key (see Key) that can be
// merged exactly (see Unmergeable) become one run (see Runs), placed where
// the first of them was; every other run is kept as it was. The merged
// file is a v2 file written by version at now, complete when every input
// is; it keeps the first file's plan when every file's plan text is the
// same, the first environment and output check, and every search. The
// judgement of its runs is recomputed (analyze.Record).
func Files(inputs []Input, version string, now time.Time) (*Outcome, error) {
	if len(inputs) < 2 {
		return nil, fmt.Errorf("merge needs at least two result files, got %d", len(inputs))
	}
	out := &Outcome{File: result.New(version, now)}
	out.File.Complete = true
	var groups []*group
	byKey := map[Key]*group{}
	for _, in := range inputs {
		f := in.File
		out.File.Complete = out.File.Complete && f.Complete
		host := ""
		if f.Environment != nil {
			host = f.Environment.Hostname
		}
		for _, r := range f.Runs {
			m := Member{Source: in.Name, Host: host, Run: r}
			if why := Unmergeable(&r, f.Schema); why != "" {
				groups = append(groups, &group{key: KeyOf(&r), members: []Member{m}, apart: why})
				continue
			}
			k := KeyOf(&r)
			if g, ok := byKey[k]; ok {
				g.members = append(g.members, m)
				continue
			}
			g := &group{key: k, members: []Member{m}}
			byKey[k] = g
			groups = append(groups, g)
		}
	}
	for _, g := range groups {
		first := &g.members[0]
		label := Label(&first.Run)
		if g.apart != "" || len(g.members) == 1 {
			why := g.apart
			if why == "" {
				why = unmatched(g, groups)
			}
			out.File.Runs = append(out.File.Runs, first.Run)
			out.Kept++
			out.Lines = append(out.Lines, fmt.Sprintf("kept apart: %s from %s: %s", label, first.Source, why))
			continue
		}
		run, err := Runs(g.members)
		if err != nil {
			return nil, err
		}
		out.File.Runs = append(out.File.Runs, run)
		out.Merged++
		var sources []string
		for _, m := range g.members {
			if !slices.Contains(sources, m.Source) {
				sources = append(sources, m.Source)
			}
		}
		out.Lines = append(out.Lines, fmt.Sprintf("merged %d runs of %s from %s: %d sent, %.1f req/s over %.3f s, p50 %.3f ms, p99 %.3f ms",
			len(g.members), label, strings.Join(sources, ", "), run.Counts.Sent, run.ThroughputRPS, run.ElapsedS, run.LatencyMs.P50, run.LatencyMs.P99))
	}

	out.Lines = append(out.Lines, keepFirst(out.File, inputs)...)
	analyze.Record(out.File)
	return out, nil
}

// unmatched says why a mergeable run found no other of its key: the
// nearest run of another file and how it differs, if any.
func unmatched(g *group, groups []*group) string {
	var best []string
	bestSource, bestLabel := "", ""
	for _, o := range groups {
		for _, m := range o.members {
			if o == g || m.Source == g.members[0].Source {
				continue
			}
			d := Differences(g.key, o.key)
			if len(d) == 0 {
				// The same key, but that run cannot be merged.
				return fmt.Sprintf("%s's %s has its deployment, step and load but cannot be merged (%s)", m.Source, Label(&m.Run), o.apart)
			}
			if best == nil || len(d) < len(best) {
				best, bestSource, bestLabel = d, m.Source, Label(&m.Run)
			}
		}
	}
	if best == nil {
		return "no run of the other files has its deployment, step and load"
	}
	return fmt.Sprintf("no run of the other files has its deployment, step and load (the nearest, %s's %s, differs in %s)",
		bestSource, bestLabel, strings.Join(best, ", "))
}

// keepFirst fills the merged file's parts other than runs from the inputs
// and says what it kept.
func keepFirst(f *result.File, inputs []Input) []string {
	var lines []string
	var hostnames []string
	samePlan := true
	for i, in := range inputs {
		if e := in.File.Environment; e != nil {
			if f.Environment == nil {
				c := *e
				f.Environment = &c
			}
			if !slices.Contains(hostnames, e.Hostname) {
				hostnames = append(hostnames, e.Hostname)
			}
		}
		if i > 0 && !samePlanText(in.File.Plan, inputs[0].File.Plan) {
			samePlan = false
		}
		if in.File.OutputCheck != nil && f.OutputCheck == nil {
			f.OutputCheck = in.File.OutputCheck
			if len(inputs) > 1 {
				lines = append(lines, "output check: "+in.Name+"'s")
			}
		}
		f.Searches = append(f.Searches, in.File.Searches...)
	}
	if len(hostnames) > 1 {
		lines = append(lines, fmt.Sprintf("environment: the files come from %d machines (%s); the merged file names %s",
			len(hostnames), strings.Join(hostnames, ", "), hostnames[0]))
	}
	switch {
	case samePlan && inputs[0].File.Plan != nil:
		p := *inputs[0].File.Plan
		f.Plan = &p
	case !samePlan:
		lines = append(lines, "plan: the files' plans differ; the merged file keeps none")
	}
	return lines
}

// samePlanText reports whether two plans are the same text (or both absent).
func samePlanText(a, b *result.PlanInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Text == b.Text
}

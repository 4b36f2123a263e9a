package analyze

import (
	"regexp"
	"strings"

	"github.com/inferbench/inferbench/internal/result"
)

// FactsOf is a run's facts: those it recorded apart, or, in a file written
// before facts were kept apart (Facts nil), the notes and validity reasons
// of its stored judgement that no rule of Judge's produces, since those
// were the facts (a server whose metrics failed, the sweep's memory check,
// a pod check that failed, the OOM risk, a server restart).
func FactsOf(r *result.Run) result.Facts {
	if r.Facts != nil {
		return result.Facts{Notes: clip(r.Facts.Notes), Invalid: clip(r.Facts.Invalid)}
	}
	var f result.Facts
	for _, n := range r.Assessment.Notes {
		if !judgementNote(n) {
			f.Notes = append(f.Notes, n)
		}
	}
	if v := r.Validity; v != nil {
		for _, why := range v.Reasons {
			if !judgementReason(why) {
				f.Invalid = append(f.Invalid, why)
			}
		}
	}
	return f
}

// The shapes of the notes and reasons Judge's rules write, and wrote in
// every file of inferbench.result/v1 so far: a stored note of one of these
// shapes is judgement, recomputed; any other is a fact. A rule whose words
// change keeps its old shape here, so that old files still read right.
var (
	judgementPrefixes = []string{
		"the client used ",                // ClientLimit: CPU
		"interrupted: ",                   // an interrupted level
		"error rate ",                     // ErrorBand's advice
		"the server counted ",             // observe.CrossCheck
		"queueing dominates: ",            // Diagnose
		"batching works: ",                // Diagnose
		"CPU bottleneck: ",                // Diagnose
		"CPU at limit: ",                  // PodsNotes
		"memory near limit: ",             // PodsNotes
		"not stable: ",                    // an unstable level
		"its outputs differ from the oth", // the output check
		"stall: ",                         // Stall
		"throughput drifted ",             // Drift
	}
	judgementPatterns = regexp.MustCompile(`^(` +
		`\d+ of \d+ sends \(` + // ClientLimit: late sends
		`|concurrency \d+ is (in the breaking-point zone|above \d+)` + // ConcurrencyWarning
		`|p50 -?[\d.]+ ms = queue ` + // observe.Explain
		`|pod \S+ was not ready at the end of the step` + // PodsNotes
		`)`)
	judgementReasons = regexp.MustCompile(`^(` +
		`not measured: ` + // a failed run
		`|pod \S+ (was OOM-killed|restarted|went away) during the step` + // PodsInvalid
		`|its outputs differ from the other deployments'` + // the output check
		`)`)
)

func judgementNote(n string) bool {
	for _, p := range judgementPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return judgementPatterns.MatchString(n)
}

func judgementReason(why string) bool { return judgementReasons.MatchString(why) }

package measure

import (
	"fmt"
	"maps"
	"sort"
	"time"
)

// Timeline resolution: one record per wall-clock second for the first
// FineSpan of a run; after it, records of CoarseWidth aligned to multiples
// of it on the wall clock; and whenever more than MaxCoarse coarse records
// have accumulated, neighbouring pairs merge (their width doubles). A
// timeline never holds more than FineSpan/time.Second + MaxCoarse records:
// 7,200, about 2 MB in the result file, however long the run.
const (
	FineSpan    = time.Hour
	CoarseWidth = 10 * time.Second
	MaxCoarse   = 3600
)

// Interval is one record of a run's timeline: what happened during one
// wall-clock second of its measured phase (the first and last may be
// partial; past an hour, longer: see FineSpan).
type Interval struct {
	// Start is the wall-clock start of the interval (UTC).
	Start     time.Time `json:"start"`
	DurationS float64   `json:"duration_s"`
	// Sent is the requests sent during the interval; OK and Errors those
	// answered during it, successes and errors by class.
	Sent   int64            `json:"sent"`
	OK     int64            `json:"ok"`
	Errors map[string]int64 `json:"errors,omitempty"`
	// InFlight is the requests sent and not yet answered at its end.
	InFlight int64 `json:"in_flight"`
	// Target is, for a load in stages, the stages' mean target over the
	// interval: requests per second in rate mode, workers in concurrency
	// mode.
	Target float64 `json:"target,omitempty"`
	// MaxSilenceMs is the longest time, within the interval or ending in
	// it (it may have begun earlier), that no request was answered while
	// some were in flight, sampled every 100 ms: a stall ends in the
	// interval whose MaxSilenceMs is long.
	MaxSilenceMs float64 `json:"max_silence_ms,omitempty"`
	// LatencyMs summarises the latencies of the successes answered in the
	// interval; nil when there was none.
	LatencyMs *Quantiles `json:"latency_ms,omitempty"`
	// Histogram is those latencies in HdrHistogram's encoding (2
	// significant digits, microseconds), empty when there was none.
	Histogram string `json:"histogram,omitempty"`
}

// Quantiles is the short summary an interval keeps, in milliseconds.
type Quantiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// End is the wall-clock end of the interval.
func (iv Interval) End() time.Time {
	return iv.Start.Add(time.Duration(iv.DurationS * float64(time.Second)))
}

// ErrorCount is the interval's errors, all classes together.
func (iv Interval) ErrorCount() int64 {
	var n int64
	for _, c := range iv.Errors {
		n += c
	}
	return n
}

// Answered is the requests answered in the interval.
func (iv Interval) Answered() int64 { return iv.OK + iv.ErrorCount() }

// ThroughputRPS is the interval's successes per second.
func (iv Interval) ThroughputRPS() float64 {
	if iv.DurationS <= 0 {
		return 0
	}
	return float64(iv.OK) / iv.DurationS
}

// quantilesOf summarises a histogram; nil when it is empty.
func quantilesOf(h *Histogram) *Quantiles {
	if h == nil || h.Count() == 0 {
		return nil
	}
	return &Quantiles{P50: h.Percentile(50), P90: h.Percentile(90), P99: h.Percentile(99), Max: h.MaxMs()}
}

// TimelineBuilder collects a run's intervals as they close, coarsening
// them past FineSpan. The histogram of the last record stays decoded so
// that intervals merged into it cost no re-encoding; the others are kept
// encoded only. Not safe for concurrent use.
type TimelineBuilder struct {
	records []Interval
	last    *Histogram // the last record's histogram, not yet encoded
	first   time.Time  // start of the first interval
	width   time.Duration
	coarse  int // records past FineSpan
}

// Add appends one closed interval (normally a second) and its latency
// histogram (nil or empty for none). Add takes ownership of h.
func (b *TimelineBuilder) Add(iv Interval, h *Histogram) {
	if len(b.records) == 0 {
		b.first = iv.Start
		b.width = CoarseWidth
	}
	iv.Histogram, iv.LatencyMs = "", nil
	if iv.Start.Sub(b.first) < FineSpan {
		b.push(iv, h)
		return
	}
	key := iv.Start.Truncate(b.width)
	if n := len(b.records); n > 0 && b.records[n-1].Start.Sub(b.first) >= FineSpan && !b.records[n-1].Start.Before(key) {
		// The last record is this coarse bucket: merge into it.
		mergeInto(&b.records[n-1], iv, false)
		if h != nil && h.Count() > 0 {
			if b.last == nil {
				b.last = NewCoarseHistogram()
			}
			b.last.Merge(h)
		}
		return
	}
	b.coarse++
	b.push(iv, h)
	if b.coarse > MaxCoarse {
		b.halveCoarse()
	}
}

// push seals the last record and appends iv as the new last.
func (b *TimelineBuilder) push(iv Interval, h *Histogram) {
	b.seal()
	b.records = append(b.records, iv)
	if h != nil && h.Count() > 0 {
		b.last = h
	}
}

// seal encodes the last record's histogram.
func (b *TimelineBuilder) seal() {
	if n := len(b.records); n > 0 && b.last != nil {
		b.records[n-1].LatencyMs = quantilesOf(b.last)
		b.records[n-1].Histogram = b.last.MustEncode()
	}
	b.last = nil
}

// halveCoarse doubles the coarse width, merging neighbouring coarse
// records pairwise (by the doubled width's alignment).
func (b *TimelineBuilder) halveCoarse() {
	b.seal()
	b.width *= 2
	fine := 0
	for fine < len(b.records) && b.records[fine].Start.Sub(b.first) < FineSpan {
		fine++
	}
	out := b.records[:fine]
	for _, r := range b.records[fine:] {
		if n := len(out); n > fine && out[n-1].Start.Truncate(b.width).Equal(r.Start.Truncate(b.width)) {
			_ = MergeIntervals(&out[n-1], r, false)
			continue
		}
		out = append(out, r)
	}
	b.records = out
	b.coarse = len(out) - fine
}

// Intervals returns the timeline so far, every histogram encoded.
func (b *TimelineBuilder) Intervals() []Interval {
	b.seal()
	return b.records
}

// mergeInto adds o's counts into iv; side by side (shards of one load at
// the same time) the requests in flight add up, one after the other (a
// later interval folded into a longer one) the later's count is the
// one at the end. The span becomes the union of both.
func mergeInto(iv *Interval, o Interval, sideBySide bool) {
	end := iv.End()
	if oe := o.End(); oe.After(end) {
		end = oe
	}
	if o.Start.Before(iv.Start) {
		iv.Start = o.Start
	}
	iv.DurationS = end.Sub(iv.Start).Seconds()
	iv.Sent += o.Sent
	iv.OK += o.OK
	for c, n := range o.Errors {
		if iv.Errors == nil {
			iv.Errors = map[string]int64{}
		}
		iv.Errors[c] += n
	}
	if sideBySide {
		// Shards of one load: the server was silent only when every
		// shard saw it so.
		iv.InFlight += o.InFlight
		iv.MaxSilenceMs = min(iv.MaxSilenceMs, o.MaxSilenceMs)
	} else {
		iv.InFlight = o.InFlight
		iv.MaxSilenceMs = max(iv.MaxSilenceMs, o.MaxSilenceMs)
	}
}

// MergeIntervals adds o into iv, histograms included (decoded, merged,
// re-encoded: exact). sideBySide says whether they are shards of one
// load at the same time (in-flight counts add) or one after the other.
func MergeIntervals(iv *Interval, o Interval, sideBySide bool) error {
	var h *Histogram
	for _, enc := range []string{iv.Histogram, o.Histogram} {
		if enc == "" {
			continue
		}
		d, err := DecodeHistogram(enc)
		if err != nil {
			return fmt.Errorf("interval at %s: %w", iv.Start.Format(time.RFC3339), err)
		}
		if h == nil {
			h = d
		} else {
			h.Merge(d)
		}
	}
	mergeInto(iv, o, sideBySide)
	iv.Histogram, iv.LatencyMs = "", nil
	if h != nil && h.Count() > 0 {
		iv.Histogram, iv.LatencyMs = h.MustEncode(), quantilesOf(h)
	}
	return nil
}

// MergeTimelines merges the timelines of shards of one load, run side by
// side: intervals that start in the same wall-clock second (or the same
// coarse bucket) add up exactly; the others are kept in time order.
func MergeTimelines(timelines ...[]Interval) ([]Interval, error) {
	var all []Interval
	for _, t := range timelines {
		all = append(all, t...)
	}
	key := func(iv Interval) time.Time {
		w := time.Second
		if d := time.Duration(iv.DurationS * float64(time.Second)); d > time.Second+time.Millisecond {
			w = CoarseWidth
			for w < d-time.Millisecond {
				w *= 2
			}
		}
		return iv.Start.Truncate(w)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Start.Before(all[j].Start) })
	var out []Interval
	keys := map[time.Time]int{}
	for _, iv := range all {
		k := key(iv)
		if i, ok := keys[k]; ok {
			if err := MergeIntervals(&out[i], iv, true); err != nil {
				return nil, err
			}
			continue
		}
		keys[k] = len(out)
		iv.Errors = maps.Clone(iv.Errors)
		out = append(out, iv)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

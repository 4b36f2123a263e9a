package measure

import (
	"testing"
	"time"
)

func second(start time.Time, i int, sent, ok int64, lat time.Duration) (Interval, *Histogram) {
	h := NewCoarseHistogram()
	for range ok {
		h.Record(lat)
	}
	return Interval{Start: start.Add(time.Duration(i) * time.Second), DurationS: 1, Sent: sent, OK: ok,
		Errors: map[string]int64{ClassTimeout: sent - ok}, InFlight: 3}, h
}

// TestTimelineStaysBounded: a 30-hour run keeps one record per second for
// its first hour, then coarse ones, never more than the bound; every
// request is still counted once.
func TestTimelineStaysBounded(t *testing.T) {
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var b TimelineBuilder
	const seconds = 30 * 3600
	for i := range seconds {
		iv, _ := second(start, i, 10, 9, 0)
		var h *Histogram
		if i%3600 == 0 { // a few histograms: the merge path is exercised
			_, h = second(start, i, 10, 9, 4*time.Millisecond)
		}
		b.Add(iv, h)
	}
	ivs := b.Intervals()
	if max := int(FineSpan/time.Second) + MaxCoarse; len(ivs) > max {
		t.Fatalf("%d records, want at most %d", len(ivs), max)
	}
	var sent, ok, errs int64
	for i, iv := range ivs {
		sent += iv.Sent
		ok += iv.OK
		errs += iv.ErrorCount()
		if i < 3600 && iv.DurationS != 1 {
			t.Fatalf("record %d in the first hour is %g s long", i, iv.DurationS)
		}
		if i > 0 && iv.Start.Before(ivs[i-1].End()) {
			t.Fatalf("record %d starts at %s, before the previous ends (%s)", i, iv.Start, ivs[i-1].End())
		}
	}
	if sent != 10*seconds || ok != 9*seconds || errs != seconds {
		t.Errorf("sent %d ok %d errors %d, want %d %d %d", sent, ok, errs, 10*seconds, 9*seconds, seconds)
	}
	last := ivs[len(ivs)-1]
	if last.End() != start.Add(seconds*time.Second) {
		t.Errorf("timeline ends at %s, want %s", last.End(), start.Add(seconds*time.Second))
	}
	if ivs[3600].DurationS < CoarseWidth.Seconds() {
		t.Errorf("past an hour: records of %g s, want at least %s", ivs[3600].DurationS, CoarseWidth)
	}
	var withHist int
	for _, iv := range ivs {
		if iv.Histogram != "" {
			withHist++
			if iv.LatencyMs == nil || iv.LatencyMs.P50 < 3.9 || iv.LatencyMs.P50 > 4.1 {
				t.Errorf("record at %s: latency %+v, want p50 4 ms", iv.Start, iv.LatencyMs)
			}
		}
	}
	if withHist != 30 {
		t.Errorf("%d records with a histogram, want the 30 given", withHist)
	}
}

func TestTimelineFirstHourIsPerSecond(t *testing.T) {
	start := time.Date(2026, 11, 30, 10, 0, 0, 500_000_000, time.UTC)
	var b TimelineBuilder
	for i := range 5 {
		iv, h := second(start, i, 4, 4, time.Duration(i+1)*time.Millisecond)
		b.Add(iv, h)
	}
	ivs := b.Intervals()
	if len(ivs) != 5 {
		t.Fatalf("%d records, want 5", len(ivs))
	}
	for i, iv := range ivs {
		if iv.LatencyMs == nil || !near(iv.LatencyMs.Max, float64(i+1)) {
			t.Errorf("second %d: %+v, want max %d ms (to 1%%)", i, iv.LatencyMs, i+1)
		}
	}
}

// TestMergeTimelinesAlignsBySecond: two shards that started at different
// moments within the same seconds add up second by second.
func TestMergeTimelinesAlignsBySecond(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	shard := func(offset time.Duration, lat time.Duration) []Interval {
		var b TimelineBuilder
		first := Interval{Start: t0.Add(offset), DurationS: (time.Second - offset).Seconds(), Sent: 5, OK: 5, InFlight: 2}
		h := NewCoarseHistogram()
		for range 5 {
			h.Record(lat)
		}
		b.Add(first, h)
		for i := 1; i < 4; i++ {
			iv, h := second(t0, i, 10, 10, lat)
			b.Add(iv, h)
		}
		return b.Intervals()
	}
	merged, err := MergeTimelines(shard(200*time.Millisecond, 2*time.Millisecond), shard(700*time.Millisecond, 8*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 4 {
		t.Fatalf("%d records, want 4 (one per wall-clock second)", len(merged))
	}
	if m := merged[0]; !m.Start.Equal(t0.Add(200*time.Millisecond)) || m.DurationS != 0.8 || m.Sent != 10 || m.InFlight != 4 {
		t.Errorf("first second: %+v", m)
	}
	for _, m := range merged[1:] {
		if m.Sent != 20 || m.OK != 20 || m.InFlight != 6 || m.LatencyMs == nil || !near(m.LatencyMs.P50, 2) || !near(m.LatencyMs.Max, 8) {
			t.Errorf("second at %s: sent %d ok %d in flight %d latency %+v", m.Start, m.Sent, m.OK, m.InFlight, m.LatencyMs)
		}
		if m.Errors[ClassTimeout] != 0 {
			t.Errorf("errors %v", m.Errors)
		}
	}
}

// near: equal to the 1% a 2-digit histogram resolves.
func near(got, want float64) bool { return got >= want && got <= want*1.01 }

package measure

import (
	"strings"
	"testing"
	"time"
)

func TestHistogramSummary(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond / 10) // 0.1 .. 100 ms
	}
	s := h.Summary()
	within := func(name string, got, want float64) {
		if got < want*0.995 || got > want*1.005 {
			t.Errorf("%s = %v, want %v (3 significant digits)", name, got, want)
		}
	}
	within("min", s.Min, 0.1)
	within("max", s.Max, 100)
	within("p50", s.P50, 50)
	within("p90", s.P90, 90)
	within("p99", s.P99, 99)
	within("p999", s.P999, 99.9)
	within("mean", s.Mean, 50.05)
	if h.Count() != 1000 {
		t.Errorf("count %d", h.Count())
	}
	if (NewHistogram().Summary() != Latency{}) {
		t.Errorf("an empty histogram's summary is not zero")
	}
}

func TestHistogramClampsAndMerges(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	a.Record(0)             // below 1 µs: counted as 1 µs
	b.Record(2 * time.Hour) // above the range: clamped
	a.Merge(b)
	if a.Count() != 2 || a.overflow != 1 {
		t.Errorf("count %d overflow %d", a.Count(), a.overflow)
	}
	if s := a.Summary(); s.Min != 0.001 || s.Max < 3599000 {
		t.Errorf("min %v ms max %v ms, want 0.001 and about an hour", s.Min, s.Max)
	}
}

// TestHistogramMemoryIsConstant: the histogram's memory does not depend on
// how many values it holds.
func TestHistogramMemoryIsConstant(t *testing.T) {
	h := NewHistogram()
	before := h.ByteSize()
	for i := 0; i < 1_000_000; i++ {
		h.Record(time.Duration(i%100000) * time.Microsecond)
	}
	if h.ByteSize() != before {
		t.Errorf("byte size grew from %d to %d", before, h.ByteSize())
	}
}

// TestCoarseHistogram: 1% resolution in a seventh of the memory.
func TestCoarseHistogram(t *testing.T) {
	c := NewCoarseHistogram()
	for i := 1; i <= 1000; i++ {
		c.Record(time.Duration(i) * 10 * time.Microsecond)
	}
	if p50 := c.Summary().P50; p50 < 4.95 || p50 > 5.05 {
		t.Errorf("p50 %.3f ms, want 5 within 1%%", p50)
	}
	if c.ByteSize()*7 > NewHistogram().ByteSize() {
		t.Errorf("coarse %d bytes, full %d", c.ByteSize(), NewHistogram().ByteSize())
	}
}

func TestErrorTally(t *testing.T) {
	a, b := NewErrorTally(), NewErrorTally()
	long := strings.Repeat("x", 300)
	a.Add(ClassTimeout, "deadline")
	a.Add(ClassTimeout, "deadline")
	a.Add(ClassHTTPStatus, long)
	b.Add(ClassHTTPStatus, long+"different tail") // same first 160 characters: same group
	b.Add(ClassGRPCStatus, "Internal")
	a.Merge(b)
	g := a.Groups()
	if a.Total() != 5 || len(g) != 3 {
		t.Fatalf("total %d groups %+v", a.Total(), g)
	}
	if g[0].Count != 2 || g[1].Count != 2 || g[2].Count != 1 || g[0].Class != ClassHTTPStatus || g[1].Class != ClassTimeout {
		t.Errorf("groups not by count then class: %+v", g)
	}
	if n := len([]rune(g[0].Example)); n != ExampleLimit || !strings.HasSuffix(g[0].Example, "...") {
		t.Errorf("example of %d characters: %q", n, g[0].Example)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{{"short", 10, "short"}, {"exactly10!", 10, "exactly10!"}, {"eleven char", 10, "eleven ..."}, {"ééééééé", 5, "éé..."}}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.limit); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i%50000) * time.Microsecond)
	}
}

package measure

import (
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: microsecond resolution up to one hour, 3 significant
// digits, so its memory is fixed whatever the number of requests.
const (
	lowestMicros  = 1
	highestMicros = int64(time.Hour / time.Microsecond)
	sigFigs       = 3
	coarseSigFigs = 2
)

// Histogram records latencies with constant memory. It is not safe for
// concurrent use: give each worker its own and Merge them.
type Histogram struct {
	h        *hdr.Histogram
	overflow int64 // values above the trackable range, clamped to it
}

// NewHistogram makes an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdr.New(lowestMicros, highestMicros, sigFigs)}
}

// NewCoarseHistogram makes an empty histogram of 2 significant digits (1%
// resolution) over the same range, in a seventh of the memory (about
// 25 KB): enough for the percentiles of a measurement window, whose
// stability is judged to 10%, and cheap to merge and reset at every window.
func NewCoarseHistogram() *Histogram {
	return &Histogram{h: hdr.New(lowestMicros, highestMicros, coarseSigFigs)}
}

// Record adds one latency, rounded to the microsecond (at least 1 µs).
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < lowestMicros {
		us = lowestMicros
	}
	if us > highestMicros {
		us = highestMicros
		h.overflow++
	}
	_ = h.h.RecordValue(us) // in range by construction
}

// Merge adds another histogram's values into h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
	h.overflow += o.overflow
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Reset empties the histogram, keeping its memory.
func (h *Histogram) Reset() {
	h.h.Reset()
	h.overflow = 0
}

// ByteSize is the memory the histogram's counts take.
func (h *Histogram) ByteSize() int { return h.h.ByteSize() }

// Latency summarises a latency distribution in milliseconds.
type Latency struct {
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p999"`
	Max    float64 `json:"max"`
}

// Summary summarises the histogram; all zeros when it is empty.
func (h *Histogram) Summary() Latency {
	if h.Count() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return round3(float64(us) / 1000) }
	return Latency{
		Min:    ms(h.h.Min()),
		Mean:   round3(h.h.Mean() / 1000),
		Stddev: round3(h.h.StdDev() / 1000),
		P50:    ms(h.h.ValueAtQuantile(50)),
		P90:    ms(h.h.ValueAtQuantile(90)),
		P95:    ms(h.h.ValueAtQuantile(95)),
		P99:    ms(h.h.ValueAtQuantile(99)),
		P999:   ms(h.h.ValueAtQuantile(99.9)),
		Max:    ms(h.h.Max()),
	}
}

func pow2(x float64) float64 { return math.Exp2(x) }

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// round3 keeps three decimals: microseconds, when the unit is milliseconds.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

package measure

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// latencies draws a bimodal set of latencies, as a server with a slow path.
func latencies(n int, seed uint64) []time.Duration {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]time.Duration, n)
	for i := range out {
		base := 5 * time.Millisecond
		if r.IntN(10) == 0 {
			base = 80 * time.Millisecond
		}
		out[i] = base + time.Duration(r.ExpFloat64()*float64(2*time.Millisecond))
	}
	return out
}

func TestEncodeRoundTripKeepsEveryPercentile(t *testing.T) {
	for _, mk := range []func() *Histogram{NewHistogram, NewCoarseHistogram} {
		h := mk()
		for _, d := range latencies(20000, 7) {
			h.Record(d)
		}
		enc, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeHistogram(enc)
		if err != nil {
			t.Fatal(err)
		}
		if back.Summary() != h.Summary() || back.Count() != h.Count() || back.Digits() != h.Digits() {
			t.Errorf("%d digits: decoded %+v (n=%d), want %+v (n=%d)", h.Digits(), back.Summary(), back.Count(), h.Summary(), h.Count())
		}
		for _, p := range []float64{0, 1, 50, 99.99, 99.999, 100} {
			if back.Percentile(p) != h.Percentile(p) {
				t.Errorf("p%g: %v after decoding, %v before", p, back.Percentile(p), h.Percentile(p))
			}
		}
	}
}

// TestMergeIsExact: one set of latencies split into 4 histograms, each
// encoded and decoded, then merged, gives exactly the single histogram.
func TestMergeIsExact(t *testing.T) {
	all := NewHistogram()
	parts := []*Histogram{NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()}
	for i, d := range latencies(40000, 11) {
		all.Record(d)
		parts[i%4].Record(d)
	}
	merged := NewHistogram()
	for _, p := range parts {
		back, err := DecodeHistogram(p.MustEncode())
		if err != nil {
			t.Fatal(err)
		}
		merged.Merge(back)
	}
	if merged.Count() != all.Count() || merged.Summary() != all.Summary() {
		t.Fatalf("merged %+v (n=%d), single %+v (n=%d)", merged.Summary(), merged.Count(), all.Summary(), all.Count())
	}
	for p := 0.0; p <= 100; p += 0.25 {
		if merged.Percentile(p) != all.Percentile(p) {
			t.Errorf("p%g: merged %v, single %v", p, merged.Percentile(p), all.Percentile(p))
		}
	}
	if merged.MustEncode() != all.MustEncode() {
		t.Error("the merged histogram encodes differently from the single one")
	}
}

// envelope wraps inner (the decompressed form) as an encoded histogram.
func envelope(inner []byte) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(inner)
	w.Close()
	out := binary.BigEndian.AppendUint32(nil, 0x1c849304)
	out = binary.BigEndian.AppendUint32(out, uint32(z.Len()))
	return base64.StdEncoding.EncodeToString(append(out, z.Bytes()...))
}

func header(digits int32, lowest, highest int64, payload int) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0x1c849303)
	b = binary.BigEndian.AppendUint32(b, uint32(payload))
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(digits))
	b = binary.BigEndian.AppendUint64(b, uint64(lowest))
	b = binary.BigEndian.AppendUint64(b, uint64(highest))
	return binary.BigEndian.AppendUint64(b, 0x3ff0000000000000)
}

func TestDecodeRefusesWhatItDidNotWrite(t *testing.T) {
	// Counts past the end of the array: hdrhistogram-go would panic.
	counts := binary.AppendUvarint(nil, 2*100000-1) // zigzag: 100,000 zeros
	counts = binary.AppendUvarint(counts, 2)        // then a count of 1
	past := append(header(3, 1, 3600000000, len(counts)), counts...)
	cases := map[string]string{
		"empty":           "",
		"not base64":      "%%%",
		"short":           base64.StdEncoding.EncodeToString([]byte{1, 2, 3}),
		"wrong cookie":    base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"length past end": base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0x1c849304), 1000)),
		"other range":     envelope(header(3, 1, 1<<40, 0)),
		"five digits":     envelope(header(5, 1, 3600000000, 0)),
		"inflates":        envelope(append(header(3, 1, 3600000000, 1<<20), make([]byte, 1<<20)...)),
		"counts past end": envelope(past),
		"huge":            strings.Repeat("A", maxEncodedLen+4),
	}
	for name, enc := range cases {
		if h, err := DecodeHistogram(enc); err == nil {
			t.Errorf("%s: decoded (n=%d), want an error", name, h.Count())
		}
	}
}

func TestSpectrumReachesTheTail(t *testing.T) {
	h := NewHistogram()
	for _, d := range latencies(100000, 3) {
		h.Record(d)
	}
	s := h.Spectrum(5)
	if s[0].Percentile != 0 || s[len(s)-1].Percentile != 100 || s[len(s)-1].LatencyMs != h.MaxMs() {
		t.Fatalf("spectrum from %+v to %+v", s[0], s[len(s)-1])
	}
	var reach99999 bool
	for i := 1; i < len(s); i++ {
		if s[i].Percentile <= s[i-1].Percentile || s[i].LatencyMs < s[i-1].LatencyMs {
			t.Fatalf("spectrum not increasing at %d: %+v then %+v", i, s[i-1], s[i])
		}
		reach99999 = reach99999 || s[i].Percentile >= 99.999 && s[i].Percentile < 100
	}
	if !reach99999 {
		t.Errorf("100,000 values: want points past p99.999, got %d points to %+v", len(s), s[len(s)-2])
	}
}

func TestBinsHoldEveryValue(t *testing.T) {
	h := NewCoarseHistogram()
	for _, d := range []time.Duration{time.Millisecond, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		h.Record(d)
	}
	bins := h.Bins()
	var n int64
	for i, b := range bins {
		n += b.Count
		if i > 0 && b.ValueMs <= bins[i-1].ValueMs {
			t.Errorf("bins not ascending: %+v", bins)
		}
	}
	if len(bins) != 3 || n != 4 || bins[0].Count != 2 || bins[len(bins)-1].ValueMs != h.Percentile(100) {
		t.Errorf("bins %+v, want 3 holding 4 values, the last at the max %g", bins, h.Percentile(100))
	}
}

package measure

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// maxEncodedLen bounds an encoded histogram read back: the largest this
// package writes (every one of the 3-digit histogram's 23,552 counts
// non-zero, nine bytes each, compressed) is under 300 KB of base64.
const maxEncodedLen = 1 << 20

// maxDecompressedLen bounds what an encoded histogram may inflate to: its
// 40-byte header and at most nine bytes per count.
const maxDecompressedLen = 40 + 9*32*1024

// Encode returns the histogram in HdrHistogram's standard V2 compressed
// encoding, base64: the form every HdrHistogram implementation reads
// (Java's HistogramLogReader, hdrhistogram-go's Decode, HdrHistogram_c).
// Values are microseconds.
func (h *Histogram) Encode() (string, error) {
	b, err := h.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encoding a histogram: %w", err)
	}
	return string(b), nil
}

// MustEncode is Encode for histograms this package made, whose encoding
// cannot fail (it writes to memory).
func (h *Histogram) MustEncode() string {
	s, err := h.Encode()
	if err != nil {
		panic(err)
	}
	return s
}

// DecodeHistogram reads Encode's form back. It accepts only the ranges and
// precisions this package records (1 µs to 1 h, 2 or 3 significant
// digits), and checks the encoding's lengths before the decoder sees it,
// so a hostile result file can neither make it panic nor inflate it.
func DecodeHistogram(s string) (*Histogram, error) {
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("encoded histogram of %d bytes: more than the %d this tool writes", len(s), maxEncodedLen)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("encoded histogram: not base64: %w", err)
	}
	if len(raw) < 8 {
		return nil, errors.New("encoded histogram: too short")
	}
	if cookie := int32(binary.BigEndian.Uint32(raw[0:4])) &^ 0xf0; cookie != hdr.V2CompressedEncodingCookieBase {
		return nil, fmt.Errorf("encoded histogram: cookie %#x, want HdrHistogram's V2 compressed encoding", cookie)
	}
	n := int(binary.BigEndian.Uint32(raw[4:8]))
	if n < 0 || n > len(raw)-8 {
		return nil, fmt.Errorf("encoded histogram: says %d compressed bytes, holds %d", n, len(raw)-8)
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8 : 8+n]))
	if err != nil {
		return nil, fmt.Errorf("encoded histogram: %w", err)
	}
	inner, err := io.ReadAll(io.LimitReader(z, maxDecompressedLen+1))
	if err != nil {
		return nil, fmt.Errorf("encoded histogram: %w", err)
	}
	if len(inner) > maxDecompressedLen {
		return nil, fmt.Errorf("encoded histogram: inflates past %d bytes", maxDecompressedLen)
	}
	if len(inner) < 40 {
		return nil, errors.New("encoded histogram: header too short")
	}
	digits := int32(binary.BigEndian.Uint32(inner[12:16]))
	lowest := int64(binary.BigEndian.Uint64(inner[16:24]))
	highest := int64(binary.BigEndian.Uint64(inner[24:32]))
	if lowest != lowestMicros || highest != highestMicros || (digits != sigFigs && digits != coarseSigFigs) {
		return nil, fmt.Errorf("encoded histogram: range %d..%d at %d digits, want %d..%d µs at %d or %d",
			lowest, highest, digits, lowestMicros, highestMicros, coarseSigFigs, sigFigs)
	}
	return decodeChecked(s)
}

// decodeChecked runs hdrhistogram-go's decoder on an encoding whose header
// was checked; counts placed past the end of the array make it panic,
// which is an error here.
func decodeChecked(s string) (h *Histogram, err error) {
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("encoded histogram: corrupt counts (%v)", r)
		}
	}()
	d, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("encoded histogram: %w", err)
	}
	return &Histogram{h: d}, nil
}

// Digits is the histogram's precision in significant decimal digits.
func (h *Histogram) Digits() int { return int(h.h.SignificantFigures()) }

// Percentile is the latency at percentile p (0..100) in milliseconds,
// rounded to the microsecond; 0 when the histogram is empty.
func (h *Histogram) Percentile(p float64) float64 {
	if h.Count() == 0 {
		return 0
	}
	return round3(float64(h.h.ValueAtQuantile(p)) / 1000)
}

// MaxMs is the largest latency recorded in milliseconds (to the
// histogram's precision); 0 when it is empty.
func (h *Histogram) MaxMs() float64 {
	if h.Count() == 0 {
		return 0
	}
	return round3(float64(h.h.Max()) / 1000)
}

// SpectrumPoint is one point of a percentile spectrum.
type SpectrumPoint struct {
	Percentile float64 `json:"percentile"`
	LatencyMs  float64 `json:"latency_ms"`
}

// Spectrum is the histogram's percentile spectrum as HdrHistogram's
// plotter draws it: ticksPerHalf points per halving of the distance to
// 100% (50%, 75%, 87.5%, ...) until the last value is reached, so that a
// log "1/(1-p)" axis shows the tail as evenly as the body.
func (h *Histogram) Spectrum(ticksPerHalf int) []SpectrumPoint {
	if h.Count() == 0 {
		return nil
	}
	if ticksPerHalf < 1 {
		ticksPerHalf = 1
	}
	var out []SpectrumPoint
	total := float64(h.Count())
	for i := 0; ; i++ {
		// p = 100 * (1 - 0.5^(i/ticksPerHalf))
		p := 100 * (1 - pow2(-float64(i)/float64(ticksPerHalf)))
		v := h.Percentile(p)
		out = append(out, SpectrumPoint{Percentile: round6(p), LatencyMs: v})
		// Stop once the remaining tail holds less than one value.
		if (100-p)/100*total < 1 || i > 64*ticksPerHalf {
			break
		}
	}
	out = append(out, SpectrumPoint{Percentile: 100, LatencyMs: h.MaxMs()})
	return out
}

// Bin is one non-empty bucket of a histogram: its count, at the value
// Percentile reports for it (the bucket's highest equivalent value), in
// milliseconds.
type Bin struct {
	ValueMs float64
	Count   int64
}

// Bins lists the histogram's non-empty buckets, lowest value first.
func (h *Histogram) Bins() []Bin {
	var out []Bin
	for _, b := range h.h.Distribution() {
		if b.Count > 0 {
			out = append(out, Bin{ValueMs: round3(float64(b.To) / 1000), Count: b.Count})
		}
	}
	return out
}

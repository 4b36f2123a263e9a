package load

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Schedule file formats.
const (
	// ScheduleOffsetsMs is one send time per line, in milliseconds from
	// the start (floats allowed), never decreasing.
	ScheduleOffsetsMs = "offsets-ms"
	// ScheduleIntervalsUs is perf_analyzer's --request-intervals file: one
	// gap per line in microseconds, the first before the first send.
	ScheduleIntervalsUs = "intervals-us"
)

// A Schedule is a trace of send times to replay.
type Schedule struct {
	// Offsets are the send times from the start, never decreasing.
	Offsets []time.Duration
	// Period is the length of one pass when the trace loops: the sum of
	// the gaps for intervals, the last offset plus the mean gap for
	// offsets.
	Period time.Duration
}

// ReadSchedule reads a schedule file in format (ScheduleOffsetsMs if
// empty). Blank lines and lines starting with # are skipped; an error
// names the file and the line.
func ReadSchedule(path, format string) (*Schedule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	defer f.Close()
	return ParseSchedule(path, f, format)
}

// ParseSchedule reads a schedule from r; name is the file's name in
// errors.
func ParseSchedule(name string, r io.Reader, format string) (*Schedule, error) {
	if format == "" {
		format = ScheduleOffsetsMs
	}
	if format != ScheduleOffsetsMs && format != ScheduleIntervalsUs {
		return nil, fmt.Errorf("schedule format %q: want %s or %s", format, ScheduleOffsetsMs, ScheduleIntervalsUs)
	}
	unit, what := float64(time.Millisecond), "an offset in milliseconds"
	if format == ScheduleIntervalsUs {
		unit, what = float64(time.Microsecond), "an interval in microseconds"
	}
	sc := bufio.NewScanner(r)
	var (
		out  Schedule
		at   time.Duration
		line int
	)
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || v < 0 || v*unit >= float64(math.MaxInt64)/2 {
			return nil, fmt.Errorf("%s:%d: %q is not %s (a number not below 0)", name, line, text, what)
		}
		d := time.Duration(math.Round(v * unit))
		if format == ScheduleIntervalsUs {
			at += d
		} else {
			if n := len(out.Offsets); n > 0 && d < out.Offsets[n-1] {
				return nil, fmt.Errorf("%s:%d: offset %s ms comes before the previous line's %g ms: offsets must not decrease", name, line, text, float64(out.Offsets[n-1])/unit)
			}
			at = d
		}
		if at < 0 {
			return nil, fmt.Errorf("%s:%d: the schedule is longer than %v", name, line, time.Duration(math.MaxInt64))
		}
		out.Offsets = append(out.Offsets, at)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	n := len(out.Offsets)
	if n == 0 {
		return nil, fmt.Errorf("%s: no send time in the file (one number a line; # comments)", name)
	}
	out.Period = out.Offsets[n-1]
	if format == ScheduleOffsetsMs && n > 1 {
		out.Period += out.Offsets[n-1] / time.Duration(n-1)
	}
	return &out, nil
}

// ParseSpeed reads a schedule speed: "2x", "0.5x" or a plain number.
func ParseSpeed(text string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(text), "x"), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("schedule speed %q: want a factor above 0 such as 2x or 0.5x", text)
	}
	return v, nil
}

// SchedulePacer replays a schedule: request i is due at offset i divided
// by Speed; with Loop the trace repeats every Period (divided by Speed),
// without it requests past its end are never due.
type SchedulePacer struct {
	S     *Schedule
	Speed float64 // above 0; 2 halves the span
	Loop  bool
}

// Due is request hits's offset, scaled.
func (p SchedulePacer) Due(hits uint64) time.Duration {
	n := uint64(len(p.S.Offsets))
	pass := hits / n
	if pass > 0 && (!p.Loop || p.S.Period <= 0) {
		return Never
	}
	at := float64(p.S.Offsets[hits%n]) + float64(pass)*float64(p.S.Period)
	return seconds(at / p.Speed / float64(time.Second))
}

// Pace waits until the next request is due.
func (p SchedulePacer) Pace(elapsed time.Duration, hits uint64) time.Duration {
	return wait(p.Due(hits), elapsed)
}

// Rate is the trace's mean rate at its speed.
func (p SchedulePacer) Rate() float64 {
	span := p.S.Period.Seconds() / p.Speed
	if span <= 0 {
		return float64(len(p.S.Offsets)) * 1000 // all at once: as if within 1 ms
	}
	return float64(len(p.S.Offsets)) / span
}

// Sends is how many requests one pass of the trace sends.
func (p SchedulePacer) Sends() int { return len(p.S.Offsets) }

// ArrivalBursty sends bursts of requests back to back, separated by idle
// gaps of exponential distribution (BurstyPacer).
const ArrivalBursty = "bursty"

// BurstyPacer sends bursts of Size requests, all due at the same time,
// the bursts separated by exponentially distributed gaps of mean Idle
// drawn from a seed (the first burst at once): Poisson arrivals of
// bursts, at a mean rate of Size/Idle requests per second.
type BurstyPacer struct {
	size uint64
	idle time.Duration
	unit *unitArrivals
}

// NewBurstyPacer makes a bursty pacer; size at least 1, idle above 0.
func NewBurstyPacer(size int, idle time.Duration, seed uint64) (*BurstyPacer, error) {
	if size < 1 {
		return nil, fmt.Errorf("burst size %d: need at least 1", size)
	}
	if idle <= 0 {
		return nil, fmt.Errorf("burst idle %v: must be above 0", idle)
	}
	return &BurstyPacer{size: uint64(size), idle: idle, unit: newUnitArrivals(seed)}, nil
}

// Due is the start of request hits's burst.
func (p *BurstyPacer) Due(hits uint64) time.Duration {
	return seconds(p.unit.at(hits/p.size) * p.idle.Seconds())
}

// Pace waits until the next request is due.
func (p *BurstyPacer) Pace(elapsed time.Duration, hits uint64) time.Duration {
	return wait(p.Due(hits), elapsed)
}

// Rate is the mean rate, Size/Idle.
func (p *BurstyPacer) Rate() float64 { return float64(p.size) / p.idle.Seconds() }

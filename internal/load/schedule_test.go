package load

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("t.txt", strings.NewReader("# a trace\n0\n\n1.5\n 1.5 \n10\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	want := []time.Duration{0, 1500 * time.Microsecond, 1500 * time.Microsecond, 10 * ms}
	if len(s.Offsets) != len(want) {
		t.Fatalf("offsets %v, want %v", s.Offsets, want)
	}
	for i := range want {
		if s.Offsets[i] != want[i] {
			t.Errorf("offset %d = %v, want %v", i, s.Offsets[i], want[i])
		}
	}
	if s.Period != 10*ms+10*ms/3 {
		t.Errorf("period %v", s.Period)
	}
	// perf_analyzer's intervals: the gaps add up, the first before the first send
	s, err = ParseSchedule("i.txt", strings.NewReader("100\n200\n#x\n300\n"), ScheduleIntervalsUs)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Offsets; len(got) != 3 || got[0] != 100*time.Microsecond || got[2] != 600*time.Microsecond || s.Period != 600*time.Microsecond {
		t.Errorf("intervals: offsets %v period %v", got, s.Period)
	}
	for _, bad := range []struct{ text, format, says string }{
		{"0\n5\n3\n", "", "t.txt:3: offset 3 ms comes before the previous line's 5 ms"},
		{"0\nabc\n", "", `t.txt:2: "abc" is not an offset in milliseconds`},
		{"1\n2 3\n", "", `t.txt:2: "2 3" is not`},
		{"-1\n", "", `t.txt:1: "-1" is not`},
		{"100\nNaN\n", ScheduleIntervalsUs, `t.txt:2: "NaN" is not an interval in microseconds`},
		{"# nothing\n", "", "t.txt: no send time"},
		{"1\n", "seconds", `schedule format "seconds"`},
	} {
		if _, err := ParseSchedule("t.txt", strings.NewReader(bad.text), bad.format); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%q: %v, want %q", bad.text, err, bad.says)
		}
	}
}

func TestSchedulePacer(t *testing.T) {
	s := &Schedule{Offsets: []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond}, Period: 40 * time.Millisecond}
	ms := time.Millisecond
	for _, tt := range []struct {
		speed float64
		loop  bool
		hits  uint64
		want  time.Duration
	}{
		{1, false, 1, 10 * ms},
		{1, false, 2, 30 * ms},
		{1, false, 3, Never},
		{2, false, 2, 15 * ms},
		{0.5, false, 2, 60 * ms},
		{1, true, 3, 40 * ms},
		{1, true, 5, 70 * ms},
		{2, true, 8, 55 * ms}, // (2*40 + 30) / 2
	} {
		p := SchedulePacer{S: s, Speed: tt.speed, Loop: tt.loop}
		if got := p.Due(tt.hits); got != tt.want {
			t.Errorf("speed %v loop %v: Due(%d) = %v, want %v", tt.speed, tt.loop, tt.hits, got, tt.want)
		}
	}
}

// TestScheduleSpeedHalvesTheSpan: 1,000 offsets replayed at 2x span half
// the time, exactly.
func TestScheduleSpeedHalvesTheSpan(t *testing.T) {
	// offsets i*i/1000 ms, written as floats
	var lines strings.Builder
	for i := range 1000 {
		lines.WriteString(strconv.FormatFloat(float64(i*i)/1000, 'f', -1, 64))
		lines.WriteByte('\n')
	}
	s, err := ParseSchedule("trace", strings.NewReader(lines.String()), ScheduleOffsetsMs)
	if err != nil {
		t.Fatal(err)
	}
	one, two := SchedulePacer{S: s, Speed: 1}, SchedulePacer{S: s, Speed: 2}
	span1, span2 := one.Due(999)-one.Due(0), two.Due(999)-two.Due(0)
	if span1 != 998001*time.Microsecond || span2 != span1/2 {
		t.Errorf("span at 1x %v, at 2x %v: want 998.001 ms and half", span1, span2)
	}
	for i := uint64(0); i < 1000; i++ {
		if d := two.Due(i) - one.Due(i)/2; d < -1 || d > 1 {
			t.Fatalf("send %d at 2x: %v, want %v", i, two.Due(i), one.Due(i)/2)
		}
	}
	if one.Due(1000) != Never {
		t.Error("a trace that does not loop sends past its end")
	}
}

func TestParseSpeed(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{{"2x", 2, true}, {"0.5x", 0.5, true}, {"3", 3, true}, {"0x", 0, false}, {"-1x", 0, false}, {"fast", 0, false}, {"Infx", 0, false}} {
		got, err := ParseSpeed(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSpeed(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestBurstyPacer(t *testing.T) {
	p, err := NewBurstyPacer(8, 100*time.Millisecond, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 8; i++ {
		if p.Due(i) != 0 {
			t.Fatalf("the first burst's request %d is due at %v", i, p.Due(i))
		}
	}
	if p.Due(8) <= 0 || p.Due(8) != p.Due(15) || p.Due(16) < p.Due(15) {
		t.Errorf("second burst at %v..%v, third at %v", p.Due(8), p.Due(15), p.Due(16))
	}
	// 2,000 bursts: mean idle within 10% of 100 ms; rate 80/s
	mean := p.Due(8*2000).Seconds() / 2000
	if mean < 0.09 || mean > 0.11 || p.Rate() != 80 {
		t.Errorf("mean gap %.4f s, rate %v", mean, p.Rate())
	}
	if _, err := NewBurstyPacer(0, time.Second, 1); err == nil {
		t.Error("a burst of 0 requests is accepted")
	}
	if _, err := NewBurstyPacer(4, 0, 1); err == nil {
		t.Error("an idle time of 0 is accepted")
	}
}

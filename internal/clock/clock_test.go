package clock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// at is a local wall time: second s of a fixed day and nanosecond ns.
func at(s int64, ns time.Duration) time.Time {
	return time.Unix(1_790_000_000+s, int64(ns))
}

func TestBoundsAdd(t *testing.T) {
	type probe struct {
		sent, received time.Time
		date           time.Time
	}
	ms := time.Millisecond
	tests := []struct {
		name   string
		probes []probe
		lo, hi time.Duration
		empty  bool
	}{
		{"one probe: a second and a round trip wide",
			[]probe{{at(10, 100*ms), at(10, 110*ms), at(10, 0)}}, -900 * ms, 110 * ms, false},
		{"a flip between two probes brackets it",
			[]probe{{at(10, 100*ms), at(10, 110*ms), at(10, 0)}, {at(10, 120*ms), at(10, 130*ms), at(11, 0)}},
			-900 * ms, -870 * ms, false},
		{"a server 2 s behind",
			[]probe{{at(10, 500*ms), at(10, 501*ms), at(8, 0)}, {at(10, 502*ms), at(10, 503*ms), at(9, 0)}},
			1500 * ms, 1503 * ms, false},
		{"only the tightest probes count",
			[]probe{
				{at(10, 0), at(10, 400*ms), at(10, 0)},       // (-1000, +400]
				{at(10, 300*ms), at(10, 310*ms), at(10, 0)},  // (-700, +310]
				{at(10, 350*ms), at(10, 900*ms), at(11, 0)},  // (-1650, -100]
				{at(10, 330*ms), at(10, 340*ms), at(10, 0)}}, // (-670, +340]
			-670 * ms, -100 * ms, false},
		{"contradicting servers",
			[]probe{{at(10, 100*ms), at(10, 110*ms), at(11, 0)}, {at(10, 120*ms), at(10, 130*ms), at(10, 0)}},
			-880 * ms, -890 * ms, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bounds
			for _, p := range tt.probes {
				b.add(p.sent, p.received, p.date)
			}
			if b.lo != tt.lo || b.hi != tt.hi || b.empty() != tt.empty || b.n != len(tt.probes) {
				t.Fatalf("bounds (%v, %v] empty %v n %d, want (%v, %v] empty %v n %d",
					b.lo, b.hi, b.empty(), b.n, tt.lo, tt.hi, tt.empty, len(tt.probes))
			}
			if !tt.empty {
				off, unc := b.estimate()
				if off-unc > b.lo || off+unc < b.hi {
					t.Fatalf("estimate %v ±%v does not cover (%v, %v]", off, unc, b.lo, b.hi)
				}
			}
		})
	}
}

// sim is a server whose clock is offset from a simulated local clock,
// reached over a network with a round trip of rtt plus up to jitter, its
// clock read anywhere in the round trip; the local timers wake up to
// oversleep late.
type sim struct {
	now       time.Time
	offset    time.Duration // local minus server
	rtt       time.Duration
	jitter    time.Duration
	oversleep time.Duration
	rng       *rand.Rand
	probes    int
	// dates, when set, replaces the server's clock: the Date of probe i.
	dates func(i int, server time.Time) time.Time
}

func (s *sim) Now() time.Time { return s.now }

func (s *sim) Sleep(ctx context.Context, d time.Duration) error {
	s.now = s.now.Add(d + s.rand(s.oversleep))
	return ctx.Err()
}

func (s *sim) rand(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(d) + 1))
}

func (s *sim) Probe(ctx context.Context) (time.Time, error) {
	s.probes++
	rtt := s.rtt + s.rand(s.jitter)
	read := s.now.Add(s.rand(rtt))
	s.now = s.now.Add(rtt)
	server := read.Add(-s.offset)
	if s.dates != nil {
		return s.dates(s.probes, server), nil
	}
	return server.Truncate(time.Second), nil
}

func (s *sim) options() Options { return Options{Now: s.Now, Sleep: s.Sleep} }

func TestOffsetSimulated(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	tests := []struct {
		offset, rtt, jitter, oversleep time.Duration
		// narrow bounds the uncertainty in the noise-free cases (0: not
		// checked).
		narrow time.Duration
	}{
		{0, 100 * us, 0, 0, ms},
		{12345 * us, 100 * us, 0, 0, ms},
		{-7 * ms, 2 * ms, 0, 0, 2*2*ms + ms},
		{1700 * ms, 2 * ms, 0, 0, 2*2*ms + ms},
		{-2300 * ms, 5 * ms, 0, 0, 2*5*ms + ms},
		{3*time.Hour + 999*ms, 15 * ms, 0, 0, 2*15*ms + ms},
		{-999 * ms, 40 * ms, 0, 0, 2*40*ms + ms},
		{73 * ms, 200 * us, 3 * ms, 0, 0},
		{-450 * ms, 2 * ms, 20 * ms, 2 * ms, 0},
		{1 * ms, 80 * ms, 100 * ms, 5 * ms, 0},
		{500 * ms, 300 * ms, 0, 0, 0}, // slower than the coarse spacing
	}
	for _, tt := range tests {
		name := fmt.Sprintf("offset %v rtt %v jitter %v oversleep %v", tt.offset, tt.rtt, tt.jitter, tt.oversleep)
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(40) {
				rng := rand.New(rand.NewPCG(seed, 7))
				// Start anywhere within a second.
				start := at(0, time.Duration(rng.Int64N(int64(time.Second))))
				s := &sim{now: start, offset: tt.offset, rtt: tt.rtt, jitter: tt.jitter, oversleep: tt.oversleep, rng: rng}
				e, err := Offset(context.Background(), s.Probe, s.options())
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				if d := e.Offset - tt.offset; d > e.Uncertainty || -d > e.Uncertainty {
					t.Fatalf("seed %d: %v misses the true offset %v by %v", seed, e, tt.offset, d)
				}
				if e.Probes != s.probes || e.Probes > defaultMaxProbes {
					t.Fatalf("seed %d: %d probes reported, %d sent (at most %d)", seed, e.Probes, s.probes, defaultMaxProbes)
				}
				if took := s.now.Sub(start); took > defaultMaxDuration+tt.rtt+tt.jitter+tt.oversleep {
					t.Fatalf("seed %d: took %v, more than %v", seed, took, defaultMaxDuration)
				}
				if e.RTT < tt.rtt || e.RTT > tt.rtt+tt.jitter {
					t.Fatalf("seed %d: RTT %v, want %v..%v", seed, e.RTT, tt.rtt, tt.rtt+tt.jitter)
				}
				if tt.narrow > 0 && e.Uncertainty > tt.narrow/2 {
					t.Fatalf("seed %d: %v: uncertainty wider than %v", seed, e, tt.narrow/2)
				}
			}
		})
	}
}

// TestOffsetProbeCounts pins the load on the server in the noise-free case
// of an API server a few milliseconds away: one coarse and one fine pass.
func TestOffsetProbeCounts(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 11))
		start := at(0, time.Duration(rng.Int64N(int64(time.Second))))
		s := &sim{now: start, offset: 42 * time.Millisecond, rtt: 3 * time.Millisecond, rng: rng}
		e, err := Offset(context.Background(), s.Probe, s.options())
		if err != nil {
			t.Fatal(err)
		}
		// The coarse pass: at most a second of probes 22 ms apart and one
		// more; the fine pass: its window (22 ms + 3 ms and margins) back
		// to back at 3 ms.
		if e.Probes > 1+47+12 {
			t.Fatalf("seed %d: %d probes", seed, e.Probes)
		}
		if took := s.now.Sub(start); took > 2200*time.Millisecond {
			t.Fatalf("seed %d: took %v", seed, took)
		}
	}
}

func TestOffsetFails(t *testing.T) {
	ms := time.Millisecond
	boom := errors.New("connection refused")
	tests := []struct {
		name  string
		dates func(i int, server time.Time) time.Time
		probe func(s *sim) Probe
		opts  Options
		want  string
		is    error
	}{
		{"frozen Date", func(int, time.Time) time.Time { return at(5, 0) }, nil, Options{}, "the Date stayed at", ErrNoFlip},
		{"frozen Date, few probes allowed", func(int, time.Time) time.Time { return at(5, 0) }, nil, Options{MaxProbes: 10},
			"(10 probes, the most allowed)", ErrNoFlip},
		{"two servers 400 ms apart", func(i int, server time.Time) time.Time {
			if i%2 == 0 {
				server = server.Add(400 * ms)
			}
			return server.Truncate(time.Second)
		}, nil, Options{}, "contradicts", ErrInconsistent},
		{"a failed probe", nil, func(s *sim) Probe {
			return func(ctx context.Context) (time.Time, error) {
				if s.probes == 10 {
					return time.Time{}, boom
				}
				return s.Probe(ctx)
			}
		}, Options{}, "clock probe 11: connection refused", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sim{now: at(0, 300*ms), rtt: ms, rng: rand.New(rand.NewPCG(1, 2)), dates: tt.dates}
			probe := s.Probe
			if tt.probe != nil {
				probe = tt.probe(s)
			}
			opts := tt.opts
			opts.Now, opts.Sleep = s.Now, s.Sleep
			_, err := Offset(context.Background(), probe, opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want one with %q that is %v", err, tt.want, tt.is)
			}
			if s.probes > defaultMaxProbes {
				t.Fatalf("%d probes", s.probes)
			}
		})
	}
}

// TestOffsetKeepsTheCoarseBoundsAtItsDeadline: a fine-pass probe that
// hangs until MaxDuration (3 s of real time) ends the fine pass, not the
// estimate.
func TestOffsetKeepsTheCoarseBoundsAtItsDeadline(t *testing.T) {
	t.Parallel()
	s := &sim{now: at(0, 300*time.Millisecond), offset: -123 * time.Millisecond, rtt: time.Millisecond, rng: rand.New(rand.NewPCG(3, 4))}
	var last time.Time
	fine := 0
	probe := func(ctx context.Context) (time.Time, error) {
		if !last.IsZero() && s.now.Sub(last) > 500*time.Millisecond {
			fine = 1 // the sleep before the fine pass
		} else if fine > 0 {
			fine++
		}
		last = s.now
		if fine == 3 {
			<-ctx.Done()
			return time.Time{}, ctx.Err()
		}
		return s.Probe(ctx)
	}
	e, err := Offset(context.Background(), probe, s.options())
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Offset - s.offset; d > e.Uncertainty || -d > e.Uncertainty {
		t.Fatalf("%v misses the true offset %v by %v", e, s.offset, d)
	}
	if fine != 3 || e.Probes != s.probes+1 {
		t.Fatalf("%d fine-pass probes, %d reported, %d answered: want the third to hang", fine, e.Probes, s.probes)
	}
}

func TestOffsetCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &sim{now: at(0, 0), rtt: time.Millisecond, rng: rand.New(rand.NewPCG(1, 2))}
	if _, err := Offset(ctx, s.Probe, s.options()); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestCompareSkew(t *testing.T) {
	ms := time.Millisecond
	coord := Estimate{Offset: 10 * ms, Uncertainty: 2 * ms}
	tests := []struct {
		name   string
		loader Estimate
		skew   time.Duration
		unc    time.Duration
		over   bool
		msg    string
	}{
		{"ahead", Estimate{Offset: 83 * ms, Uncertainty: 2 * ms}, 73 * ms, 4 * ms, true,
			"loader 2's clock is 73 ms ahead of the coordinator's (±4.0 ms, through the API server's Date header): it starts each step 73 ms early"},
		{"behind", Estimate{Offset: -60 * ms, Uncertainty: 5 * ms}, -70 * ms, 7 * ms, true,
			"loader 2's clock is 70 ms behind the coordinator's (±7.0 ms, through the API server's Date header): it starts each step 70 ms late"},
		{"within the threshold", Estimate{Offset: 40 * ms, Uncertainty: ms}, 30 * ms, 3 * ms, false, "30 ms ahead"},
		{"over only within the uncertainty", Estimate{Offset: 65 * ms, Uncertainty: 10 * ms}, 55 * ms, 12 * ms, false, "(±12 ms"},
		{"just over beyond it", Estimate{Offset: 73 * ms, Uncertainty: 10 * ms}, 63 * ms, 12 * ms, true, "63 ms ahead"},
		{"same clock", Estimate{Offset: 10 * ms, Uncertainty: 300 * time.Microsecond}, 0, 2300 * time.Microsecond, false, "0.0 ms ahead"},
		{"a second behind", Estimate{Offset: -1990 * ms, Uncertainty: 3 * ms}, -2000 * ms, 5 * ms, true, "2000 ms behind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := CompareSkew("loader 2", coord, tt.loader, SkewThreshold)
			if s.Skew != tt.skew || s.Uncertainty != tt.unc || s.Over != tt.over || !strings.Contains(s.Message, tt.msg) {
				t.Fatalf("got %+v, want skew %v ±%v over %v message with %q", s, tt.skew, tt.unc, tt.over, tt.msg)
			}
			if strings.Contains(s.Message, "\n") {
				t.Fatalf("message %q is more than one line", s.Message)
			}
		})
	}
}

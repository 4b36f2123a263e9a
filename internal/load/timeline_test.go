package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// checkTimeline asserts that a run's timeline tiles its measured phase on
// whole wall-clock seconds and counts every request exactly once.
func checkTimeline(t *testing.T, res *load.Result) {
	t.Helper()
	tl := res.Timeline
	if len(tl) == 0 {
		t.Fatal("no timeline")
	}
	if !tl[0].Start.Equal(res.Started) {
		t.Errorf("timeline starts at %s, the phase at %s", tl[0].Start, res.Started)
	}
	if end := tl[len(tl)-1].End(); end.Sub(res.Ended).Abs() > 50*time.Millisecond {
		// The last interval closes when the coordinator is told, a
		// moment after the phase's clock stops.
		t.Errorf("timeline ends at %s, the phase at %s", end, res.Ended)
	}
	var sent, ok int64
	errs := map[string]int64{}
	for i, iv := range tl {
		sent += iv.Sent
		ok += iv.OK
		for c, n := range iv.Errors {
			errs[c] += n
		}
		if i > 0 {
			if iv.Start.Sub(tl[i-1].End()).Abs() > time.Microsecond {
				t.Errorf("interval %d starts at %s, the previous ends at %s", i, iv.Start, tl[i-1].End())
			}
			if iv.Start.Nanosecond() != 0 {
				t.Errorf("interval %d starts at %s, not on a whole second", i, iv.Start)
			}
		}
		if i > 0 && i < len(tl)-1 && iv.DurationS != 1 {
			t.Errorf("interval %d lasts %g s, want 1", i, iv.DurationS)
		}
		if (iv.OK > 0) != (iv.Histogram != "") || (iv.OK > 0) != (iv.LatencyMs != nil) {
			t.Errorf("interval %d: %d successes, histogram %q, latency %+v", i, iv.OK, iv.Histogram, iv.LatencyMs)
		}
		if iv.InFlight < 0 {
			t.Errorf("interval %d: %d in flight", i, iv.InFlight)
		}
	}
	if sent != res.Sent || ok != res.OK {
		t.Errorf("timeline: sent %d ok %d; the run: sent %d ok %d", sent, ok, res.Sent, res.OK)
	}
	var total int64
	for _, g := range res.ErrorGroups {
		if errs[g.Class] < g.Count {
			t.Errorf("class %s: %d in the timeline, at least %d in the run", g.Class, errs[g.Class], g.Count)
		}
		total += g.Count
	}
	var tlTotal int64
	for _, n := range errs {
		tlTotal += n
	}
	if tlTotal != total {
		t.Errorf("timeline: %d errors, the run %d", tlTotal, total)
	}
	if last := tl[len(tl)-1]; last.InFlight != 0 {
		t.Errorf("%d in flight at the end of the phase, want 0", last.InFlight)
	}
}

func TestTimelineClosedLoop(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, 2*time.Millisecond), 0.2)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Duration: 2500 * time.Millisecond, Warmup: 20})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Timeline); n < 3 || n > 4 {
		t.Errorf("%d intervals for a 2.5 s phase, want 3 or 4", n)
	}
	if res.Errors == 0 {
		t.Fatal("the server injects 20% errors; none counted")
	}
	checkTimeline(t, res)
}

func TestTimelineOpenLoopShowsTheStall(t *testing.T) {
	stall := &stallEmulator{Emulator: refserver.NewInstances(4, 5*time.Millisecond)}
	r, _ := server(t, stall, 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	stall.from = time.Now().Add(1200 * time.Millisecond)
	stall.until = stall.from.Add(1500 * time.Millisecond)
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Rate: 100, Duration: 4 * time.Second, MaxInFlight: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkTimeline(t, res)
	var longest float64
	var inFlight int64
	for _, iv := range res.Timeline {
		if iv.MaxSilenceMs > longest {
			longest = iv.MaxSilenceMs
		}
		inFlight = max(inFlight, iv.InFlight)
	}
	// The server answers nothing for 1.5 s with four requests in flight;
	// sampled every 100 ms, the silence is seen within two samples.
	if longest < 1200 {
		t.Errorf("longest silence %.0f ms, want the 1.5 s stall (>= 1200 ms); timeline %+v", longest, res.Timeline)
	}
	if inFlight != 4 {
		t.Errorf("at most %d in flight at a second's end, want the limit of 4 during the stall", inFlight)
	}
}

// TestTimelineWarmupIsNotInIt: the warmup's requests are not in the
// measured phase's timeline.
func TestTimelineWarmupIsNotInIt(t *testing.T) {
	res, err := load.Run(context.Background(), load.Config{Client: fakeClient{delay: time.Millisecond}, Payloads: []protocol.Payload{fakePayload{}},
		Concurrency: 2, Requests: 100, Warmup: 50})
	if err != nil {
		t.Fatal(err)
	}
	checkTimeline(t, res)
	if res.Timeline[0].Sent+sumSent(res.Timeline[1:]) != 100 {
		t.Errorf("timeline sent %d, want the 100 measured", sumSent(res.Timeline))
	}
}

func sumSent(ivs []measure.Interval) int64 {
	var n int64
	for _, iv := range ivs {
		n += iv.Sent
	}
	return n
}

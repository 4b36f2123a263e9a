package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestStagedOpenLoopBounds runs a short rate ramp end to end and checks
// what no machine load can break: every request due before the end is
// sent or counted as dropped, and by the end of each second no more have
// been sent than were due (sends are never early).
func TestStagedOpenLoopBounds(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, 2*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	stages := []load.Stage{{Duration: time.Second, Target: 200}, {Duration: time.Second, Target: 200, Hold: true}}
	d := load.StagesDuration(stages)
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Rate: 20, Stages: stages, Duration: d, Warmup: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	pacer, _ := load.NewStagedPacer(stages, 20, false, 1)
	want := int64(pacer.Count(d)) // 110 + 200
	if res.Sent+res.Dropped != want || want != 310 {
		t.Errorf("sent %d + dropped %d, want the schedule's %d (310)", res.Sent, res.Dropped, want)
	}
	if res.WarmupAttempted != 5 {
		t.Errorf("warmup %d, want 5", res.WarmupAttempted)
	}
	var sent int64
	for i, iv := range res.Timeline { // wall-clock seconds: each ends at its own offset from the start
		sent += iv.Sent
		end := iv.Start.Add(time.Duration(iv.DurationS * float64(time.Second))).Sub(res.Started)
		if due := int64(pacer.Count(end + time.Millisecond)); sent > due {
			t.Errorf("by the end of interval %d (%v): %d sent, only %d due", i+1, end, sent, due)
		}
	}
}

// TestScheduleReplayCount: a trace replayed for a number of requests
// sends exactly that many, looping when asked; without the loop a count
// past the trace's end is refused before anything is sent.
func TestScheduleReplayCount(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	s := &load.Schedule{Offsets: []time.Duration{0, 5 * time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond}, Period: 25 * time.Millisecond}
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Schedule: s, ScheduleSpeed: 2, ScheduleLoop: true, Requests: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 30 || res.OK != 30 {
		t.Errorf("sent %d ok %d, want 30", res.Sent, res.OK)
	}
	if _, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Schedule: s, Requests: 5,
	}); err == nil {
		t.Error("5 requests from a trace of 4 without a loop: no error")
	}
	res, err = load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Arrival: load.ArrivalBursty, BurstSize: 5, BurstIdle: 20 * time.Millisecond, Requests: 40,
	})
	if err != nil || res.Sent != 40 {
		t.Fatalf("bursty: sent %v, %v", res, err)
	}
}

// TestStagedClosedLoop ramps the workers 1 -> 6 over 1.5 s and holds
// 6 for 0.5 s: never more than 6 in flight, and more at the end than at
// the start.
func TestStagedClosedLoop(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(8, 5*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	stages := []load.Stage{{Duration: 1500 * time.Millisecond, Target: 6}, {Duration: 500 * time.Millisecond, Target: 6, Hold: true}}
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Concurrency: 1, Stages: stages, StagedConcurrency: true,
		Duration: load.StagesDuration(stages), Warmup: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors != 0 {
		t.Fatalf("ok %d errors %d", res.OK, res.Errors)
	}
	for i, iv := range res.Timeline {
		if iv.InFlight > 6 {
			t.Errorf("second %d: %d in flight, above the highest target 6", i+1, iv.InFlight)
		}
	}
	if len(res.Timeline) >= 2 && res.Timeline[0].Sent >= res.Timeline[1].Sent {
		t.Logf("first second sent %d, second %d (a busy machine may flatten the ramp)", res.Timeline[0].Sent, res.Timeline[1].Sent)
	}
	if _, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Stages: stages, StagedConcurrency: true, Requests: 10,
	}); err == nil {
		t.Error("closed-loop stages bounded by requests: no error")
	}
}

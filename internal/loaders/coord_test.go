package loaders

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/plan"
	"github.com/inferbench/inferbench/internal/result"
)

func TestUnitRoundTrip(t *testing.T) {
	u := Unit{Step: 3, Trial: 2, Deployment: 11}
	got, err := ParseUnit(u.String())
	if err != nil || got != u {
		t.Fatalf("ParseUnit(%q) = %+v, %v", u, got, err)
	}
	for _, bad := range []string{"", "s1-t2", "s1-t2-d3x", "x"} {
		if _, err := ParseUnit(bad); err == nil {
			t.Errorf("ParseUnit(%q): no error", bad)
		}
	}
}

func localDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"ready", "start", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWaitStartsAtTheCoordinatorsTime(t *testing.T) {
	dir := localDir(t)
	c := &Local{Dir: dir}
	u := Unit{Step: 0, Deployment: 1}
	type got struct {
		at  time.Time
		err error
	}
	done := make(chan got, 2)
	for i := range 2 {
		go func() {
			at, err := Wait(context.Background(), LocalStation{Dir: dir, Index: i}, u, LocalPoll)
			if time.Now().Before(at) {
				err = errors.New("returned before the start")
			}
			done <- got{at, err}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w, err := c.Waiting(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(w[u]) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting: %v, want both loaders at %s", w, u)
		}
		time.Sleep(5 * time.Millisecond)
	}
	at := time.Now().Add(50 * time.Millisecond).Round(0)
	if err := c.Start(context.Background(), u, at); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		g := <-done
		if g.err != nil || !g.at.Equal(at) {
			t.Errorf("Wait = %v, %v; want %v", g.at, g.err, at)
		}
	}
	if w, _ := c.Waiting(context.Background()); len(w) != 0 {
		t.Errorf("a started unit is still waiting: %v", w)
	}
}

func TestWatchStopsALoaderWithoutHeartbeat(t *testing.T) {
	dir := localDir(t)
	c := &Local{Dir: dir}
	if err := c.Heartbeat(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go Watch(ctx, LocalStation{Dir: dir}, 100*time.Millisecond, 10*time.Millisecond, cancel)
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the loader still runs 20 s after its coordinator's last heartbeat")
	}
	if !errors.Is(context.Cause(ctx), ErrCoordinatorGone) {
		t.Errorf("cause %v, want ErrCoordinatorGone", context.Cause(ctx))
	}
}

func run(step, dep string, c int, rate float64, sent int64, complete bool) *result.File {
	h := measure.NewHistogram()
	for range sent {
		h.Record(time.Millisecond)
	}
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	end := start.Add(time.Second)
	return &result.File{Schema: result.SchemaV2, Complete: complete, Runs: []result.Run{{Step: step, Deployment: result.Deployment{Name: dep},
		Status: result.StatusOK, Load: result.Load{Mode: result.ModeConcurrency, Concurrency: c, Rate: rate},
		Counts: result.Counts{Sent: sent, OK: sent}, LatencyMs: h.Summary(), ElapsedS: 1, Started: &start, Ended: &end,
		Histograms: &result.Histograms{Latency: h.MustEncode()}}}}
}

func TestMergeNamesALostLoaderAndItsShare(t *testing.T) {
	steps := []plan.Step{{Name: "a", Concurrency: 10, Requests: 100}}
	files := []*result.File{run("a", "d", 4, 0, 34, true), nil, run("a", "d", 3, 0, 33, true)}
	m, err := Merge(steps, files, map[int]error{1: errors.New("loader 1 (pid 7): exit status 2")}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Lost) != 1 || !strings.Contains(m.Lost[0], "loader 1") || !strings.Contains(m.Lost[0], "exit status 2") || !strings.Contains(m.Lost[0], "a c=3") {
		t.Errorf("lost = %q, want loader 1, why, and its share of step a (c=3)", m.Lost)
	}
	if m.File.Complete {
		t.Error("a merge that lost a loader says complete")
	}
	if len(m.File.Runs) != 1 || m.File.Runs[0].Counts.Sent != 67 || m.File.Runs[0].Load.Concurrency != 7 {
		t.Errorf("merged runs %+v, want one of 67 sent at c=7 (the loaders that came back)", m.File.Runs)
	}
}

func TestMergeRecordsTheWholeStages(t *testing.T) {
	a, b := run("r", "d", 0, 5, 10, true), run("r", "d", 0, 5, 12, true)
	for _, f := range []*result.File{a, b} {
		from := 2.5
		f.Runs[0].Load.Mode = result.ModeRate
		f.Runs[0].Load.StagesFrom = &from
		f.Runs[0].Load.Stages = []result.Stage{{DurationS: 1, Target: 25, Ramp: true}}
		f.Runs[0].Histograms.ServiceTime = f.Runs[0].Histograms.Latency
	}
	m, err := Merge(nil, []*result.File{a, b}, nil, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := m.File.Runs
	if len(r) != 1 || r[0].Load.Rate != 10 || r[0].Load.Stages[0].Target != 50 || *r[0].Load.StagesFrom != 5 || r[0].Counts.Sent != 22 {
		t.Errorf("merged %+v, want one run at 10/s from 5 to 50, 22 sent", r)
	}
}

func TestWatchStopsALoaderTheCoordinatorStops(t *testing.T) {
	dir := localDir(t)
	c := &Local{Dir: dir}
	if err := c.Heartbeat(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(filepath.Join(dir, "stop"), []byte("interrupted")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go Watch(ctx, LocalStation{Dir: dir}, time.Hour, 10*time.Millisecond, cancel)
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the loader still runs 20 s after its coordinator said stop")
	}
	if cause := context.Cause(ctx); !errors.Is(cause, ErrStopped) || !strings.Contains(cause.Error(), "interrupted") {
		t.Errorf("cause %v, want ErrStopped with the coordinator's why", cause)
	}
}

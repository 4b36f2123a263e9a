package cli

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/session"
)

// TestBenchStages: a rate ramp is one run whose load records the stages,
// and every request due is sent or counted as dropped.
func TestBenchStages(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, time.Millisecond), 0)
	f, log, err := benchJSON(t, context.Background(), "--url", urlFor(r, protocol.KServeHTTP), "--model", "m",
		"--rate", "20", "--stages", "1s:100,500ms:100:hold", "--warmup", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(f.Runs) != 1 {
		t.Fatalf("%d runs, want one", len(f.Runs))
	}
	run := f.Runs[0]
	l := run.Load
	if l.Mode != "rate" || len(l.Stages) != 2 || l.Stages[0].Target != 100 || !l.Stages[0].Ramp || l.Stages[1].Ramp ||
		l.StagesFrom == nil || *l.StagesFrom != 20 || l.DurationS != 1.5 || l.Rate != 73.333 { // 110 in 1.5 s
		t.Errorf("load %+v", l)
	}
	if got := run.Counts.Sent + run.Counts.Dropped; got != 110 { // 60 in the ramp, 50 held
		t.Errorf("sent %d + dropped %d, want 110", run.Counts.Sent, run.Counts.Dropped)
	}
	// intervals follow wall-clock seconds: the first, of length D <= 1 s, has the mean target 20 + 40 D
	if len(run.Timeline) == 0 || math.Abs(run.Timeline[0].Target-(20+40*run.Timeline[0].DurationS)) > 0.01 {
		t.Errorf("timeline %+v: want the first interval.s mean target", run.Timeline)
	}
}

// TestBenchSchedule: a trace replays once by default, at its speed, and
// a bad file stops bench with exit code 2 before anything is sent,
// naming the file and the line.
func TestBenchSchedule(t *testing.T) {
	r := refServer(t, refserver.NewInstances(8, time.Millisecond), 0)
	url := urlFor(r, protocol.KServeHTTP)
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.txt")
	var b strings.Builder
	b.WriteString("# offsets in ms\n")
	for i := range 40 {
		b.WriteString(strings.Repeat(" ", i%2) + strconv.Itoa(i*5) + "\n")
	}
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, log, err := benchJSON(t, context.Background(), "--url", url, "--model", "m", "--schedule", trace, "--schedule-speed", "2x")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	run := f.Runs[0]
	if run.Counts.Sent != 40 || run.Load.Arrival != "schedule" || run.Load.Schedule == nil || run.Load.Schedule.Sends != 40 || run.Load.Schedule.Speed != 2 {
		t.Errorf("sent %d, load %+v", run.Counts.Sent, run.Load)
	}
	f, log, err = benchJSON(t, context.Background(), "--url", url, "--model", "m", "--arrival", "bursty", "--burst-size", "5", "--burst-idle", "20ms", "-n", "30")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if run := f.Runs[0]; run.Counts.Sent != 30 || run.Load.Burst == nil || run.Load.Burst.Size != 5 || run.Load.Rate != 250 {
		t.Errorf("bursty: sent %d, load %+v", run.Counts.Sent, run.Load)
	}

	back := filepath.Join(dir, "back.txt")
	garbage := filepath.Join(dir, "garbage.txt")
	for path, text := range map[string]string{back: "0\n10\n# x\n5\n", garbage: "0\n10\nsoon\n"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--schedule", back}, back + ":4: offset 5 ms comes before the previous line's 10 ms"},
		{[]string{"--schedule", garbage}, garbage + `:3: "soon" is not an offset in milliseconds`},
		{[]string{"--schedule", garbage, "--schedule-format", "intervals-us"}, garbage + `:3: "soon" is not an interval in microseconds`},
		{[]string{"--schedule", trace, "--schedule-speed", "0x"}, `--schedule-speed: schedule speed "0x"`},
		{[]string{"--stages", "0s:100"}, "--stages: stage 1: duration 0s must be above 0"},
		{[]string{"--stages", "10s:100,-1s:5"}, "--stages: stage 2: duration -1s must be above 0"},
		{[]string{"--stages", "10s:many"}, `--stages: stage 1 "10s:many": target "many" is not a number`},
		{[]string{"--stages", "10s:100", "-d", "5s"}, "--stages set the run's length (10s)"},
		{[]string{"--stages", "10s:100", "--rate", "5", "-c", "2"}, "give one"},
		{[]string{"--burst-size", "4"}, "shape --arrival bursty"},
		{[]string{"--arrival", "bursty", "--burst-size", "4"}, "--burst-idle 0s"},
		{[]string{"--arrival", "bursty", "--stages", "1s:4"}, "give one of --stages, --schedule and --arrival bursty"},
	} {
		_, _, err := runCLI(context.Background(), append([]string{"bench", "--url", url, "--model", "m", "-q"}, tt.args...)...)
		var exit *session.ExitError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &exit) || exit.Code != 2 {
			t.Errorf("bench %v: err = %v, want %q and exit code 2", tt.args, err, tt.want)
		}
	}
}

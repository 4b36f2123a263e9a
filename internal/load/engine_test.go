package load_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/load"
	"github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
)

// server serves a small model (x FP32 [4] -> y FP32 [8]) on loopback;
// stop shuts it down before the test ends.
func server(t *testing.T, em refserver.Emulator, errorRate float64) (*refserver.Running, func()) {
	t.Helper()
	spec := reftest.Small("m", em)
	spec.ErrorRate, spec.Seed = errorRate, 7
	r := reftest.Serve(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Shutdown(ctx)
	}
	return r, stop
}

func client(t *testing.T, r *refserver.Running, kind protocol.Kind, timeout time.Duration) (protocol.Client, protocol.Payload) {
	t.Helper()
	url := "http://" + r.HTTPAddr
	if kind == protocol.KServeGRPC {
		url = r.GRPCAddr
	}
	c, err := protocol.New(protocol.Options{Kind: kind, URL: url, Timeout: timeout, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func sumGroups(groups []measure.ErrorGroup) int64 {
	var n int64
	for _, g := range groups {
		n += g.Count
	}
	return n
}

func TestExactCountsAndWarmup(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(8, 0), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	var progress []load.Progress
	res, err := load.Run(context.Background(), load.Config{
		Client: c, Payloads: []protocol.Payload{p}, Concurrency: 7, Requests: 333, Warmup: 9,
		OnProgress: func(p load.Progress) { progress = append(progress, p) }, ProgressInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 333 || res.OK != 333 || res.Errors != 0 || res.Latency.Count() != 333 {
		t.Errorf("sent/ok/errors/latencies = %d/%d/%d/%d, want 333/333/0/333", res.Sent, res.OK, res.Errors, res.Latency.Count())
	}
	if res.WarmupAttempted != 9 || res.WarmupSucceeded != 9 {
		t.Errorf("warmup %d/%d, want 9/9", res.WarmupSucceeded, res.WarmupAttempted)
	}
	if !res.CPUMeasured {
		t.Error("the client's CPU time was not measured (this OS gives it)")
	}
	// One final report per phase (the interval is an hour).
	if len(progress) != 2 || progress[0].Phase != load.PhaseWarmup || progress[0].Done != 9 || !progress[1].Final || progress[1].Done != 333 || progress[1].Total != 333 {
		t.Errorf("progress reports = %+v", progress)
	}
	// The server saw exactly warmup + measured requests.
	stats, err := c.ModelStatistics(context.Background(), "m", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := stats.GetModelStats()[0].GetInferenceStats().GetSuccess().GetCount(); got != 342 {
		t.Errorf("server counted %d requests, want 9 + 333", got)
	}
}

func TestInjectedErrorsAreCountedNotFatal(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(8, 0), 0.2)
	for _, kind := range protocol.KServeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c, p := client(t, r, kind, 0)
			res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: 500, Warmup: 10})
			if err != nil {
				t.Fatal(err)
			}
			rate := float64(res.Errors) / float64(res.Sent)
			if res.Sent != 500 || rate < 0.15 || rate > 0.25 {
				t.Errorf("sent %d, error rate %.3f; want 500 and 0.15..0.25", res.Sent, rate)
			}
			if sumGroups(res.ErrorGroups) != res.Errors || len(res.ErrorGroups) != 1 {
				t.Fatalf("groups %+v do not add up to %d errors in one group", res.ErrorGroups, res.Errors)
			}
			g := res.ErrorGroups[0]
			want := measure.ClassHTTPStatus
			if kind == protocol.KServeGRPC {
				want = measure.ClassGRPCStatus
			}
			if g.Class != want || len(g.Example) > measure.ExampleLimit || g.Example == "" {
				t.Errorf("group %+v, want class %s with an example of at most %d characters", g, want, measure.ExampleLimit)
			}
		})
	}
}

func TestTimeoutsAreClassifiedAndBounded(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(64, 2*time.Second), 0)
	for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
		t.Run(string(kind), func(t *testing.T) {
			c, p := client(t, r, kind, 200*time.Millisecond)
			start := time.Now()
			res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: 8, Warmup: 0})
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 8 || res.Errors != 8 || len(res.ErrorGroups) != 1 || res.ErrorGroups[0].Class != measure.ClassTimeout {
				t.Errorf("sent %d errors %d groups %+v, want 8 timeouts", res.Sent, res.Errors, res.ErrorGroups)
			}
			// 400 ms when the timeouts fire; without them the server's 2 s
			// a request makes it 4 s. 3 s leaves a busy machine room.
			if elapsed > 3*time.Second {
				t.Errorf("8 requests timing out at 200 ms, 4 at a time, took %v (want under 3 s; the server alone would take 4 s)", elapsed)
			}
		})
	}
}

func TestWarmupAllFailingFailsTheRun(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(4, 0), 1)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: 100, Warmup: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed || res.WarmupAttempted != 5 || res.WarmupSucceeded != 0 || res.Sent != 0 {
		t.Errorf("failed %v, warmup %d/%d, sent %d; want a failed run after 0/5 and nothing measured", res.Failed, res.WarmupSucceeded, res.WarmupAttempted, res.Sent)
	}
	if res.Failure == "" || len(res.WarmupErrors) != 1 || res.WarmupErrors[0].Count != 5 {
		t.Errorf("failure %q, warmup errors %+v", res.Failure, res.WarmupErrors)
	}
}

func TestServerDyingMidRun(t *testing.T) {
	r, stop := server(t, refserver.NewInstances(8, 5*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeHTTP, 2*time.Second)
	time.AfterFunc(300*time.Millisecond, stop)
	res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Duration: 1500 * time.Millisecond, Warmup: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors == 0 || res.Sent != res.OK+res.Errors {
		t.Fatalf("ok %d errors %d sent %d: want both, adding up", res.OK, res.Errors, res.Sent)
	}
	conn := int64(0)
	for _, g := range res.ErrorGroups {
		if g.Class == measure.ClassConnectionRefused || g.Class == measure.ClassConnectionReset {
			conn += g.Count
		}
	}
	if conn == 0 {
		t.Errorf("no connection errors among %+v", res.ErrorGroups)
	}
	if res.Interrupted {
		t.Errorf("a dead server is not an interruption")
	}
}

func TestInterruptionKeepsWhatWasMeasured(t *testing.T) {
	r, _ := server(t, refserver.NewInstances(8, 10*time.Millisecond), 0)
	c, p := client(t, r, protocol.KServeGRPC, 0)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(400*time.Millisecond, cancel)
	start := time.Now()
	res, err := load.Run(ctx, load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Requests: 100000, Warmup: 4, Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.OK == 0 || res.Sent >= 100000 || res.Errors != 0 {
		t.Errorf("interrupted %v ok %d sent %d errors %d: want an interrupted run with clean partial counts", res.Interrupted, res.OK, res.Sent, res.Errors)
	}
	// Cancelled at 400 ms with a grace of 1 s: about 1.4 s; the 100,000
	// requests asked would take 250 s.
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("stopping took %v, want well under 10 s (400 ms and a 1 s grace)", elapsed)
	}
}

func TestConfigErrors(t *testing.T) {
	r, _ := server(t, refserver.NewFIFO(0), 0)
	c, p := client(t, r, protocol.KServeHTTP, 0)
	for name, cfg := range map[string]load.Config{
		"no client":        {Payloads: []protocol.Payload{p}, Concurrency: 1, Requests: 1},
		"no payload":       {Client: c, Concurrency: 1, Requests: 1},
		"zero concurrency": {Client: c, Payloads: []protocol.Payload{p}, Requests: 1},
		"both bounds":      {Client: c, Payloads: []protocol.Payload{p}, Concurrency: 1, Requests: 1, Duration: time.Second},
		"no bound":         {Client: c, Payloads: []protocol.Payload{p}, Concurrency: 1},
	} {
		if _, err := load.Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRefusedConnectionsBackOff: against a port nobody listens on, closed-
// loop workers wait between attempts (10 ms doubling to 1 s) instead of
// retrying tens of thousands of times a second; each attempt is an error.
func TestRefusedConnectionsBackOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	c, err := protocol.New(protocol.Options{Kind: protocol.KServeHTTP, URL: "http://" + addr, Timeout: time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := load.Run(context.Background(), load.Config{Client: c, Payloads: []protocol.Payload{p}, Concurrency: 4, Duration: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	// 10+20+40+80+160+320+640 ms > 1.5 s - a few attempts: at most 9 each.
	if res.Sent == 0 || res.Sent > 4*9 || res.Errors != res.Sent {
		t.Errorf("sent %d, errors %d in 1.5 s: want at most 36 attempts, all errors", res.Sent, res.Errors)
	}
	if g := res.ErrorGroups; len(g) != 1 || g[0].Class != measure.ClassConnectionRefused {
		t.Errorf("groups %+v, want connection_refused only", g)
	}
	if took > 4*time.Second {
		t.Errorf("took %s: the backoff must not outlast the phase", took)
	}
}

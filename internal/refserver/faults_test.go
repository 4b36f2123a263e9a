package refserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/inferbench/inferbench/internal/kserve/pb"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

const tinyJSON = `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`

// post sends a request from any goroutine: it reports errors instead of
// failing the test.
func post(url, body string) (int, []byte, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestQueueLimitRejectsExactlyWhenFull fills each emulator's queue to its
// limit one request at a time, then checks that every further request is
// refused at once with 503 / UNAVAILABLE, that none before was, and that the
// statistics count exactly the rejections.
func TestQueueLimitRejectsExactlyWhenFull(t *testing.T) {
	const (
		limit = 3
		extra = 2
		slow  = 150 * time.Millisecond
	)
	emulators := map[string]refserver.EmulatorConfig{
		"fifo":      {Kind: refserver.KindFIFO, ServiceTime: slow},
		"batcher":   {Kind: refserver.KindBatcher, MaxBatchSize: 1, BatchFixed: slow},
		"gil":       {Kind: refserver.KindGIL, ServiceTime: slow, GILHeld: 1},
		"pipelined": {Kind: refserver.KindPipelined, ServiceTime: slow, MaxInflight: 1},
	}
	for name, cfg := range emulators {
		for _, kind := range []protocol.Kind{protocol.KServeHTTP, protocol.KServeGRPC} {
			t.Run(name+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				c := cfg // shared by the transports' subtests
				c.QueueLimit = limit
				em := emulated(t, c)
				spec := tinyModel("q", em)
				if c.Kind == refserver.KindBatcher {
					spec = batchedModel("q", em, 1)
				}
				_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
				var call func() error
				if kind == protocol.KServeHTTP {
					call = func() error {
						code, body, err := post("http://"+r.HTTPAddr+"/v2/models/q/infer", tinyJSON)
						if err == nil && code != 200 {
							err = fmt.Errorf("HTTP %d: %s", code, body)
						}
						return err
					}
				} else {
					api := pb.NewGRPCInferenceServiceClient(dial(t, r.GRPCAddr))
					call = func() error {
						_, err := api.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "q",
							Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}}},
							RawInputContents: [][]byte{fp32le(1, 2, 3, 4)}})
						return err
					}
				}
				var wg sync.WaitGroup
				errs := make([]error, 1+limit)
				// One executing, then the queue filled one by one.
				for i := range errs {
					wg.Add(1)
					go func() { defer wg.Done(); errs[i] = call() }()
					if i == 0 {
						time.Sleep(20 * time.Millisecond) // let it start executing
					}
					waitFor(t, fmt.Sprintf("%d pending", i), func() bool { return em.Pending() == i })
				}
				for range extra {
					err := call()
					if !isUnavailable(err) {
						t.Errorf("request at a full queue: %v, want 503 / UNAVAILABLE", err)
					} else if !strings.Contains(err.Error(), "Exceeds maximum queue size") {
						t.Errorf("rejection message %q, want Triton's \"Exceeds maximum queue size\"", err)
					}
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("request %d (queue not full when it came): %v", i, err)
					}
				}
				fams := scrape(t, r)
				lbl := map[string]string{"model": "q", "version": "1"}
				rejected := metricValue(t, fams, "nv_inference_request_failure", map[string]string{"model": "q", "version": "1", "reason": "REJECTED"})
				if ok := metricValue(t, fams, "nv_inference_request_success", lbl); ok != 1+limit || rejected != extra {
					t.Errorf("successes %v, rejections %v; want %d and %d", ok, rejected, 1+limit, extra)
				}
				// The queue has room again.
				if err := call(); err != nil {
					t.Errorf("after the queue drained: %v", err)
				}
			})
		}
	}
}

// isUnavailable reports whether err is HTTP 503 or gRPC UNAVAILABLE.
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable {
		return true
	}
	return strings.HasPrefix(err.Error(), "HTTP 503")
}

const (
	spikeRequests = 300
	spikeP        = 0.1
	spike         = 150 * time.Millisecond
)

// TestSpikesShowInTheTail checks that a spike probability puts that
// fraction of requests in the latency tail: every injected spike shows
// there (a spiked request cannot be faster than the spike), and the
// seeded draw injects about 10%. That no other request reaches the tail,
// which a busy machine can break, is TestSpikesOnlyInTheTail (timing tag).
func TestSpikesShowInTheTail(t *testing.T) {
	res, tail, injected := spikes(t)
	if float64(tail) < injected {
		t.Errorf("%d requests in the tail, %v spikes injected: want every spike in it", tail, injected)
	}
	if injected < 12 || injected > 50 { // binomial(300, 0.1): 30 +- 3.5 sd
		t.Errorf("%v spikes in %d requests, want about %v", injected, spikeRequests, spikeP*spikeRequests)
	}
	if res.percentile(.5) < 4*time.Millisecond || res.percentile(.99) < spike {
		t.Errorf("p50 %v, p99 %v: want the 5 ms service time at the median, the spikes at the 99th percentile", res.percentile(.5), res.percentile(.99))
	}
}

// spikes sends 300 requests, 8 at a time, to 8 instances of 5 ms with a
// 10% probability of a 150 ms spike, and returns what they measured, how
// many took at least the spike, and how many spikes the server injected.
func spikes(t *testing.T) (res loopResult, tail int, injected float64) {
	t.Helper()
	const n, p = spikeRequests, spikeP
	spec := tinyModel("s", refserver.NewInstances(8, 5*time.Millisecond))
	spec.Faults = refserver.Faults{SpikeProbability: p, SpikeDuration: spike}
	spec.Seed = 3
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	res = closedLoop(8, 20*time.Second, n, inferClient(t, protocol.KServeHTTP, r, "s"))
	if res.ok != n {
		t.Fatalf("%d of %d succeeded: %v", res.ok, n, res.errs)
	}
	for _, l := range res.latencies {
		if l >= spike {
			tail++
		}
	}
	injected = metricValue(t, scrape(t, r), "inferbench_injected_faults_total", map[string]string{"model": "s", "fault": "spike"})
	t.Logf("%d of %d requests took >= %v; %v spikes injected; p50 %v, p90 %v, p99 %v", tail, n, spike, injected, res.percentile(.5), res.percentile(.9), res.percentile(.99))
	return res, tail, injected
}

// TestStallHoldsEveryRequest checks that a stall at a given time holds the
// requests that meet it until its end: each of the 4 workers has one
// reach the server within a request's time of the stall's start, held for
// most of its 400 ms. That nothing else is held and no request is held
// longer, which a busy machine can break, is TestStallHoldsOnlyTheStall
// (timing tag).
func TestStallHoldsEveryRequest(t *testing.T) {
	res, stalled := stall(t)
	if res.failed > 0 || stalled < 4 {
		t.Errorf("%d failed, %d held: want none failed and each of the 4 workers held", res.failed, stalled)
	}
	if max := res.latencies[len(res.latencies)-1]; max < 300*time.Millisecond {
		t.Errorf("longest request %v, want most of the 400 ms stall", max)
	}
}

// stall drives 4 instances of 5 ms, with a stall of 400 ms 500 ms after
// the pod's first inference request (the client's check may be that
// one), 4 at a time for 1.2 s, and returns what they measured and how
// many requests took 150 ms or more. It skips the test if a busy machine
// took so long to start the pod and the client that the loop did not
// begin before the stall.
func stall(t *testing.T) (res loopResult, stalled int) {
	t.Helper()
	const at = 500 * time.Millisecond
	spec := tinyModel("st", refserver.NewInstances(4, 5*time.Millisecond))
	spec.Faults = refserver.Faults{StallAt: at, StallFor: 400 * time.Millisecond}
	before := time.Now() // the pod starts after this, its stall at least 500 ms after
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})
	call := inferClient(t, protocol.KServeGRPC, r, "st")
	if setup := time.Since(before); setup >= at {
		t.Skipf("starting the pod and the client took %v, past the stall's start at %v", setup, at)
	}
	res = closedLoop(4, 1200*time.Millisecond, 0, call)
	for _, l := range res.latencies {
		if l >= 150*time.Millisecond {
			stalled++
		}
	}
	t.Logf("%d requests, %d held by the stall; max %v", res.ok, stalled, res.latencies[len(res.latencies)-1])
	return res, stalled
}

// TestDroppedConnections checks that the drop fault breaks the connection
// in the middle of the response, over HTTP and over gRPC, and that the
// server counts the request served.
func TestDroppedConnections(t *testing.T) {
	spec := tinyModel("d", refserver.NewInstances(2, 5*time.Millisecond))
	spec.Faults.DropProbability = 1
	_, r := start(t, refserver.Options{Models: []refserver.ModelSpec{spec}})

	resp, err := http.Post("http://"+r.HTTPAddr+"/v2/models/d/infer", "application/json", strings.NewReader(tinyJSON))
	if err != nil {
		t.Fatalf("HTTP: the headers should arrive: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 || int64(len(body)) >= resp.ContentLength {
		t.Errorf("HTTP: status %d, %d of %d bytes, error %v: want 200 and part of the body, then an unexpected EOF", resp.StatusCode, len(body), resp.ContentLength, err)
	}

	api := pb.NewGRPCInferenceServiceClient(dial(t, r.GRPCAddr))
	for i := range 2 {
		_, err := api.ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "d",
			Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4}}},
			RawInputContents: [][]byte{fp32le(1, 2, 3, 4)}})
		st, _ := status.FromError(err)
		if st.Code() != codes.Unavailable || strings.Contains(st.Message(), "injected") {
			t.Errorf("gRPC call %d: %v, want UNAVAILABLE from the broken transport, not a status the server sent", i, err)
		}
	}
	fams := scrape(t, r)
	lbl := map[string]string{"model": "d", "version": "1"}
	if ok, drops := metricValue(t, fams, "nv_inference_request_success", lbl), metricValue(t, fams, "inferbench_injected_faults_total", map[string]string{"model": "d", "fault": "drop"}); ok != 3 || drops != 3 {
		t.Errorf("successes %v, drops %v: want 3 and 3 (the model served them; the network lost them)", ok, drops)
	}
}

// TestMemoryBudgetRestartsThePod exceeds a pod's memory: the pod refuses
// connections on every port for its restart time, then serves again on the
// same addresses, with its restart counted and Triton's counters reset.
func TestMemoryBudgetRestartsThePod(t *testing.T) {
	const restart = 600 * time.Millisecond
	spec := tinyModel("m", refserver.NewFIFO(300*time.Millisecond))
	spec.Faults.MemoryPerRequest = 100e6
	_, r := start(t, refserver.Options{Name: "oom", Models: []refserver.ModelSpec{spec}, MemoryLimit: 250e6, RestartTime: restart})
	base := "http://" + r.HTTPAddr
	if code, _, err := post(base+"/v2/models/m/infer", tinyJSON); err != nil || code != 200 {
		t.Fatalf("before: %d %v", code, err)
	}
	if v := metricValue(t, scrape(t, r), "inferbench_pod_memory_limit_bytes", map[string]string{"pod": "oom"}); v != 250e6 {
		t.Errorf("inferbench_pod_memory_limit_bytes = %v", v)
	}

	// Two requests in flight hold 200 MB; the third would need 300 MB.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	var killed time.Time
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := post(base+"/v2/models/m/infer", tinyJSON)
			if err == nil && code != 200 {
				err = fmt.Errorf("HTTP %d: %s", code, body)
			}
			errs[i] = err
		}()
		time.Sleep(30 * time.Millisecond)
	}
	killed = time.Now()
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Errorf("request %d in flight when the pod was killed succeeded", i)
		}
	}
	refused := func(addr string) bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	for _, addr := range []string{r.HTTPAddr, r.GRPCAddr, r.MetricsAddr} {
		waitFor(t, "connections to "+addr+" refused", func() bool { return refused(addr) })
	}
	waitFor(t, "the pod back", func() bool { return !refused(r.HTTPAddr) })
	down := time.Since(killed)
	if down < restart-100*time.Millisecond || down > 3*restart+2*time.Second {
		t.Errorf("the pod was down about %v, want its restart time %v", down, restart)
	}
	for _, addr := range []string{r.GRPCAddr, r.MetricsAddr} {
		waitFor(t, addr+" back", func() bool { return !refused(addr) })
	}
	fams := scrape(t, r)
	if v := metricValue(t, fams, "inferbench_pod_restarts_total", map[string]string{"pod": "oom"}); v != 1 {
		t.Errorf("inferbench_pod_restarts_total = %v, want 1", v)
	}
	if v := metricValue(t, fams, "nv_inference_request_success", map[string]string{"model": "m", "version": "1"}); v != 0 {
		t.Errorf("nv_inference_request_success after the restart = %v, want 0 (a restarted Triton starts from zero)", v)
	}
	if v := metricValue(t, fams, "inferbench_pod_memory_inflight_bytes", map[string]string{"pod": "oom"}); v != 0 {
		t.Errorf("inferbench_pod_memory_inflight_bytes = %v after the restart, want 0", v)
	}
	// Serving again, over both transports.
	if code, body, err := post(base+"/v2/models/m/infer", tinyJSON); err != nil || code != 200 {
		t.Errorf("HTTP after the restart: %d %s %v", code, body, err)
	}
	if err := inferClient(t, protocol.KServeGRPC, r, "m")(context.Background()); err != nil {
		t.Errorf("gRPC after the restart: %v", err)
	}
	if a := send(t, "GET", base+"/v2/models/m/stats", nil, nil); !bytes.Contains(a.body, []byte(`"success":{"count":2`)) {
		t.Errorf("statistics after the restart: %s", a.body)
	}
}

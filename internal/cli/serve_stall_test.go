package cli

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeStall runs `serve --stall-at 300ms --stall-for 1s` on loopback
// and a client of 4 closed-loop workers. The stall counts from the
// server's first inference request, not its start: the client waits 1.4 s
// first (a stall counted from the start would be over). Every request
// sent while the stall is surely on is answered no earlier than its end;
// a health call during the stall is not held.
func TestServeStall(t *testing.T) {
	const (
		stallAt  = 300 * time.Millisecond
		stallFor = time.Second
	)
	banner := startServe(t, "--http-addr", "127.0.0.1:0", "--grpc-addr", "", "--metrics-addr", "",
		"--model", "m", "--input", "x:FP32:4", "--output", "y:FP32:8", "--emulator", "instances", "--instances", "4",
		"--service-time", "2ms", "--stall-at", stallAt.String(), "--stall-for", stallFor.String())
	if !strings.Contains(banner, "a stall of 1s at 300ms after the first inference request") {
		t.Errorf("banner does not describe the stall:\n%s", banner)
	}
	addrs := addrLine.FindAllStringSubmatch(banner, -1)
	if len(addrs) != 1 {
		t.Fatalf("want one HTTP address in the banner:\n%s", banner)
	}
	base := addrs[0][2]
	client := &http.Client{Timeout: 10 * time.Second}
	infer := func() error {
		resp, err := client.Post(base+"/v2/models/m/infer", "application/json",
			strings.NewReader(`{"inputs":[{"name":"x","datatype":"FP32","shape":[4],"data":[1,2,3,4]}]}`))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return &statusError{resp.StatusCode}
		}
		return nil
	}

	time.Sleep(1400 * time.Millisecond)
	// The first inference request reaches the server between firstSent
	// and firstBack: the stall is on, at the least, from firstBack+stallAt
	// to firstSent+stallAt+stallFor.
	firstSent := time.Now()
	if err := infer(); err != nil {
		t.Fatal(err)
	}
	firstBack := time.Now()
	if rtt := firstBack.Sub(firstSent); rtt > stallAt {
		t.Errorf("the first request took %v: a stall counted from the server's start would have held it", rtt)
	}
	surelyFrom, surelyUntil := firstBack.Add(stallAt), firstSent.Add(stallAt+stallFor)
	stallEnd := surelyUntil // the stall ends at this time or later

	type sample struct{ sent, back time.Time }
	var (
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
	)
	stop := firstSent.Add(stallAt + stallFor + 500*time.Millisecond)
	send := func() bool {
		sent := time.Now()
		if err := infer(); err != nil {
			t.Error(err)
			return false
		}
		mu.Lock()
		samples = append(samples, sample{sent, time.Now()})
		mu.Unlock()
		return true
	}
	// 4 closed-loop workers (each held once by the stall), and a request
	// every 50 ms whatever the answers (so some are sent during it).
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(stop) && send() {
			}
		})
	}
	wg.Go(func() {
		for time.Now().Before(stop) {
			wg.Go(func() { send() })
			time.Sleep(50 * time.Millisecond)
		}
	})
	// A health call while the stall is surely on is not held.
	time.Sleep(time.Until(surelyFrom.Add(100 * time.Millisecond)))
	healthSent := time.Now()
	resp, err := client.Get(base + "/v2/health/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if back := time.Now(); healthSent.Before(surelyUntil) && !back.Before(stallEnd) {
		t.Errorf("a health call sent %v into the stall came back at its end or later: it was held", healthSent.Sub(surelyFrom))
	}
	wg.Wait()

	held, longest := 0, time.Duration(0)
	for _, s := range samples {
		longest = max(longest, s.back.Sub(s.sent))
		if s.sent.Before(surelyFrom) || !s.sent.Before(surelyUntil) {
			continue
		}
		held++
		if s.back.Before(stallEnd) {
			t.Errorf("a request sent %v into the stall came back %v before its end", s.sent.Sub(surelyFrom), stallEnd.Sub(s.back))
		}
	}
	t.Logf("%d requests, %d sent during the stall, the longest took %v (first request %v)", len(samples), held, longest, firstBack.Sub(firstSent))
	if held < 3 {
		t.Errorf("%d requests sent during the stall, want the 50 ms sender's (about 20)", held)
	}
	// The first request each worker sends after the stall began waits for
	// nearly all of it.
	if want := stallFor/2 - firstBack.Sub(firstSent); longest < want {
		t.Errorf("the longest request during the stall took %v, want at least %v (most of the %v stall)", longest, want, stallFor)
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

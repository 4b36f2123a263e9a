package refserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// startPreset starts the field-guide preset on free ports, its times
// multiplied by scale.
func startPreset(t *testing.T, scale float64) map[string]*refserver.Pod {
	t.Helper()
	specs, err := refserver.FieldGuide(0).Scaled(scale).Build()
	if err != nil {
		t.Fatal(err)
	}
	pods, err := refserver.StartPods(specs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := refserver.ShutdownPods(ctx, pods); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	byName := map[string]*refserver.Pod{}
	for _, p := range pods {
		byName[p.Server.Name()] = p
	}
	return byName
}

// presetCallers returns, for each deployment, a call as its users make
// it: base-yolo a POST of a base64 PNG, nim-binary KServe HTTP binary,
// nim-grpc and nim-batching KServe gRPC.
func presetCallers(t *testing.T, pods map[string]*refserver.Pod) map[string]func(context.Context) error {
	t.Helper()
	png := testImage(t, "png", 64, 64)
	body, _ := json.Marshal(map[string]string{"image": base64.StdEncoding.EncodeToString(png)})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 20 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	yoloURL := "http://" + pods[refserver.PodBaseYOLO].HTTPAddr + "/predict"
	calls := map[string]func(context.Context) error{
		refserver.PodBaseYOLO: func(ctx context.Context) error {
			resp, err := hc.Post(yoloURL, "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
			}
			return err
		},
	}
	images := kserve.Tensor{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}, Data: make([]byte, 4*3*64*64)}
	for name, kind := range map[string]protocol.Kind{refserver.PodNIMBinary: protocol.KServeHTTP, refserver.PodNIMGRPC: protocol.KServeGRPC, refserver.PodNIMBatching: protocol.KServeGRPC} {
		c := protocolClient(t, kind, pods[name].Running)
		p, err := c.Prepare("yolov8n", "", &kserve.InferRequest{Inputs: []kserve.Tensor{images}})
		if err != nil {
			t.Fatal(err)
		}
		calls[name] = func(ctx context.Context) error { _, err := c.Infer(ctx, p); return err }
	}
	return calls
}

var presetOrder = []string{refserver.PodBaseYOLO, refserver.PodNIMBinary, refserver.PodNIMGRPC, refserver.PodNIMBatching}

// TestFieldGuideCeilingsAtConcurrency16 drives each deployment of the
// preset (three times slower than life) with a closed loop of 16: none
// fails, and none serves more than its emulator allows, a ceiling no
// machine load can break: base-yolo's lock is held 0.8 x 23 ms a request
// (55.2 ms in slow motion: 18/s); 16 in flight on nim-binary take
// 8 + 1.5 x 15 ms each (175/s), on nim-grpc 7 + 1.2 x 15 ms (213/s);
// nim-batching's batches of at most 16 take 5 + 0.5 x 16 ms (410/s). The
// preset's 10-15% lognormal jitter may make a run's requests a little
// faster on average: the ceilings allow 15%. The field guide's order of
// the four is TestFieldGuideOrderAtConcurrency16 (timing tag).
func TestFieldGuideCeilingsAtConcurrency16(t *testing.T) {
	const scale = 3
	ceiling := map[string]float64{ // requests a second
		refserver.PodBaseYOLO:    1000 / (0.8 * 23 * scale),
		refserver.PodNIMBinary:   16 * 1000 / ((8 + 1.5*15) * scale),
		refserver.PodNIMGRPC:     16 * 1000 / ((7 + 1.2*15) * scale),
		refserver.PodNIMBatching: 16 * 1000 / ((5 + 0.5*16) * scale),
	}
	pods := startPreset(t, scale)
	calls := presetCallers(t, pods)
	for _, name := range presetOrder {
		closedLoop(16, 50*time.Millisecond, 0, calls[name]) // warm up connections
		d := time.Second
		if name == refserver.PodBaseYOLO {
			d = 3 * time.Second // a request takes about 1 s at 16 in slow motion
		}
		res := closedLoop(16, d, 0, calls[name])
		t.Logf("%-13s %6.0f/s (ceiling %.0f)  p50 %v", name, res.throughput(), ceiling[name], res.percentile(.5).Round(100*time.Microsecond))
		if res.failed > 0 {
			t.Errorf("%s: %d failures at concurrency 16: %v", name, res.failed, res.errs)
		}
		if res.ok == 0 || res.throughput() > ceiling[name]/0.85 {
			t.Errorf("%s: %d requests, %.1f/s at concurrency 16, want some and at most its emulator's ceiling of %.1f/s (and 15%% of jitter)", name, res.ok, res.throughput(), ceiling[name])
		}
	}
}

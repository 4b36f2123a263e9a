package refserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
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

// TestFieldGuideOrderAtConcurrency16 drives each deployment of the preset
// with a closed loop of 16 and checks the field guide's order: batching
// highest, then the gRPC and the HTTP NIM, the GIL-bound service far
// below. The preset runs three times slower than life, which keeps every
// ratio: at full speed the client and the server of a 2-core machine
// under the race detector, not the emulated deployments, would set the
// pace.
func TestFieldGuideOrderAtConcurrency16(t *testing.T) {
	const scale = 3
	pods := startPreset(t, scale)
	calls := presetCallers(t, pods)
	tput := map[string]float64{}
	for _, name := range presetOrder {
		closedLoop(16, 50*time.Millisecond, 0, calls[name]) // warm up connections
		d := time.Second
		if name == refserver.PodBaseYOLO {
			d = 3 * time.Second // a request takes about 1 s at 16 in slow motion
		}
		res := closedLoop(16, d, 0, calls[name])
		if res.failed > 0 {
			t.Errorf("%s: %d failures at concurrency 16: %v", name, res.failed, res.errs)
		}
		tput[name] = res.throughput()
		t.Logf("%-13s %6.0f/s  p50 %v  p99 %v", name, res.throughput(), res.percentile(.5).Round(100*time.Microsecond), res.percentile(.99).Round(100*time.Microsecond))
	}
	yolo, binary, grpc, batching := tput[refserver.PodBaseYOLO], tput[refserver.PodNIMBinary], tput[refserver.PodNIMGRPC], tput[refserver.PodNIMBatching]
	if !(batching > grpc && grpc > binary && binary > 4*yolo) {
		t.Errorf("throughput at 16: batching %.0f, grpc %.0f, binary %.0f, base-yolo %.0f; want them in this order, base-yolo far below", batching, grpc, binary, yolo)
	}
}

// TestMeasureFieldGuide prints the preset's throughput curves, for the
// README: INFERBENCH_MEASURE=1 go test -run TestMeasureFieldGuide -v ./internal/refserver/
func TestMeasureFieldGuide(t *testing.T) {
	if os.Getenv("INFERBENCH_MEASURE") == "" {
		t.Skip("set INFERBENCH_MEASURE=1 to measure the preset's curves (about 1 minute)")
	}
	pods := startPreset(t, 1)
	calls := presetCallers(t, pods)
	levels := []int{1, 4, 8, 16, 24, 32}
	var out strings.Builder
	fmt.Fprintf(&out, "\n%-13s", "deployment")
	for _, c := range levels {
		fmt.Fprintf(&out, " %18s", fmt.Sprintf("c=%d", c))
	}
	out.WriteString("\n")
	for _, name := range presetOrder {
		fmt.Fprintf(&out, "%-13s", name)
		for _, c := range levels {
			closedLoop(c, 200*time.Millisecond, 0, calls[name])
			res := closedLoop(c, 2*time.Second, 0, calls[name])
			cell := fmt.Sprintf("%.0f/s %.1fms", res.throughput(), float64(res.percentile(.5))/1e6)
			if res.failed > 0 {
				cell += fmt.Sprintf(" %d err", res.failed)
			}
			fmt.Fprintf(&out, " %18s", cell)
		}
		out.WriteString("\n")
	}
	t.Log(out.String())
}

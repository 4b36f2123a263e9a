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

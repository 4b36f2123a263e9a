package protocol_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
	"github.com/inferbench/inferbench/internal/reftest"
)

// serve starts the reference server on loopback with ephemeral ports.
func serve(t *testing.T, models ...refserver.ModelSpec) *refserver.Running {
	t.Helper()
	return reftest.Serve(t, refserver.Options{Models: models})
}

// clients makes one client of every kind for a running server.
func clients(t *testing.T, r *refserver.Running, opts protocol.Options) map[protocol.Kind]protocol.Client {
	t.Helper()
	out := map[protocol.Kind]protocol.Client{}
	for _, k := range protocol.KServeKinds {
		o := opts
		o.Kind = k
		o.URL = "http://" + r.HTTPAddr
		if k == protocol.KServeGRPC {
			o.URL = r.GRPCAddr
		}
		c, err := protocol.New(o)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		t.Cleanup(func() { c.Close() })
		out[k] = c
	}
	return out
}

func yolo(name string, em refserver.Emulator) refserver.ModelSpec {
	return refserver.ModelSpec{
		Name: name, Emulator: em,
		Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}}},
		Outputs: []kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: []int64{1, 84, 8400}}},
	}
}

// TestEveryEndpointOverEveryTransport exercises health, metadata, config,
// statistics and a YOLO-sized inference through each client adapter.
func TestEveryEndpointOverEveryTransport(t *testing.T) {
	batching := refserver.ModelSpec{
		Name: "batched", Emulator: refserver.NewInstances(2, 0), MaxBatchSize: 8, InstanceCount: 2,
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.INT32, Shape: []int64{3}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{10}}},
	}
	r := serve(t, yolo("yolov8n", refserver.NewFIFO(0)), batching)
	ctx := context.Background()
	for kind, c := range clients(t, r, protocol.Options{}) {
		t.Run(string(kind), func(t *testing.T) {
			if c.Kind() != kind {
				t.Errorf("Kind() = %s", c.Kind())
			}
			for what, f := range map[string]func() (bool, error){
				"live":        func() (bool, error) { return c.ServerLive(ctx) },
				"ready":       func() (bool, error) { return c.ServerReady(ctx) },
				"model ready": func() (bool, error) { return c.ModelReady(ctx, "yolov8n", "") },
				"version 1":   func() (bool, error) { return c.ModelReady(ctx, "yolov8n", "1") },
			} {
				if ok, err := f(); !ok || err != nil {
					t.Errorf("%s = %v, %v", what, ok, err)
				}
			}
			if ok, _ := c.ModelReady(ctx, "nope", ""); ok {
				t.Errorf("an unknown model is ready")
			}
			smd, err := c.ServerMetadata(ctx)
			if err != nil || smd.Name != refserver.ServerName || len(smd.Extensions) == 0 {
				t.Errorf("server metadata = %+v, %v", smd, err)
			}
			md, err := c.ModelMetadata(ctx, "batched", "")
			if err != nil {
				t.Fatal(err)
			}
			if md.Name != "batched" || md.Inputs[0].Datatype != kserve.INT32 || fmt.Sprint(md.Inputs[0].Shape) != "[-1 3]" || fmt.Sprint(md.Outputs[0].Shape) != "[-1 10]" {
				t.Errorf("model metadata = %+v (a batching model reports [-1] + dims)", md)
			}
			cfg, err := c.ModelConfig(ctx, "batched", "1")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.GetMaxBatchSize() != 8 || fmt.Sprint(cfg.GetInput()[0].GetDims()) != "[3]" || cfg.GetInput()[0].GetDataType().String() != "TYPE_INT32" || cfg.GetInstanceGroup()[0].GetCount() != 2 {
				t.Errorf("config = %v", cfg)
			}
			if _, err := c.ModelMetadata(ctx, "nope", ""); err == nil {
				t.Errorf("metadata of an unknown model succeeded")
			} else if se, ok := protocol.IsServerError(err); !ok || (se.HTTPStatus != 400 && se.GRPCCode != codes.InvalidArgument) {
				t.Errorf("unknown model error = %v, want HTTP 400 / INVALID_ARGUMENT", err)
			}

			// A YOLO-sized request: 4,915,200 bytes in, 2,822,400 out.
			ins, err := inputs.Random([]kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 640, 640}}}, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins[0].Data) != 4915200 {
				t.Fatalf("input is %d bytes", len(ins[0].Data))
			}
			p, err := c.Prepare("yolov8n", "", &kserve.InferRequest{ID: "yolo-1", Inputs: ins})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Infer(ctx, p)
			if err != nil {
				t.Fatalf("YOLO-sized infer: %v", err)
			}
			out := resp.Output("output0")
			if out == nil || len(out.Data) != 2822400 || fmt.Sprint(out.Shape) != "[1 84 8400]" || resp.ID != "yolo-1" {
				t.Fatalf("YOLO response: %+v", resp)
			}
			if fp, ok := kserve.ReadFingerprint(out); !ok || fp != kserve.Fingerprint(ins) {
				t.Errorf("the output does not carry the input's fingerprint")
			}

			// A batch of 3 on the batching model.
			x, _ := kserve.NewTensor("x", kserve.INT32, []int64{3, 3}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
			p, err = c.Prepare("batched", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
			if err != nil {
				t.Fatal(err)
			}
			resp, err = c.Infer(ctx, p)
			if err != nil || fmt.Sprint(resp.Output("y").Shape) != "[3 10]" {
				t.Fatalf("batched infer: %v %+v", err, resp)
			}
			stats, err := c.ModelStatistics(ctx, "batched", "")
			if err != nil {
				t.Fatal(err)
			}
			ms := stats.GetModelStats()[0]
			if ms.GetName() != "batched" || ms.GetInferenceCount() < 3 || ms.GetInferenceStats().GetSuccess().GetCount() < 1 {
				t.Errorf("statistics = %v", ms)
			}
			all, err := c.ModelStatistics(ctx, "", "")
			if err != nil || len(all.GetModelStats()) != 2 {
				t.Errorf("statistics of every model: %v, %v", all, err)
			}
		})
	}
}

// TestEveryDatatypeThroughTheServer sends one input of each datatype and
// checks the server saw exactly the bytes sent (the outputs carry the
// fingerprint of the inputs) over each transport.
func TestEveryDatatypeThroughTheServer(t *testing.T) {
	var ins, outs []kserve.TensorMetadata
	for _, dt := range kserve.DataTypes {
		ins = append(ins, kserve.TensorMetadata{Name: "in_" + string(dt), Datatype: dt, Shape: []int64{2, 3}})
		n := int64(8)
		if dt == kserve.BOOL {
			n = 32
		}
		outs = append(outs, kserve.TensorMetadata{Name: "out_" + string(dt), Datatype: dt, Shape: []int64{n}})
	}
	all := refserver.ModelSpec{Name: "all", Emulator: refserver.NewFIFO(0), Inputs: ins, Outputs: outs}
	var noHalf []kserve.TensorMetadata
	for _, m := range ins {
		if m.Datatype.JSONAllowed() {
			noHalf = append(noHalf, m)
		}
	}
	var noHalfOuts []kserve.TensorMetadata
	for _, m := range outs {
		if m.Datatype.JSONAllowed() {
			noHalfOuts = append(noHalfOuts, m)
		}
	}
	jsonModel := refserver.ModelSpec{Name: "json", Emulator: refserver.NewFIFO(0), Inputs: noHalf, Outputs: noHalfOuts}
	r := serve(t, all, jsonModel)
	for kind, c := range clients(t, r, protocol.Options{}) {
		t.Run(string(kind), func(t *testing.T) {
			model, meta := "all", ins
			if kind == protocol.KServeHTTPJSON {
				model, meta = "json", noHalf // Triton takes FP16 and BF16 in binary only
			}
			tensors, err := inputs.Random(meta, 3)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Prepare(model, "", &kserve.InferRequest{Inputs: tensors})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Infer(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			want := kserve.Fingerprint(tensors)
			if len(resp.Outputs) != len(outs) && kind != protocol.KServeHTTPJSON {
				t.Errorf("%d outputs, want %d", len(resp.Outputs), len(outs))
			}
			for _, o := range resp.Outputs {
				got, ok := kserve.ReadFingerprint(&o)
				if !ok || got != want {
					t.Errorf("%s: fingerprint %08x (%v), want %08x", o.Name, got, ok, want)
				}
			}
		})
	}
	// FP16 cannot be sent as JSON: the client says so before sending.
	c := clients(t, r, protocol.Options{})[protocol.KServeHTTPJSON]
	half, _ := kserve.NewTensor("h", kserve.FP16, []int64{1}, []float64{1})
	if _, err := c.Prepare("all", "", &kserve.InferRequest{Inputs: []kserve.Tensor{half}}); err == nil {
		t.Errorf("preparing an FP16 input as JSON succeeded")
	}
}

// TestServerErrorsAreClassified checks that the injected failures arrive as
// HTTP 500 and gRPC INTERNAL, and a slow server as a deadline.
func TestServerErrorsAreClassified(t *testing.T) {
	failing := yolo("failing", refserver.NewFIFO(0))
	failing.Inputs = []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}}
	failing.Outputs = []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}}
	failing.ErrorRate = 1
	slow := failing
	slow.Name, slow.ErrorRate, slow.Emulator = "slow", 0, refserver.NewFIFO(2*time.Second)
	r := serve(t, failing, slow)
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	for kind, c := range clients(t, r, protocol.Options{Timeout: 50 * time.Millisecond}) {
		t.Run(string(kind), func(t *testing.T) {
			p, _ := c.Prepare("failing", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
			_, err := c.Infer(context.Background(), p)
			se, ok := protocol.IsServerError(err)
			if !ok || (se.HTTPStatus != 500 && se.GRPCCode != codes.Internal) || se.Message == "" {
				t.Errorf("injected failure: %v, want HTTP 500 / gRPC INTERNAL with a message", err)
			}
			p, _ = c.Prepare("slow", "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
			start := time.Now()
			_, err = c.Infer(context.Background(), p)
			elapsed := time.Since(start)
			isDeadline := errors.Is(err, context.DeadlineExceeded)
			if se, ok := protocol.IsServerError(err); ok && se.GRPCCode == codes.DeadlineExceeded {
				isDeadline = true
			}
			if !isDeadline {
				t.Errorf("slow server: %v, want a deadline error", err)
			}
			// The server takes 2 s: a call that ends well before that was
			// ended by the 50 ms timeout, however busy the machine.
			if elapsed > time.Second {
				t.Errorf("the 50 ms timeout took %v to fire (want under 1 s; the server takes 2 s)", elapsed)
			}
		})
	}
}

// TestUnreachableServer: a refused connection is an error, not a hang.
func TestUnreachableServer(t *testing.T) {
	r := serve(t, yolo("m", refserver.NewFIFO(0)))
	httpAddr, grpcAddr := r.HTTPAddr, r.GRPCAddr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Shutdown(ctx)
	for _, o := range []protocol.Options{
		{Kind: protocol.KServeHTTP, URL: httpAddr},
		{Kind: protocol.KServeGRPC, URL: grpcAddr, Timeout: time.Second},
	} {
		c, err := protocol.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := c.ServerLive(context.Background()); ok || err == nil {
			t.Errorf("%s: live = %v, %v against a closed port", o.Kind, ok, err)
		}
		c.Close()
	}
}

// TestServerErrorIsOneQuotedLine: a server's message cannot carry
// escape sequences or a forged line into what the error says.
func TestServerErrorIsOneQuotedLine(t *testing.T) {
	tests := []struct {
		err  *protocol.ServerError
		want string
	}{
		{&protocol.ServerError{HTTPStatus: 500, Message: "boom\x1b]0;pwned\x07\nPASS"}, `HTTP 500: boom\x1b]0;pwned\a\nPASS`},
		{&protocol.ServerError{GRPCCode: codes.Internal, Message: "a\u009bb"}, `gRPC Internal: a\u009bb`},
		{&protocol.ServerError{HTTPStatus: 503, Message: "Exceeds maximum queue size"}, "HTTP 503: Exceeds maximum queue size"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

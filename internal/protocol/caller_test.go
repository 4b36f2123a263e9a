package protocol_test

import (
	"context"
	"testing"

	"github.com/inferbench/inferbench/internal/inputs"
	"github.com/inferbench/inferbench/internal/kserve"
	classes "github.com/inferbench/inferbench/internal/measure"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// TestCallerChecksAgainstTheMetadata: over every transport, the hot path
// passes what matches the model's metadata and reports a validation
// failure for what does not, as ValidateResponse on the decoded response
// would; the byte counts are the messages'.
func TestCallerChecksAgainstTheMetadata(t *testing.T) {
	r := serve(t, yolo("yolov8n", refserver.NewFIFO(0)), refserver.ModelSpec{
		Name: "m", Emulator: refserver.NewInstances(2, 0), MaxBatchSize: 8,
		Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.INT32, Shape: []int64{3}}},
		Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{10}}, {Name: "z", Datatype: kserve.BYTES, Shape: []int64{2}}},
	})
	ctx := context.Background()
	for kind, c := range clients(t, r, protocol.Options{}) {
		t.Run(string(kind), func(t *testing.T) {
			md, err := c.ModelMetadata(ctx, "m", "")
			if err != nil {
				t.Fatal(err)
			}
			ins, err := inputs.Random(md.Inputs, 3)
			if err != nil {
				t.Fatal(err)
			}
			ins[0].Shape = []int64{2, 3}
			ins[0].Data = append(ins[0].Data, ins[0].Data...)
			p, err := c.Prepare("m", "", &kserve.InferRequest{Inputs: ins})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Infer(ctx, p)
			if err != nil || protocol.ValidateResponse(md, nil, resp) != nil {
				t.Fatalf("Infer: %v", err)
			}
			wrongType := *md
			wrongType.Outputs = []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP64, Shape: []int64{-1, 10}}}
			wrongShape := *md
			wrongShape.Outputs = []kserve.TensorMetadata{{Name: "z", Datatype: kserve.BYTES, Shape: []int64{-1, 3}}}
			missing := *md
			missing.Outputs = append([]kserve.TensorMetadata{{Name: "w", Datatype: kserve.FP32, Shape: []int64{1}}}, md.Outputs...)
			for name, tc := range map[string]struct {
				check *protocol.Checker
				class string
			}{
				"the metadata":        {protocol.NewChecker(md, nil), "ok"},
				"well-formed only":    {nil, "ok"},
				"requested output":    {protocol.NewChecker(&missing, []string{"y"}), "ok"},
				"another datatype":    {protocol.NewChecker(&wrongType, nil), classes.ClassValidation},
				"another shape":       {protocol.NewChecker(&wrongShape, nil), classes.ClassValidation},
				"a missing output":    {protocol.NewChecker(&missing, nil), classes.ClassValidation},
				"a missing requested": {protocol.NewChecker(md, []string{"w"}), "ok"}, // not in the metadata: not wanted
			} {
				caller := c.NewCaller(tc.check)
				out := caller.Call(ctx, p)
				caller.Close()
				if got := classOf(out.Err); got != tc.class {
					t.Errorf("%s: %s (%v), want %s", name, got, out.Err, tc.class)
				}
				if out.RequestBytes != p.Size() || out.ResponseBytes < 2*10*4 {
					t.Errorf("%s: %d request bytes (payload %d), %d response bytes", name, out.RequestBytes, p.Size(), out.ResponseBytes)
				}
			}
		})
	}
}

// TestCallerYOLO: a YOLO-sized call over the hot path.
func TestCallerYOLO(t *testing.T) {
	r := serve(t, yolo("yolov8n", refserver.NewFIFO(0)))
	ctx := context.Background()
	for kind, c := range clients(t, r, protocol.Options{}) {
		t.Run(string(kind), func(t *testing.T) {
			md, err := c.ModelMetadata(ctx, "yolov8n", "")
			if err != nil {
				t.Fatal(err)
			}
			ins, _ := inputs.Random(md.Inputs, 1)
			p, err := c.Prepare("yolov8n", "", &kserve.InferRequest{Inputs: ins})
			if err != nil {
				t.Fatal(err)
			}
			caller := c.NewCaller(protocol.NewChecker(md, nil))
			defer caller.Close()
			for range 2 {
				if out := caller.Call(ctx, p); out.Err != nil || out.RequestBytes < 4915200 || out.ResponseBytes < 1<<20 {
					t.Fatalf("%+v", out)
				}
			}
		})
	}
}

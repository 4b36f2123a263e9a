package refserver

import (
	"fmt"
	"sync/atomic"

	"github.com/inferbench/inferbench/internal/detect"
	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// DefaultVersion is the version every emulated model has unless set.
const DefaultVersion = "1"

// ModelSpec declares one emulated model.
type ModelSpec struct {
	Name     string
	Version  string // all digits, as Triton requires; DefaultVersion if empty
	Platform string // free text shown in metadata; "inferbench_emulator" if empty
	// MaxBatchSize > 0 makes the first dimension a batch dimension: Inputs
	// and Outputs then give the dims without it (as in Triton's config) and
	// metadata reports [-1] + dims. 0 means the shapes are complete.
	MaxBatchSize int
	Inputs       []kserve.TensorMetadata
	Outputs      []kserve.TensorMetadata
	Emulator     Emulator
	// InstanceCount is reported in the model configuration's instance_group.
	InstanceCount int
	// ErrorRate is the probability (0..1) that a request fails after its
	// execution with INTERNAL (HTTP 500, gRPC INTERNAL), reason BACKEND.
	ErrorRate float64
	// Faults are the other injected faults.
	Faults Faults
	Seed   uint64 // seeds the injected faults
}

// model is a ModelSpec being served.
type model struct {
	spec ModelSpec
	// stats is replaced by a fresh one when the pod restarts; a request
	// records into the statistics it was admitted under.
	stats  atomic.Pointer[modelStats]
	faults *injector
	// image is the input an image is letterboxed into (vision.go): the
	// model's only image-shaped input with a batch of 1, or a default
	// 640x640 FP32 "images"; hasImage is set for the former.
	image    kserve.TensorMetadata
	hasImage bool
}

func newModel(spec ModelSpec) (*model, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("model without a name")
	}
	if spec.Version == "" {
		spec.Version = DefaultVersion
	}
	for _, c := range spec.Version {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("model %q: version %q is not all digits", spec.Name, spec.Version)
		}
	}
	if spec.Platform == "" {
		spec.Platform = "inferbench_emulator"
	}
	if spec.Emulator == nil {
		return nil, fmt.Errorf("model %q: no emulator", spec.Name)
	}
	if spec.MaxBatchSize < 0 {
		return nil, fmt.Errorf("model %q: max batch size %d is negative", spec.Name, spec.MaxBatchSize)
	}
	if spec.ErrorRate < 0 || spec.ErrorRate > 1 {
		return nil, fmt.Errorf("model %q: error rate %v is outside 0..1", spec.Name, spec.ErrorRate)
	}
	if len(spec.Inputs) == 0 || len(spec.Outputs) == 0 {
		return nil, fmt.Errorf("model %q: needs at least one input and one output", spec.Name)
	}
	seen := map[string]bool{}
	for _, list := range [][]kserve.TensorMetadata{spec.Inputs, spec.Outputs} {
		for _, t := range list {
			if t.Name == "" || seen[t.Name] {
				return nil, fmt.Errorf("model %q: tensor name %q is empty or used twice", spec.Name, t.Name)
			}
			seen[t.Name] = true
			if !t.Datatype.Valid() {
				return nil, fmt.Errorf("model %q: tensor %q: unknown datatype %q", spec.Name, t.Name, t.Datatype)
			}
			for _, d := range t.Shape {
				if d < -1 {
					return nil, fmt.Errorf("model %q: tensor %q: dimension %d is invalid", spec.Name, t.Name, d)
				}
			}
		}
	}
	if err := spec.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("model %q: %w", spec.Name, err)
	}
	if spec.InstanceCount < 1 {
		spec.InstanceCount = 1
	}
	m := &model{spec: spec, faults: newInjector(spec.Seed)}
	m.stats.Store(newModelStats())
	m.image, m.hasImage = m.imageInput()
	return m, nil
}

// fail reports whether the injected error rate picks this request.
func (m *model) fail() bool { return m.faults.draw(m.faults.errRNG, m.spec.ErrorRate, faultError) }

// spike reports whether a latency spike picks this request.
func (m *model) spike() bool {
	return m.spec.Faults.SpikeDuration > 0 && m.faults.draw(m.faults.spike, m.spec.Faults.SpikeProbability, faultSpike)
}

// drop reports whether this request's connection is to be dropped.
func (m *model) drop() bool {
	return m.faults.draw(m.faults.drop, m.spec.Faults.DropProbability, faultDrop)
}

// fullShape is the shape as metadata reports it.
func (m *model) fullShape(dims []int64) []int64 {
	if m.spec.MaxBatchSize > 0 {
		return append([]int64{-1}, dims...)
	}
	return append([]int64(nil), dims...)
}

func (m *model) tensorMetadata(list []kserve.TensorMetadata) []kserve.TensorMetadata {
	out := make([]kserve.TensorMetadata, len(list))
	for i, t := range list {
		out[i] = kserve.TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: m.fullShape(t.Shape)}
	}
	return out
}

// metadata is the model's answer to a metadata request.
func (m *model) metadata() kserve.ModelMetadata {
	return kserve.ModelMetadata{
		Name: m.spec.Name, Versions: []string{m.spec.Version}, Platform: m.spec.Platform,
		Inputs: m.tensorMetadata(m.spec.Inputs), Outputs: m.tensorMetadata(m.spec.Outputs),
	}
}

// config is the model's configuration, as Triton's model_config.proto.
func (m *model) config() *pb.ModelConfig {
	c := &pb.ModelConfig{
		Name: m.spec.Name, Platform: m.spec.Platform, Backend: "inferbench",
		MaxBatchSize: int32(m.spec.MaxBatchSize),
		InstanceGroup: []*pb.ModelInstanceGroup{{
			Name: m.spec.Name + "_0", Kind: pb.ModelInstanceGroup_KIND_CPU, Count: int32(m.spec.InstanceCount),
		}},
		Parameters: map[string]*pb.ModelParameter{
			"emulator": {StringValue: m.spec.Emulator.Describe()},
		},
	}
	if b, ok := m.spec.Emulator.(interface {
		dynamicBatching() *pb.ModelDynamicBatching
	}); ok && m.spec.MaxBatchSize > 0 {
		c.SchedulingChoice = &pb.ModelConfig_DynamicBatching{DynamicBatching: b.dynamicBatching()}
	}
	for _, t := range m.spec.Inputs {
		c.Input = append(c.Input, &pb.ModelInput{Name: t.Name, DataType: t.Datatype.ConfigType(), Dims: t.Shape})
	}
	for _, t := range m.spec.Outputs {
		c.Output = append(c.Output, &pb.ModelOutput{Name: t.Name, DataType: t.Datatype.ConfigType(), Dims: t.Shape})
	}
	return c
}

// checkInputs validates a request's inputs against the model, as Triton
// does before scheduling, and returns the request's batch size.
func (m *model) checkInputs(req *kserve.InferRequest) (int, error) {
	name := m.spec.Name
	if len(req.Inputs) != len(m.spec.Inputs) {
		return 0, kserve.Errorf(kserve.CodeInvalidArg, "expected %d inputs but got %d inputs for model '%s'", len(m.spec.Inputs), len(req.Inputs), name)
	}
	batch := 1
	for i := range req.Inputs {
		in := &req.Inputs[i]
		var want *kserve.TensorMetadata
		for j := range m.spec.Inputs {
			if m.spec.Inputs[j].Name == in.Name {
				want = &m.spec.Inputs[j]
			}
		}
		if want == nil {
			return 0, kserve.Errorf(kserve.CodeInvalidArg, "unexpected inference input '%s' for model '%s'", in.Name, name)
		}
		for j := 0; j < i; j++ {
			if req.Inputs[j].Name == in.Name {
				return 0, kserve.Errorf(kserve.CodeInvalidArg, "input '%s' was given twice for model '%s'", in.Name, name)
			}
		}
		if in.Datatype != want.Datatype {
			return 0, kserve.Errorf(kserve.CodeInvalidArg, "inference input '%s' data-type is '%s', but model '%s' expects '%s'", in.Name, in.Datatype, name, want.Datatype)
		}
		shape := in.Shape
		if m.spec.MaxBatchSize > 0 {
			if len(shape) == 0 {
				return 0, kserve.Errorf(kserve.CodeInvalidArg, "input '%s' for model '%s' has no batch dimension", in.Name, name)
			}
			b := shape[0]
			if b < 1 || b > int64(m.spec.MaxBatchSize) {
				return 0, kserve.Errorf(kserve.CodeInvalidArg, "inference request batch-size must be <= %d for '%s', got %d", m.spec.MaxBatchSize, name, b)
			}
			if i > 0 && int(b) != batch {
				return 0, kserve.Errorf(kserve.CodeInvalidArg, "inputs of model '%s' disagree on the batch size (%d and %d)", name, batch, b)
			}
			batch = int(b)
			shape = shape[1:]
		}
		if !shapeMatches(shape, want.Shape) {
			return 0, kserve.Errorf(kserve.CodeInvalidArg, "unexpected shape for input '%s' for model '%s'. Expected %v, got %v", in.Name, name, m.fullShape(want.Shape), in.Shape)
		}
		if err := in.Check(); err != nil {
			return 0, err
		}
	}
	return batch, nil
}

func shapeMatches(got, want []int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if want[i] != -1 && got[i] != want[i] {
			return false
		}
	}
	return true
}

// wantedOutputs resolves the outputs a request asks for: those it names,
// in its order, or every output in the model's order.
func (m *model) wantedOutputs(req *kserve.InferRequest) ([]kserve.TensorMetadata, error) {
	if len(req.Outputs) == 0 {
		return m.spec.Outputs, nil
	}
	wanted := make([]kserve.TensorMetadata, 0, len(req.Outputs))
	for _, o := range req.Outputs {
		found := false
		for _, t := range m.spec.Outputs {
			if t.Name == o.Name {
				wanted = append(wanted, t)
				found = true
			}
		}
		if !found {
			return nil, kserve.Errorf(kserve.CodeInvalidArg, "unexpected inference output '%s' for model '%s'", o.Name, m.spec.Name)
		}
	}
	return wanted, nil
}

// outputs builds the wanted outputs for a request of this batch size, each
// stamped with the inputs' fingerprint; a YOLO-shaped output of a model
// with an image input also carries the detections derived from it.
func (m *model) outputs(wanted []kserve.TensorMetadata, batch int, fp uint32) ([]kserve.Tensor, error) {
	out := make([]kserve.Tensor, len(wanted))
	for i, t := range wanted {
		shape := make([]int64, 0, len(t.Shape)+1)
		if m.spec.MaxBatchSize > 0 {
			shape = append(shape, int64(batch))
		}
		for _, d := range t.Shape {
			if d == -1 {
				d = 1 // a variable output dimension is emulated as 1
			}
			shape = append(shape, d)
		}
		tensor := kserve.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: shape}
		if t.Datatype == kserve.BYTES {
			n, _ := kserve.ElementCount(shape)
			tensor.Data = make([]byte, 4*n) // n empty elements
		} else {
			size, err := kserve.ByteSize(t.Datatype, shape)
			if err != nil {
				return nil, kserve.Errorf(kserve.CodeInternal, "output '%s': %v", t.Name, err)
			}
			tensor.Data = make([]byte, size)
		}
		kserve.StampFingerprint(&tensor, fp)
		if m.hasImage {
			// A detector's answer: the boxes every transport gives for
			// this input (vision.go), where a YOLO output has them.
			w, h := m.imageSize()
			detect.EncodeYOLO(&tensor, detect.Generate(fp, w, h))
		}
		out[i] = tensor
	}
	return out, nil
}

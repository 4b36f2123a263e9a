package kserve

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// RequestToProto builds a ModelInferRequest as Triton's clients send it:
// every input's data in raw_input_contents, in input order, without copying
// the data.
//
// Shapes and data are shared with req, not copied. A nil req gives a
// request with only the model name and version.
func RequestToProto(model, version string, req *InferRequest) *pb.ModelInferRequest {
	p := &pb.ModelInferRequest{ModelName: model, ModelVersion: version}
	if req == nil {
		return p
	}
	p.Id = req.ID
	p.Parameters = ParametersToProto(req.Parameters)
	if len(req.Inputs) > 0 {
		p.Inputs = make([]*pb.ModelInferRequest_InferInputTensor, len(req.Inputs))
		p.RawInputContents = make([][]byte, 0, len(req.Inputs))
		for i := range req.Inputs {
			t := &req.Inputs[i]
			p.Inputs[i] = &pb.ModelInferRequest_InferInputTensor{
				Name:       t.Name,
				Datatype:   string(t.Datatype),
				Shape:      t.Shape,
				Parameters: ParametersToProto(t.Parameters),
			}
			if !t.InSharedMemory() { // an input in a shared-memory region has no raw contents
				p.RawInputContents = append(p.RawInputContents, t.Data)
			}
		}
		if len(p.RawInputContents) == 0 {
			p.RawInputContents = nil
		}
	}
	if len(req.Outputs) > 0 {
		p.Outputs = make([]*pb.ModelInferRequest_InferRequestedOutputTensor, len(req.Outputs))
		for i, o := range req.Outputs {
			p.Outputs[i] = &pb.ModelInferRequest_InferRequestedOutputTensor{
				Name:       o.Name,
				Parameters: ParametersToProto(o.Parameters),
			}
		}
	}
	return p
}

// RequestFromProto reads a ModelInferRequest as a server receives it. Inputs
// come either all raw (raw_input_contents[i] belongs to inputs[i]) or all
// typed (contents); a mix is INVALID_ARG ("contents field must not be
// specified when using raw_input_contents"), as in Triton, and so are a count
// of raw contents that differs from the count of inputs, typed contents
// whose field does not fit the datatype, FP16/BF16 sent typed, and data
// whose size does not fit the shape.
//
// Raw data and shapes are shared with p, not copied. A typed input without
// contents has no data, which only fits a shape with no elements. The model
// name and version are the caller's to read from p.
func RequestFromProto(p *pb.ModelInferRequest) (*InferRequest, error) {
	if p == nil {
		return nil, invalid("nil ModelInferRequest")
	}
	req := &InferRequest{ID: p.GetId(), Parameters: ParametersFromProto(p.GetParameters())}
	raw := p.GetRawInputContents()
	// Inputs in shared-memory regions have no raw contents (Triton's
	// clients send them for the others only, in order).
	inMessage := 0
	for _, in := range p.GetInputs() {
		if _, shm := in.GetParameters()[ParamSharedMemoryRegion]; !shm {
			inMessage++
		}
	}
	if len(raw) > 0 {
		for _, in := range p.GetInputs() {
			if in.GetContents() != nil {
				return nil, invalid("contents field must not be specified when using raw_input_contents for input '%s'", clipMsg(in.GetName()))
			}
		}
		if len(raw) != inMessage {
			return nil, invalid("expected %d raw_input_contents, one per input, got %d", inMessage, len(raw))
		}
	}
	if n := len(p.GetInputs()); n > 0 {
		req.Inputs = make([]Tensor, n)
		rawAt := 0
		for i, in := range p.GetInputs() {
			var data []byte
			if _, shm := in.GetParameters()[ParamSharedMemoryRegion]; len(raw) > 0 && !shm {
				data = raw[rawAt]
				rawAt++
			}
			t, err := tensorFromProto("input", i, in.GetName(), in.GetDatatype(), in.GetShape(), in.GetParameters(), in.GetContents(), data)
			if err != nil {
				return nil, err
			}
			req.Inputs[i] = t
		}
	}
	if n := len(p.GetOutputs()); n > 0 {
		req.Outputs = make([]RequestedOutput, n)
		for i, o := range p.GetOutputs() {
			if o.GetName() == "" {
				return nil, invalid("requested output %d has no name", i)
			}
			req.Outputs[i] = RequestedOutput{Name: o.GetName(), Parameters: ParametersFromProto(o.GetParameters())}
		}
	}
	return req, nil
}

// ResponseToProto builds a ModelInferResponse as Triton sends it: one
// raw_output_contents entry per output (empty for an output written into
// a shared-memory region), typed contents never filled.
//
// Shapes and data are shared with resp, not copied.
func ResponseToProto(resp *InferResponse) *pb.ModelInferResponse {
	if resp == nil {
		return &pb.ModelInferResponse{}
	}
	p := &pb.ModelInferResponse{
		ModelName:    resp.ModelName,
		ModelVersion: resp.ModelVersion,
		Id:           resp.ID,
		Parameters:   ParametersToProto(resp.Parameters),
	}
	if len(resp.Outputs) > 0 {
		p.Outputs = make([]*pb.ModelInferResponse_InferOutputTensor, len(resp.Outputs))
		p.RawOutputContents = make([][]byte, len(resp.Outputs))
		for i := range resp.Outputs {
			t := &resp.Outputs[i]
			p.Outputs[i] = &pb.ModelInferResponse_InferOutputTensor{
				Name:       t.Name,
				Datatype:   string(t.Datatype),
				Shape:      t.Shape,
				Parameters: ParametersToProto(t.Parameters),
			}
			p.RawOutputContents[i] = t.Data
		}
	}
	return p
}

// ResponseFromProto reads a ModelInferResponse, raw (Triton) or typed
// (KServe Python, OpenVINO), checking every output against its shape.
//
// Raw contents, when present, must number one per output, and no output may
// then carry typed contents. Raw data and shapes are shared with p.
func ResponseFromProto(p *pb.ModelInferResponse) (*InferResponse, error) {
	return responseFromProto(p, false)
}

// ResponseFromProtoSHM reads the answer to a request whose outputs were
// asked into shared-memory regions: an output without contents or raw
// data was written into its region, and has no Data; raw contents may
// then be fewer than the outputs (one per output not in a region).
func ResponseFromProtoSHM(p *pb.ModelInferResponse) (*InferResponse, error) {
	return responseFromProto(p, true)
}

func responseFromProto(p *pb.ModelInferResponse, shm bool) (*InferResponse, error) {
	if p == nil {
		return nil, invalid("nil ModelInferResponse")
	}
	resp := &InferResponse{
		ModelName:    p.GetModelName(),
		ModelVersion: p.GetModelVersion(),
		ID:           p.GetId(),
		Parameters:   ParametersFromProto(p.GetParameters()),
	}
	raw := p.GetRawOutputContents()
	if len(raw) > 0 {
		for _, out := range p.GetOutputs() {
			if out.GetContents() != nil {
				return nil, invalid("contents field must not be specified when using raw_output_contents for output '%s'", clipMsg(out.GetName()))
			}
		}
		if len(raw) != len(p.GetOutputs()) && !(shm && len(raw) < len(p.GetOutputs())) {
			return nil, invalid("expected %d raw_output_contents, one per output, got %d", len(p.GetOutputs()), len(raw))
		}
	}
	if n := len(p.GetOutputs()); n > 0 {
		resp.Outputs = make([]Tensor, n)
		for i, out := range p.GetOutputs() {
			var data []byte
			if i < len(raw) {
				data = raw[i]
			}
			if shm && len(data) == 0 && out.GetContents() == nil { // written into its region
				dt := DataType(out.GetDatatype())
				switch {
				case out.GetName() == "":
					return nil, invalid("output %d has no name", i)
				case !dt.Valid():
					return nil, invalid("output '%s': unknown datatype '%s'", clipMsg(out.GetName()), clipMsg(out.GetDatatype()))
				}
				t := Tensor{Name: out.GetName(), Datatype: dt, Shape: out.GetShape(), Parameters: ParametersFromProto(out.GetParameters())}
				if t.Shape == nil {
					t.Shape = []int64{}
				}
				resp.Outputs[i] = t
				continue
			}
			t, err := tensorFromProto("output", i, out.GetName(), out.GetDatatype(), out.GetShape(), out.GetParameters(), out.GetContents(), data)
			if err != nil {
				return nil, err
			}
			resp.Outputs[i] = t
		}
	}
	return resp, nil
}

// tensorFromProto builds and checks one tensor from the fields that input
// and output messages share; data is its raw contents, if any.
func tensorFromProto(kind string, idx int, name, datatype string, shape []int64, params map[string]*pb.InferParameter, contents *pb.InferTensorContents, data []byte) (Tensor, error) {
	if name == "" {
		return Tensor{}, invalid("%s %d has no name", kind, idx)
	}
	dt := DataType(datatype)
	if !dt.Valid() {
		return Tensor{}, invalid("%s '%s': unknown datatype '%s'", kind, clipMsg(name), clipMsg(datatype))
	}
	t := Tensor{Name: name, Datatype: dt, Shape: shape, Parameters: ParametersFromProto(params), Data: data}
	if t.Shape == nil {
		t.Shape = []int64{}
	}
	if contents == nil && len(data) == 0 && t.InSharedMemory() {
		t.Data = nil
		return t, nil // its data is in a shared-memory region
	}
	if contents != nil {
		raw, err := RawFromContents(dt, contents)
		if err != nil {
			return Tensor{}, Errorf(CodeOf(err), "%s '%s': %v", kind, clipMsg(name), err)
		}
		t.Data = raw
	}
	if err := t.Check(); err != nil {
		return Tensor{}, err
	}
	return t, nil
}

// contentsField names the InferTensorContents field of a datatype; "" for
// FP16 and BF16, which have none.
func contentsField(dt DataType) string {
	switch dt {
	case BOOL:
		return "bool_contents"
	case INT8, INT16, INT32:
		return "int_contents"
	case INT64:
		return "int64_contents"
	case UINT8, UINT16, UINT32:
		return "uint_contents"
	case UINT64:
		return "uint64_contents"
	case FP32:
		return "fp32_contents"
	case FP64:
		return "fp64_contents"
	case BYTES:
		return "bytes_contents"
	}
	return ""
}

// ContentsFromRaw converts raw data to typed InferTensorContents (BOOL to
// bool_contents, INT8/16/32 to int_contents, UINT8/16/32 to uint_contents,
// and so on; BYTES elements without their length prefix). FP16 and BF16 have
// no typed field and fail.
//
// Raw data that is not a whole number of elements (or, for BYTES, not
// well-formed) fails too; errors are INVALID_ARG. BYTES elements share
// memory with raw.
func ContentsFromRaw(dt DataType, raw []byte) (*pb.InferTensorContents, error) {
	if !dt.Valid() {
		return nil, invalid("unknown datatype '%s'", clipMsg(string(dt)))
	}
	if contentsField(dt) == "" {
		return nil, invalid("%s has no typed contents field; it can only travel as raw contents", dt)
	}
	c := &pb.InferTensorContents{}
	if dt == BYTES {
		elems, err := SplitBytes(raw)
		if err != nil {
			return nil, invalid("%v", err)
		}
		c.BytesContents = elems
		return c, nil
	}
	size := dt.Size()
	if len(raw)%size != 0 {
		return nil, invalid("%d bytes of raw data are not a whole number of %d-byte %s elements", len(raw), size, dt)
	}
	n := len(raw) / size
	le := binary.LittleEndian
	switch dt {
	case BOOL:
		c.BoolContents = make([]bool, n)
		for i, b := range raw {
			c.BoolContents[i] = b != 0
		}
	case INT8, INT16, INT32:
		c.IntContents = make([]int32, n)
		for i := range n {
			switch size {
			case 1:
				c.IntContents[i] = int32(int8(raw[i]))
			case 2:
				c.IntContents[i] = int32(int16(le.Uint16(raw[2*i:])))
			default:
				c.IntContents[i] = int32(le.Uint32(raw[4*i:]))
			}
		}
	case UINT8, UINT16, UINT32:
		c.UintContents = make([]uint32, n)
		for i := range n {
			switch size {
			case 1:
				c.UintContents[i] = uint32(raw[i])
			case 2:
				c.UintContents[i] = uint32(le.Uint16(raw[2*i:]))
			default:
				c.UintContents[i] = le.Uint32(raw[4*i:])
			}
		}
	case INT64:
		c.Int64Contents = make([]int64, n)
		for i := range n {
			c.Int64Contents[i] = int64(le.Uint64(raw[8*i:]))
		}
	case UINT64:
		c.Uint64Contents = make([]uint64, n)
		for i := range n {
			c.Uint64Contents[i] = le.Uint64(raw[8*i:])
		}
	case FP32:
		c.Fp32Contents = make([]float32, n)
		for i := range n {
			c.Fp32Contents[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case FP64:
		c.Fp64Contents = make([]float64, n)
		for i := range n {
			c.Fp64Contents[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	}
	return c, nil
}

// RawFromContents converts typed contents to raw data, narrowing int and
// uint contents to 8 and 16 bits where the datatype says so and failing on
// values out of the datatype's range or contents in a field that does not
// belong to the datatype.
//
// Nil or empty contents give no data, for any datatype; FP16 and BF16 fail
// as soon as any field holds values. Errors are INVALID_ARG and name the
// field and element.
func RawFromContents(dt DataType, c *pb.InferTensorContents) ([]byte, error) {
	if !dt.Valid() {
		return nil, invalid("unknown datatype '%s'", clipMsg(string(dt)))
	}
	want := contentsField(dt)
	var wrong []string
	for _, f := range []struct {
		name string
		n    int
	}{
		{"bool_contents", len(c.GetBoolContents())},
		{"int_contents", len(c.GetIntContents())},
		{"int64_contents", len(c.GetInt64Contents())},
		{"uint_contents", len(c.GetUintContents())},
		{"uint64_contents", len(c.GetUint64Contents())},
		{"fp32_contents", len(c.GetFp32Contents())},
		{"fp64_contents", len(c.GetFp64Contents())},
		{"bytes_contents", len(c.GetBytesContents())},
	} {
		if f.n > 0 && f.name != want {
			wrong = append(wrong, f.name)
		}
	}
	if len(wrong) > 0 {
		if want == "" {
			return nil, invalid("%s data cannot be sent in typed contents (found %s); use raw contents", dt, strings.Join(wrong, ", "))
		}
		return nil, invalid("%s data must be in %s, found %s", dt, want, strings.Join(wrong, ", "))
	}
	if c == nil {
		return nil, nil
	}
	le := binary.LittleEndian
	switch dt {
	case BOOL:
		out := make([]byte, len(c.BoolContents))
		for i, v := range c.BoolContents {
			if v {
				out[i] = 1
			}
		}
		return out, nil
	case INT8, INT16, INT32:
		size := dt.Size()
		lo, hi := int32(math.MinInt32), int32(math.MaxInt32)
		switch dt {
		case INT8:
			lo, hi = math.MinInt8, math.MaxInt8
		case INT16:
			lo, hi = math.MinInt16, math.MaxInt16
		}
		out := make([]byte, len(c.IntContents)*size)
		for i, v := range c.IntContents {
			if v < lo || v > hi {
				return nil, invalid("int_contents element %d: value %d is out of range for %s", i, v, dt)
			}
			switch size {
			case 1:
				out[i] = uint8(v)
			case 2:
				le.PutUint16(out[2*i:], uint16(v))
			default:
				le.PutUint32(out[4*i:], uint32(v))
			}
		}
		return out, nil
	case UINT8, UINT16, UINT32:
		size := dt.Size()
		hi := uint32(math.MaxUint32)
		switch dt {
		case UINT8:
			hi = math.MaxUint8
		case UINT16:
			hi = math.MaxUint16
		}
		out := make([]byte, len(c.UintContents)*size)
		for i, v := range c.UintContents {
			if v > hi {
				return nil, invalid("uint_contents element %d: value %d is out of range for %s", i, v, dt)
			}
			switch size {
			case 1:
				out[i] = uint8(v)
			case 2:
				le.PutUint16(out[2*i:], uint16(v))
			default:
				le.PutUint32(out[4*i:], v)
			}
		}
		return out, nil
	case INT64:
		out := make([]byte, 0, 8*len(c.Int64Contents))
		for _, v := range c.Int64Contents {
			out = le.AppendUint64(out, uint64(v))
		}
		return out, nil
	case UINT64:
		out := make([]byte, 0, 8*len(c.Uint64Contents))
		for _, v := range c.Uint64Contents {
			out = le.AppendUint64(out, v)
		}
		return out, nil
	case FP32:
		out := make([]byte, 0, 4*len(c.Fp32Contents))
		for _, v := range c.Fp32Contents {
			out = le.AppendUint32(out, math.Float32bits(v))
		}
		return out, nil
	case FP64:
		out := make([]byte, 0, 8*len(c.Fp64Contents))
		for _, v := range c.Fp64Contents {
			out = le.AppendUint64(out, math.Float64bits(v))
		}
		return out, nil
	case BYTES:
		size := 0
		for i, e := range c.BytesContents {
			if uint64(len(e)) > math.MaxUint32 {
				return nil, invalid("bytes_contents element %d is longer than 4 GiB", i)
			}
			size += 4 + len(e)
		}
		out := make([]byte, 0, size)
		for _, e := range c.BytesContents {
			out = AppendBytesElement(out, e)
		}
		return out, nil
	}
	return nil, nil // FP16, BF16 with empty contents
}

// ParametersToProto converts parameters to InferParameter values (bool,
// int64, uint64, float64 and string; Go's other integer and float types are
// widened to those, and any other type is rendered with fmt.Sprint as a
// string).
//
// Empty parameters give nil.
func ParametersToProto(p Parameters) map[string]*pb.InferParameter {
	if len(p) == 0 {
		return nil
	}
	m := make(map[string]*pb.InferParameter, len(p))
	for k, v := range p {
		var choice *pb.InferParameter
		switch v := normalizeParam(v).(type) {
		case bool:
			choice = &pb.InferParameter{ParameterChoice: &pb.InferParameter_BoolParam{BoolParam: v}}
		case int64:
			choice = &pb.InferParameter{ParameterChoice: &pb.InferParameter_Int64Param{Int64Param: v}}
		case uint64:
			choice = &pb.InferParameter{ParameterChoice: &pb.InferParameter_Uint64Param{Uint64Param: v}}
		case float64:
			choice = &pb.InferParameter{ParameterChoice: &pb.InferParameter_DoubleParam{DoubleParam: v}}
		case string:
			choice = &pb.InferParameter{ParameterChoice: &pb.InferParameter_StringParam{StringParam: v}}
		default:
			choice = &pb.InferParameter{ParameterChoice: &pb.InferParameter_StringParam{StringParam: fmt.Sprint(v)}}
		}
		m[k] = choice
	}
	return m
}

// ParametersFromProto converts InferParameter values to parameters.
//
// Entries whose value is nil or has no choice set are dropped; an empty
// result is nil.
func ParametersFromProto(m map[string]*pb.InferParameter) Parameters {
	if len(m) == 0 {
		return nil
	}
	p := make(Parameters, len(m))
	for k, v := range m {
		switch c := v.GetParameterChoice().(type) {
		case *pb.InferParameter_BoolParam:
			p[k] = c.BoolParam
		case *pb.InferParameter_Int64Param:
			p[k] = c.Int64Param
		case *pb.InferParameter_Uint64Param:
			p[k] = c.Uint64Param
		case *pb.InferParameter_DoubleParam:
			p[k] = c.DoubleParam
		case *pb.InferParameter_StringParam:
			p[k] = c.StringParam
		}
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

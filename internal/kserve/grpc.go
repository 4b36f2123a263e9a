package kserve

import "github.com/inferbench/inferbench/internal/kserve/pb"

// RequestToProto builds a ModelInferRequest as Triton's clients send it:
// every input's data in raw_input_contents, in input order, without copying
// the data.
func RequestToProto(model, version string, req *InferRequest) *pb.ModelInferRequest {
	panic("not implemented")
}

// RequestFromProto reads a ModelInferRequest as a server receives it. Inputs
// come either all raw (raw_input_contents[i] belongs to inputs[i]) or all
// typed (contents); a mix is INVALID_ARG ("contents field must not be
// specified when using raw_input_contents"), as in Triton, and so are a count
// of raw contents that differs from the count of inputs, typed contents
// whose field does not fit the datatype, FP16/BF16 sent typed, and data
// whose size does not fit the shape.
func RequestFromProto(p *pb.ModelInferRequest) (*InferRequest, error) {
	panic("not implemented")
}

// ResponseToProto builds a ModelInferResponse as Triton sends it: one
// raw_output_contents entry per output, typed contents never filled.
func ResponseToProto(resp *InferResponse) *pb.ModelInferResponse {
	panic("not implemented")
}

// ResponseFromProto reads a ModelInferResponse, raw (Triton) or typed
// (KServe Python, OpenVINO), checking every output against its shape.
func ResponseFromProto(p *pb.ModelInferResponse) (*InferResponse, error) {
	panic("not implemented")
}

// ContentsFromRaw converts raw data to typed InferTensorContents (BOOL to
// bool_contents, INT8/16/32 to int_contents, UINT8/16/32 to uint_contents,
// and so on; BYTES elements without their length prefix). FP16 and BF16 have
// no typed field and fail.
func ContentsFromRaw(dt DataType, raw []byte) (*pb.InferTensorContents, error) {
	panic("not implemented")
}

// RawFromContents converts typed contents to raw data, narrowing int and
// uint contents to 8 and 16 bits where the datatype says so and failing on
// values out of the datatype's range or contents in a field that does not
// belong to the datatype.
func RawFromContents(dt DataType, c *pb.InferTensorContents) ([]byte, error) {
	panic("not implemented")
}

// ParametersToProto converts parameters to InferParameter values (bool,
// int64, uint64, float64 and string; other Go types are rendered with
// fmt.Sprint as strings).
func ParametersToProto(p Parameters) map[string]*pb.InferParameter {
	panic("not implemented")
}

// ParametersFromProto converts InferParameter values to parameters.
func ParametersFromProto(m map[string]*pb.InferParameter) Parameters {
	panic("not implemented")
}

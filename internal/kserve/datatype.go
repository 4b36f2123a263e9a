package kserve

import (
	"fmt"

	"github.com/inferbench/inferbench/internal/kserve/pb"
)

// DataType is a tensor element type, spelled as on the wire ("FP32").
type DataType string

// The datatypes of the protocol, as in Triton's TRITONSERVER_DataTypeString.
const (
	BOOL   DataType = "BOOL"
	UINT8  DataType = "UINT8"
	UINT16 DataType = "UINT16"
	UINT32 DataType = "UINT32"
	UINT64 DataType = "UINT64"
	INT8   DataType = "INT8"
	INT16  DataType = "INT16"
	INT32  DataType = "INT32"
	INT64  DataType = "INT64"
	FP16   DataType = "FP16"
	BF16   DataType = "BF16"
	FP32   DataType = "FP32"
	FP64   DataType = "FP64"
	BYTES  DataType = "BYTES"
)

// DataTypes lists every datatype, in Triton's config enum order.
var DataTypes = []DataType{BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES, BF16}

var dataTypeInfo = map[DataType]struct {
	size   int
	config pb.DataType
}{
	BOOL: {1, pb.DataType_TYPE_BOOL}, UINT8: {1, pb.DataType_TYPE_UINT8},
	UINT16: {2, pb.DataType_TYPE_UINT16}, UINT32: {4, pb.DataType_TYPE_UINT32},
	UINT64: {8, pb.DataType_TYPE_UINT64}, INT8: {1, pb.DataType_TYPE_INT8},
	INT16: {2, pb.DataType_TYPE_INT16}, INT32: {4, pb.DataType_TYPE_INT32},
	INT64: {8, pb.DataType_TYPE_INT64}, FP16: {2, pb.DataType_TYPE_FP16},
	BF16: {2, pb.DataType_TYPE_BF16}, FP32: {4, pb.DataType_TYPE_FP32},
	FP64: {8, pb.DataType_TYPE_FP64}, BYTES: {0, pb.DataType_TYPE_STRING},
}

// ParseDataType checks a wire datatype string.
func ParseDataType(s string) (DataType, error) {
	d := DataType(s)
	if _, ok := dataTypeInfo[d]; !ok {
		return "", fmt.Errorf("unknown datatype %q (want one of BOOL, UINT8..UINT64, INT8..INT64, FP16, BF16, FP32, FP64, BYTES)", s)
	}
	return d, nil
}

// Valid reports whether d is one of the protocol's datatypes.
func (d DataType) Valid() bool { _, ok := dataTypeInfo[d]; return ok }

// Size is the number of bytes of one element; 0 for BYTES, whose elements vary.
func (d DataType) Size() int { return dataTypeInfo[d].size }

// ConfigType is the datatype as Triton's model configuration names it (TYPE_FP32).
func (d DataType) ConfigType() pb.DataType { return dataTypeInfo[d].config }

// JSONAllowed reports whether the datatype may travel as JSON data; Triton
// refuses FP16 and BF16 in JSON and demands the binary extension.
func (d DataType) JSONAllowed() bool { return d != FP16 && d != BF16 }

// DataTypeFromConfig maps Triton's configuration enum (TYPE_STRING) to the
// wire datatype (BYTES).
func DataTypeFromConfig(t pb.DataType) (DataType, error) {
	for d, info := range dataTypeInfo {
		if info.config == t {
			return d, nil
		}
	}
	return "", fmt.Errorf("unsupported config datatype %v", t)
}

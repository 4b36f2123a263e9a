// Package kserve is the Open Inference Protocol (KServe v2) as Triton speaks
// it: datatypes, tensors, the HTTP JSON codec, Triton's binary tensor
// extension, and conversions to and from the gRPC messages in package pb.
//
// It is shared by the protocol clients and the reference server and knows
// nothing of the network. A tensor's data is always held in its raw form:
// little-endian, row-major, no padding; BYTES elements each carry a 4-byte
// little-endian length prefix. That is the form of Triton's binary extension
// and of gRPC raw_input_contents, so neither needs a conversion.
package kserve

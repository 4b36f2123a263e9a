package pb

// Regenerate from proto/ with protoc 3.21.12 (Debian 12's protobuf-compiler),
// protoc-gen-go v1.36.12 and protoc-gen-go-grpc v1.6.0 on the PATH.
//go:generate sh -c "protoc -I ../../../proto --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative --go_opt=Mgrpc_service.proto=github.com/inferbench/inferbench/internal/kserve/pb --go_opt=Mmodel_config.proto=github.com/inferbench/inferbench/internal/kserve/pb --go-grpc_opt=Mgrpc_service.proto=github.com/inferbench/inferbench/internal/kserve/pb --go-grpc_opt=Mmodel_config.proto=github.com/inferbench/inferbench/internal/kserve/pb grpc_service.proto model_config.proto"

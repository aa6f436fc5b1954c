#include "service/status_util.h"

#include <string>

namespace optout::service {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  constexpr size_t kMaxMessage = 512;
  std::string message(status.message().substr(0, kMaxMessage));
  // absl and gRPC share the canonical code numbering (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::move(message));
}

}  // namespace optout::service

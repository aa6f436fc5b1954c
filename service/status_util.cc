#include "service/status_util.h"

#include <string>

#include "google/rpc/status.pb.h"
#include "service/over_budget.h"

namespace optout::service {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  constexpr size_t kMaxMessage = 512;
  std::string message(status.message().substr(0, kMaxMessage));
  // absl and gRPC share the canonical code numbering (both follow google.rpc.Code).
  const auto code = static_cast<grpc::StatusCode>(status.code());
  // A retry delay travels as the standard google.rpc.RetryInfo detail, in
  // the binary details (grpc-status-details-bin) any gRPC client can read.
  if (auto retry = status.GetPayload(kRetryInfoTypeUrl)) {
    google::rpc::Status details;
    details.set_code(static_cast<int>(code));
    details.set_message(message);
    auto* any = details.add_details();
    any->set_type_url(kRetryInfoTypeUrl);
    any->set_value(std::string(*retry));
    return grpc::Status(code, std::move(message), details.SerializeAsString());
  }
  return grpc::Status(code, std::move(message));
}

}  // namespace optout::service

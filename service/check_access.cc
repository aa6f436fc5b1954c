#include "service/check_access.h"

#include "absl/strings/str_cat.h"

namespace optout::service {

absl::StatusOr<std::shared_ptr<ApiKeys::Key>> CheckAccess::Admit(absl::string_view bearer,
                                                                 absl::string_view grpc_peer,
                                                                 const CheckCost& cost) {
  if (bearer.empty()) {
    if (anonymous_per_minute_ <= 0) {
      return absl::UnauthenticatedError(
          "anonymous checks are off on this registry (--anonymous_items_per_minute 0); "
          "send an API key (authorization: Bearer KEY)");
    }
    if (cost.items > 0) {
      absl::Status status = anonymous_.Admit(grpc_peer, clock_(), cost.items);
      if (!status.ok()) return status;
    }
    return std::shared_ptr<ApiKeys::Key>();
  }
  std::shared_ptr<ApiKeys::Key> key = keys_->Find(bearer);
  if (key == nullptr) return absl::UnauthenticatedError("unknown or revoked API key");
  absl::Status status = ApiKeys::Charge(*key, cost, clock_());
  if (!status.ok()) return status;
  return key;
}

}  // namespace optout::service

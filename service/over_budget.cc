#include "service/over_budget.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace optout::service {

absl::Status OverBudgetError(absl::string_view message, absl::Duration retry_after) {
  const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(retry_after, absl::Seconds(1)));
  absl::Status status =
      absl::ResourceExhaustedError(absl::StrCat(message, "; retry in ", seconds, " s"));
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(seconds);
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

}  // namespace optout::service

// File: service/over_budget.h
//
// The one shape of "over a budget, come back later": RESOURCE_EXHAUSTED
// whose message ends "retry in N s" and which carries a google.rpc.RetryInfo
// payload (under kRetryInfoTypeUrl); ToGrpcStatus sends that payload as the
// standard error detail, so any gRPC client can read the delay.
#ifndef OPTOUT_SERVICE_OVER_BUDGET_H_
#define OPTOUT_SERVICE_OVER_BUDGET_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace optout::service {

inline constexpr char kRetryInfoTypeUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

// `retry_after` is rounded up to whole seconds.
absl::Status OverBudgetError(absl::string_view message, absl::Duration retry_after);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_OVER_BUDGET_H_

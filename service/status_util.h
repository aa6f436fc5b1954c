// File: service/status_util.h
//
// The one mapping from absl::Status to grpc::Status. Messages are capped and
// carry only what validation wrote (field paths, kinds, counts): never a
// URL, hash or token. A status with a RetryInfo payload (OverBudgetError)
// carries it as a google.rpc.Status in the binary error details.
#ifndef OPTOUT_SERVICE_STATUS_UTIL_H_
#define OPTOUT_SERVICE_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace optout::service {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_STATUS_UTIL_H_

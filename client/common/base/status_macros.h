// File: client/common/base/status_macros.h
//
// Our Abseil (LTS 20220623) predates ABSL_RETURN_IF_ERROR; these two macros
// are the local stand-ins.
#ifndef OPTOUT_CLIENT_COMMON_BASE_STATUS_MACROS_H_
#define OPTOUT_CLIENT_COMMON_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define OPTOUT_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    const ::absl::Status optout_status_ = (expr);    \
    if (!optout_status_.ok()) return optout_status_; \
  } while (0)

#define OPTOUT_STATUS_CONCAT_INNER(a, b) a##b
#define OPTOUT_STATUS_CONCAT(a, b) OPTOUT_STATUS_CONCAT_INNER(a, b)
#define OPTOUT_ASSIGN_OR_RETURN(lhs, expr) \
  OPTOUT_ASSIGN_OR_RETURN_IMPL(OPTOUT_STATUS_CONCAT(optout_statusor_, __LINE__), lhs, expr)
#define OPTOUT_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return statusor.status();           \
  lhs = std::move(statusor).value()

#endif  // OPTOUT_CLIENT_COMMON_BASE_STATUS_MACROS_H_

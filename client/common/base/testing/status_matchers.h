// File: client/common/base/testing/status_matchers.h
//
// Small gMock matchers for absl::Status / StatusOr (our Abseil predates
// StatusIs). Header-only; for tests: every test target links optout_base_testing.

#ifndef OPTOUT_CLIENT_COMMON_BASE_TESTING_STATUS_MATCHERS_H_
#define OPTOUT_CLIENT_COMMON_BASE_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace optout::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Status (or StatusOr) has `code` and a message matching `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           std::string("status code ") + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

}  // namespace optout::testing

#endif  // OPTOUT_CLIENT_COMMON_BASE_TESTING_STATUS_MATCHERS_H_

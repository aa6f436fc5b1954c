// File: service/check_access.h
//
// CheckAccess decides whether a check may run and charges its cost
// (issue 10): a call with an API key is charged to that key (ApiKeys); an
// anonymous call to its peer's budget of `anonymous_items_per_minute` items
// (0: anonymous checks are refused). The gRPC layer extracts the bearer key
// and the peer; everything else is here, with an injectable clock.
//
// Thread-safe.
#ifndef OPTOUT_SERVICE_CHECK_ACCESS_H_
#define OPTOUT_SERVICE_CHECK_ACCESS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/api_keys.h"
#include "service/peer_rate_limiter.h"

namespace optout::service {

class CheckAccess final {
 public:
  using Clock = std::function<absl::Time()>;
  // `keys` must outlive this object.
  CheckAccess(ApiKeys* keys, int anonymous_items_per_minute, Clock clock = absl::Now)
      : keys_(keys),
        anonymous_per_minute_(anonymous_items_per_minute),
        anonymous_(anonymous_items_per_minute, "items checked", "--anonymous_items_per_minute"),
        clock_(std::move(clock)) {}

  // `bearer`: the API key sent, empty when none; `grpc_peer`: the caller as
  // gRPC names it (anonymous budgets are per PeerKey: IPv4 address or IPv6 /64). Returns the key to
  // Record matches against (nullptr for anonymous calls), or
  // UNAUTHENTICATED (unknown or revoked key; anonymous checks off),
  // PERMISSION_DENIED (method class not allowed for the key),
  // RESOURCE_EXHAUSTED with a RetryInfo payload (over budget).
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> Admit(absl::string_view bearer,
                                                      absl::string_view grpc_peer,
                                                      const CheckCost& cost);
  // Counts the matches of an admitted check; nothing for anonymous calls.
  static void Record(ApiKeys::Key* key, const v1::CheckResponse& response) {
    if (key != nullptr) ApiKeys::Record(*key, response);
  }

 private:
  ApiKeys* const keys_;
  const int anonymous_per_minute_;
  PeerRateLimiter anonymous_;
  const Clock clock_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_ACCESS_H_

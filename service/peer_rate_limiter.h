// File: service/peer_rate_limiter.h
//
// PeerRateLimiter: one token bucket per peer for Register (issue 9, finding
// 6). A peer is a client address as gRPC reports it: an IPv4 address, or the
// /64 prefix of an IPv6 address (one subscriber usually holds a whole /64,
// so counting single IPv6 addresses would not limit anyone). Each peer may
// register `per_minute` opt-outs at once (the bucket is full), then
// `per_minute` per minute.
//
// Memory stays bounded: past kMaxPeers tracked peers, peers whose bucket has
// refilled are forgotten (they are indistinguishable from new ones).
//
// gRPC-free (peer strings are parsed here); thread-safe.
#ifndef OPTOUT_SERVICE_PEER_RATE_LIMITER_H_
#define OPTOUT_SERVICE_PEER_RATE_LIMITER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/token_bucket.h"

namespace optout::service {

// The rate-limited identity of a gRPC peer string: "ipv4:1.2.3.4:5" ->
// "1.2.3.4", "ipv6:[2001:db8:1:2:3:4:5:6]:7" -> "2001:db8:1:2::/64"; anything
// else (unix sockets) is returned whole.
std::string PeerKey(absl::string_view grpc_peer);

class PeerRateLimiter final {
 public:
  static constexpr size_t kMaxPeers = 100000;

  // `per_minute` <= 0: unlimited. `what` and `flag` name the limit in
  // errors ("registrations", "--register_rate_per_peer").
  explicit PeerRateLimiter(int per_minute, std::string what = "registrations",
                           std::string flag = "--register_rate_per_peer")
      : per_minute_(per_minute), what_(std::move(what)), flag_(std::move(flag)) {}

  // Takes `n` tokens from the bucket of `grpc_peer`'s key, or none:
  // RESOURCE_EXHAUSTED naming the limit, with a RetryInfo delay
  // (OverBudgetError) when waiting helps.
  absl::Status Admit(absl::string_view grpc_peer, absl::Time now, int64_t n = 1);
  // Calls refused so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const int per_minute_;
  const std::string what_;
  const std::string flag_;
  std::atomic<uint64_t> refused_{0};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, TokenBucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_PEER_RATE_LIMITER_H_

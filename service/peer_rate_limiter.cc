#include "service/peer_rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "service/over_budget.h"

namespace optout::service {

std::string PeerKey(absl::string_view grpc_peer) {
  if (absl::ConsumePrefix(&grpc_peer, "ipv4:")) {
    const size_t colon = grpc_peer.rfind(':');
    return std::string(grpc_peer.substr(0, colon));
  }
  if (absl::ConsumePrefix(&grpc_peer, "ipv6:")) {
    // "[addr]:port", addr possibly with a %zone.
    absl::string_view address = grpc_peer;
    if (absl::ConsumePrefix(&address, "[")) address = address.substr(0, address.find(']'));
    address = address.substr(0, address.find('%'));
    in6_addr parsed{};
    if (inet_pton(AF_INET6, std::string(address).c_str(), &parsed) == 1) {
      // An IPv4-mapped address is that IPv4 address.
      if (IN6_IS_ADDR_V4MAPPED(&parsed)) {
        char v4[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &parsed.s6_addr[12], v4, sizeof(v4));
        return v4;
      }
      std::memset(&parsed.s6_addr[8], 0, 8);
      char text[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, &parsed, text, sizeof(text));
      return absl::StrCat(text, "/64");
    }
  }
  return std::string(grpc_peer);
}

absl::Status PeerRateLimiter::Admit(absl::string_view grpc_peer, absl::Time now, int64_t n) {
  if (per_minute_ <= 0) return absl::OkStatus();
  const std::string key = PeerKey(grpc_peer);
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxPeers) {
      absl::erase_if(buckets_, [&](auto& entry) { return entry.second.Full(now); });
    }
    it = buckets_.try_emplace(key, TokenBucket(per_minute_, absl::Minutes(1), now)).first;
  }
  const absl::Duration wait = it->second.WaitFor(n, now);
  if (wait == absl::ZeroDuration()) {
    it->second.Take(n);
    return absl::OkStatus();
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (wait == absl::InfiniteDuration()) {
    return absl::ResourceExhaustedError(absl::StrCat(n, " ", what_, " at once from one address exceed its limit of ",
                                                     per_minute_, " per minute (", flag_, ")"));
  }
  return OverBudgetError(absl::StrCat("too many ", what_, " from this address: at most ", per_minute_,
                                      " per minute (", flag_, ")"),
                         wait);
}

}  // namespace optout::service

#include "service/peer_rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"

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

double PeerRateLimiter::Refilled(const Bucket& bucket, absl::Time now) const {
  const double minutes = std::max(0.0, absl::ToDoubleMinutes(now - bucket.updated));
  return std::min<double>(per_minute_, bucket.tokens + minutes * per_minute_);
}

absl::Status PeerRateLimiter::Admit(absl::string_view grpc_peer, absl::Time now) {
  if (per_minute_ <= 0) return absl::OkStatus();
  const std::string key = PeerKey(grpc_peer);
  absl::MutexLock lock(&mu_);
  if (buckets_.size() >= kMaxPeers && !buckets_.contains(key)) {
    absl::erase_if(buckets_, [&](const auto& entry) {
      return Refilled(entry.second, now) >= per_minute_;
    });
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(per_minute_), now});
  Bucket& bucket = it->second;
  bucket.tokens = Refilled(bucket, now);
  bucket.updated = now;
  if (bucket.tokens < 1) {
    const double wait_seconds = std::ceil((1 - bucket.tokens) * 60.0 / per_minute_);
    return absl::ResourceExhaustedError(
        absl::StrCat("too many registrations from this address: at most ", per_minute_,
                     " per minute (--register_rate_per_peer); retry in ", wait_seconds, " s"));
  }
  bucket.tokens -= 1;
  return absl::OkStatus();
}

}  // namespace optout::service

// File: service/check_counters.h
//
// CheckCounters counts what the registry has checked since start: items by
// kind (as sent: a typed URL, URL digests, a PDQ hash, a SHA-256 or MD5,
// typed or packed) and matched items by match kind. Registry::Check adds
// each answered request once, with a few relaxed atomic additions after
// counting the request locally, so counting costs no lock and nothing per
// item beyond a loop over the typed items. optoutd exports them as metrics.
//
// Thread-safety: all methods may be called concurrently.
#ifndef OPTOUT_SERVICE_CHECK_COUNTERS_H_
#define OPTOUT_SERVICE_CHECK_COUNTERS_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "client/common/protocol/match_kind.h"
#include "optout/v1/optout.pb.h"

namespace optout::service {

// Kinds of checked items, by what the client sent.
enum class CheckedItemKind { kUrl, kUrlDigests, kPdq, kSha256, kMd5 };
inline constexpr int kCheckedItemKindCount = 5;
// "url", "url_digests", "pdq", "sha256", "md5".
const char* CheckedItemKindName(CheckedItemKind kind);

class CheckCounters final {
 public:
  CheckCounters() = default;
  CheckCounters(const CheckCounters&) = delete;
  CheckCounters& operator=(const CheckCounters&) = delete;

  // Counts one answered request (`response` as Check filled it).
  void Count(const v1::CheckRequest& request, const v1::CheckResponse& response);

  uint64_t items(CheckedItemKind kind) const {
    return items_[static_cast<int>(kind)].load(std::memory_order_relaxed);
  }
  // Items whose result matched, by the kind reported (never MATCH_KIND_NONE).
  uint64_t matches(v1::MatchKind kind) const {
    return kind > 0 && kind < protocol::kMatchKindCount
               ? matches_[kind].load(std::memory_order_relaxed)
               : 0;
  }

 private:
  std::array<std::atomic<uint64_t>, kCheckedItemKindCount> items_{};
  std::array<std::atomic<uint64_t>, protocol::kMatchKindCount> matches_{};
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_CHECK_COUNTERS_H_

#include "service/pdq_probe_detector.h"

#include <algorithm>

namespace optout::service {
namespace {

// Appends to `near` the index of every code of `codes` that differs from
// `query` in 1..`distance` bits; returns how many. The one loop that runs per
// checked hash: compiled twice on x86-64 so that CPUs with POPCNT use it
// (picked once at load time), without raising the baseline of the binary.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("popcnt", "default")))
#endif
size_t FindNear(const storage::Code256* codes, size_t n, const storage::Code256& query,
                int distance, uint16_t* near) {
  size_t found = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = __builtin_popcountll(codes[i][0] ^ query[0]) +
                  __builtin_popcountll(codes[i][1] ^ query[1]) +
                  __builtin_popcountll(codes[i][2] ^ query[2]) +
                  __builtin_popcountll(codes[i][3] ^ query[3]);
    if (d != 0 && d <= distance) near[found++] = static_cast<uint16_t>(i);
  }
  return found;
}

}  // namespace

PdqProbeDetector::PdqProbeDetector(const PdqProbeOptions& options, uint64_t seed)
    : distance_(options.distance),
      leak_per_ms_(options.window > absl::ZeroDuration()
                       ? options.limit / absl::ToDoubleMilliseconds(options.window)
                       : 0.0),
      random_state_(seed | 1) {}

double PdqProbeDetector::SizeAt(const Entry& entry, int64_t now_ms) const {
  const double leaked = leak_per_ms_ * static_cast<double>(std::max<int64_t>(0, now_ms - entry.unix_ms));
  return std::max(0.0, entry.size - leaked);
}

uint64_t PdqProbeDetector::NextRandom() {
  // xorshift64: unpredictable enough for the caller, who never sees it.
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return random_state_;
}

void PdqProbeDetector::Insert(const storage::Code256& code, double size, int64_t now_ms) {
  const Entry entry{static_cast<float>(size), now_ms};
  if (codes_.size() < kRecent) {
    codes_.push_back(code);
    entries_.push_back(entry);
    return;
  }
  codes_[next_] = code;
  entries_[next_] = entry;
  next_ = (next_ + 1) % kRecent;
}

double PdqProbeDetector::Observe(absl::Span<const storage::Code256> hashes, absl::Time now) {
  if (hashes.empty()) return 0;
  const int64_t now_ms = absl::ToUnixMillis(now);
  // The item's hashes are all compared before any of them enters the ring:
  // the regions of one image may be close to its plain hash (the trimmed
  // copy of an image without borders is the image), and count once.
  double joined = 0;  // the largest near group, 0 when none
  size_t near_hash = 0;
  uint16_t near[kRecent];
  for (size_t j = 0; j < hashes.size(); ++j) {
    const size_t found = FindNear(codes_.data(), codes_.size(), hashes[j], distance_, near);
    for (size_t k = 0; k < found; ++k) {
      const double size = SizeAt(entries_[near[k]], now_ms);
      if (size > joined) {
        joined = size;
        near_hash = j;
      }
    }
  }
  const double size = joined + 1;
  Insert(hashes[0], size, now_ms);
  if (near_hash != 0) Insert(hashes[near_hash], size, now_ms);
  if (hashes.size() > 1) {
    const size_t other = 1 + NextRandom() % (hashes.size() - 1);
    if (other != near_hash) Insert(hashes[other], size, now_ms);
  }
  return size;
}

}  // namespace optout::service

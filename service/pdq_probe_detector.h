// File: service/pdq_probe_detector.h
//
// PdqProbeDetector notices PDQ probing in one caller's checks (issue 10).
// A PDQ check answers whether a hash lies within --pdq_threshold (31) bits
// of a stored one, so it is a threshold oracle: from a hash near a stored
// one, flipping bits one at a time and reading the answers recovers the
// stored hash exactly in ~270 queries. Every informative query of such a
// walk lies within about the threshold of the stored hash, so its queries
// lie close to one another (at most ~2 × threshold + 2 bits apart), while
// hashes of unrelated images lie ~128 bits apart (sd 8) and near duplicates
// in a crawl come in small groups (the copies of one picture).
//
// The detector keeps the caller's recent queries (a ring of kRecent hashes)
// and, with each, the size of the group of near queries it joined. A query
// within `distance` bits of recent ones joins the largest of their groups
// (size + 1); one near none starts its own (size 1). Group sizes leak at
// `limit` per `window`, so a group that grows faster than that passes
// `limit`: that is probing. A repeat (distance 0) tells the caller nothing
// new and is not counted.
//
// An item may carry several hashes (its dihedral variants, its regions):
// each is compared with the ring, the item counts once (its largest group),
// and only a few of them enter the ring - its plain hash, the hash that was
// near, and one other chosen at random - so 63 regions do not flush the
// ring, and a probe hidden among decoy regions still enters it now and
// then, after which every later probe near it is counted.
//
// Cost: kRecent popcount distances per hash, ~0.2 µs, against ~40 µs for
// searching one hash among 1M stored ones. Memory: ~6 KB per caller.
//
// gRPC-free; not thread-safe (PdqProbeGuard locks each caller's detector).
#ifndef OPTOUT_SERVICE_PDQ_PROBE_DETECTOR_H_
#define OPTOUT_SERVICE_PDQ_PROBE_DETECTOR_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/code256.h"

namespace optout::service {

struct PdqProbeOptions {
  // Queries within this many bits of one another count as one group.
  // Default: 64 (2 × the default --pdq_threshold + 2).
  int distance = 64;
  // A group may grow by this many queries per `window`; past it the caller
  // is probing. 0: no detection. Default: 64 (an exact recovery from 31
  // bits away needs at least ~140 informative queries).
  int limit = 64;
  absl::Duration window = absl::Hours(24);
  // How long a caller found probing may not check PDQ hashes. Default: 1 h.
  absl::Duration throttle = absl::Hours(1);
};

class PdqProbeDetector final {
 public:
  static constexpr int kRecent = 128;

  // `seed` picks which extra hashes of an item enter the ring.
  PdqProbeDetector(const PdqProbeOptions& options, uint64_t seed);

  // Counts one checked item at `now`: `hashes` are its plain hash first,
  // then any variants or regions (at least one). Returns the size of the
  // group it joined (1 when it is near no recent query); above
  // options.limit means probing.
  double Observe(absl::Span<const storage::Code256> hashes, absl::Time now);

 private:
  struct Entry {
    float size;
    int64_t unix_ms;
  };
  // The size of `entry`'s group at `now_ms`, after leaking.
  double SizeAt(const Entry& entry, int64_t now_ms) const;
  void Insert(const storage::Code256& code, double size, int64_t now_ms);
  uint64_t NextRandom();

  const int distance_;
  const double leak_per_ms_;
  // The ring, filled up to kRecent then overwritten oldest first; codes
  // apart from their entries so that the scan reads 32 bytes per entry.
  std::vector<storage::Code256> codes_;
  std::vector<Entry> entries_;
  size_t next_ = 0;
  uint64_t random_state_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_PDQ_PROBE_DETECTOR_H_

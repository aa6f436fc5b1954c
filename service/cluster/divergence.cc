#include "service/cluster/divergence.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace optout::service::cluster {

LeaderVerdict CompareWithLeader(const Progress& from, const Progress& to,
                                const LeaderMessage& leader, uint64_t max_messages) {
  if (to.sequence <= from.sequence || to.sequence - from.sequence > max_messages) {
    return LeaderVerdict::kUnknown;
  }
  Progress chained = from;
  for (uint64_t seq = from.sequence + 1; seq <= to.sequence; ++seq) {
    absl::StatusOr<std::string> bytes = leader(seq);
    if (!bytes.ok()) return LeaderVerdict::kUnknown;
    chained = chained.Next(seq, *bytes);
  }
  return chained.digest == to.digest ? LeaderVerdict::kSame : LeaderVerdict::kDiffers;
}

absl::StatusOr<std::vector<std::string>> MissingFromLeader(
    const std::map<uint64_t, std::vector<std::string>>& acked, uint64_t first, uint64_t slack,
    const LeaderIds& leader_ids) {
  // Each leader message is read once, however many windows cover it.
  absl::flat_hash_map<uint64_t, absl::flat_hash_set<std::string>> read;
  auto ids_at = [&](uint64_t seq) -> absl::StatusOr<const absl::flat_hash_set<std::string>*> {
    auto it = read.find(seq);
    if (it == read.end()) {
      absl::StatusOr<std::vector<std::string>> ids = leader_ids(seq);
      if (!ids.ok() && !absl::IsNotFound(ids.status())) return ids.status();
      absl::flat_hash_set<std::string> set;
      if (ids.ok()) set.insert(ids->begin(), ids->end());
      it = read.emplace(seq, std::move(set)).first;
    }
    return &it->second;
  };
  std::vector<std::string> missing;
  for (const auto& [version, ids] : acked) {
    if (version < first) continue;
    for (const std::string& id : ids) {
      bool found = false;
      // Nearest first: the acknowledged sequence, then shifted either way.
      for (uint64_t d = 0; d <= slack && !found; ++d) {
        for (const uint64_t seq : {version - std::min(d, version), version + d}) {
          if (seq == 0 || (d > 0 && seq == version)) continue;
          absl::StatusOr<const absl::flat_hash_set<std::string>*> there = ids_at(seq);
          if (!there.ok()) return there.status();
          if ((*there)->contains(id)) {
            found = true;
            break;
          }
        }
      }
      if (!found) missing.push_back(id);
    }
  }
  return missing;
}

}  // namespace optout::service::cluster

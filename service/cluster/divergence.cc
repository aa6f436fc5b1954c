#include "service/cluster/divergence.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "client/common/digest/digest.h"

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

std::optional<Progress> JudgedRangeStart(
    const std::map<uint64_t, Progress>& mine, uint64_t to,
    const std::map<uint64_t, std::map<std::string, std::string>>& reports,
    const std::string& peer, uint64_t max_messages) {
  auto below = std::make_reverse_iterator(mine.lower_bound(to));
  auto in_reach = [&](auto it) { return it != mine.rend() && to - it->first <= max_messages; };
  auto agreed = [&](bool any_peer) -> std::optional<Progress> {
    for (auto it = below; in_reach(it); ++it) {
      auto reported = reports.find(it->first);
      if (reported == reports.end()) continue;
      const std::string mine_then = digest::ToHex(it->second.digest);
      for (const auto& [node, theirs] : reported->second) {
        if ((any_peer || node == peer) && theirs == mine_then) return it->second;
      }
    }
    return std::nullopt;
  };
  if (std::optional<Progress> start = agreed(/*any_peer=*/false)) return start;
  if (std::optional<Progress> start = agreed(/*any_peer=*/true)) return start;
  std::optional<Progress> oldest;
  for (auto it = below; in_reach(it); ++it) oldest = it->second;
  return oldest;
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

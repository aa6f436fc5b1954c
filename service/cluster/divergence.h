// File: service/cluster/divergence.h
//
// Who is right when nodes' histories differ: the messages the stream's
// leader serves, never a vote of nodes. nats-server 2.9.10 can leave one
// replica without an acknowledged message (README "Cluster mode", the
// defect); nodes whose consumers read that replica agree with each other,
// so counting nodes could make the one node that read a whole replica give
// up its history, and with it an acknowledged write. A node therefore judges
// only its own history, by chaining the leader's messages over a range it
// applied (CompareWithLeader), and before it gives its history up it
// re-publishes what it acknowledged that the leader's stream lacks
// (MissingFromLeader), so no repair drops an acknowledged mutation.
#ifndef OPTOUT_SERVICE_CLUSTER_DIVERGENCE_H_
#define OPTOUT_SERVICE_CLUSTER_DIVERGENCE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/cluster/progress.h"

namespace optout::service::cluster {

enum class LeaderVerdict {
  kSame,     // the leader serves the messages this node applied over the range
  kDiffers,  // at least one differs: this node's history is not the stream's
  kUnknown,  // a message could not be read (leader away, purged), or no range
};

// The bytes of the leader's message at a sequence.
using LeaderMessage = std::function<absl::StatusOr<std::string>(uint64_t sequence)>;

// Chains the leader's messages over (from.sequence, to.sequence] from
// `from`'s digest and compares the result with `to`'s: the same digest
// means the same messages. At most `max_messages` are read (kUnknown
// beyond).
LeaderVerdict CompareWithLeader(const Progress& from, const Progress& to,
                                const LeaderMessage& leader, uint64_t max_messages);

// Where a node whose digest at version `to` differs from `peer`'s starts
// judging itself (CompareWithLeader from there): the range must start where
// its history was still the stream's, since chained from a digest that
// already differs the leader's later messages look the same as its own.
// Of `mine` (this node's digests by version, checkpoints and the last), the
// highest below `to` where `peer` reported the same digest, else where any
// peer did (a peer restarted since reports only its latest versions), else
// the oldest within `max_messages` of `to`; nullopt when none is in reach.
// `reports`: version -> node -> digest hex, as the peers told them.
std::optional<Progress> JudgedRangeStart(
    const std::map<uint64_t, Progress>& mine, uint64_t to,
    const std::map<uint64_t, std::map<std::string, std::string>>& reports,
    const std::string& peer, uint64_t max_messages);

// The mutation ids in the leader's message at a sequence; NotFound when the
// stream holds none there (past its end).
using LeaderIds = std::function<absl::StatusOr<std::vector<std::string>>(uint64_t sequence)>;

// Of `acked` (stream sequence each was acknowledged at -> mutation ids),
// those in none of the leader's messages at that sequence or up to `slack`
// either side (a replica that lost messages serves later ones shifted).
// Sequences below `first` (dropped by retention) are not judged. Errors: the
// leader's, other than NotFound (nothing can be said then).
absl::StatusOr<std::vector<std::string>> MissingFromLeader(
    const std::map<uint64_t, std::vector<std::string>>& acked, uint64_t first, uint64_t slack,
    const LeaderIds& leader_ids);

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_DIVERGENCE_H_

#include "service/cluster/divergence.h"

#include <map>
#include <string>
#include <vector>

#include "client/common/digest/digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service::cluster {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A stream as the leader serves it: message i + 1 is messages[i].
LeaderMessage Serving(const std::vector<std::string>& messages) {
  return [messages](uint64_t seq) -> absl::StatusOr<std::string> {
    if (seq == 0 || seq > messages.size()) return absl::NotFoundError("no message");
    return messages[seq - 1];
  };
}

Progress Applied(const std::vector<std::string>& messages, uint64_t upto) {
  Progress p;
  for (uint64_t seq = 1; seq <= upto; ++seq) p = p.Next(seq, messages[seq - 1]);
  return p;
}

const std::vector<std::string> kStream = {"a", "b", "Y", "X", "c", "d"};
// The replica nats-server 2.9.10 can leave after a leader kill: it kept the
// uncommitted X at Y's sequence and dropped the re-sent X as a duplicate.
const std::vector<std::string> kShortReplica = {"a", "b", "X", "c", "d"};

TEST(CompareWithLeaderTest, SameMessagesOverTheRangeAreSame) {
  EXPECT_EQ(CompareWithLeader(Applied(kStream, 2), Applied(kStream, 5), Serving(kStream), 64),
            LeaderVerdict::kSame);
}

// The node that read the short replica finds out by itself, even when the
// other nodes read it too and agree with it.
TEST(CompareWithLeaderTest, NodeThatReadTheShortReplicaDiffers) {
  EXPECT_EQ(CompareWithLeader(Applied(kShortReplica, 2), Applied(kShortReplica, 5),
                              Serving(kStream), 64),
            LeaderVerdict::kDiffers);
  // The last message alone tells it too: every later sequence is shifted.
  EXPECT_EQ(CompareWithLeader(Applied(kShortReplica, 4), Applied(kShortReplica, 5),
                              Serving(kStream), 64),
            LeaderVerdict::kDiffers);
}

// The node that read a whole replica is not outvoted: the leader agrees with it.
TEST(CompareWithLeaderTest, NodeOutnumberedByShortReplicaReadersIsSame) {
  EXPECT_EQ(CompareWithLeader(Applied(kStream, 2), Applied(kStream, 4), Serving(kStream), 64),
            LeaderVerdict::kSame);
}

TEST(CompareWithLeaderTest, UnreadableMessageOrNoRangeIsUnknown) {
  EXPECT_EQ(CompareWithLeader(Applied(kStream, 2), Applied(kStream, 6),
                              Serving({"a", "b", "Y"}), 64),
            LeaderVerdict::kUnknown);
  EXPECT_EQ(CompareWithLeader(Applied(kStream, 4), Applied(kStream, 4), Serving(kStream), 64),
            LeaderVerdict::kUnknown);
  EXPECT_EQ(CompareWithLeader(Applied(kStream, 1), Applied(kStream, 6), Serving(kStream), 3),
            LeaderVerdict::kUnknown);
}

// The leader's messages as mutation ids (one per message here).
LeaderIds IdsOf(const std::vector<std::string>& messages, int* reads = nullptr) {
  return [messages, reads](uint64_t seq) -> absl::StatusOr<std::vector<std::string>> {
    if (reads != nullptr) ++*reads;
    if (seq == 0 || seq > messages.size()) return absl::NotFoundError("past the end");
    return std::vector<std::string>{messages[seq - 1]};
  };
}

TEST(MissingFromLeaderTest, AcknowledgedMutationsTheLeaderHoldsAreNotMissing) {
  const std::map<uint64_t, std::vector<std::string>> acked = {{3, {"Y"}}, {5, {"c"}}};
  absl::StatusOr<std::vector<std::string>> missing = MissingFromLeader(acked, 1, 8, IdsOf(kStream));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_THAT(*missing, IsEmpty());
}

// A leader serving the short replica lacks Y; what it holds shifted (c
// acknowledged at 5, served at 4) is found.
TEST(MissingFromLeaderTest, WriteTheLeaderLacksIsMissingShiftedOnesAreNot) {
  const std::map<uint64_t, std::vector<std::string>> acked = {{3, {"Y"}}, {5, {"c"}}};
  absl::StatusOr<std::vector<std::string>> missing =
      MissingFromLeader(acked, 1, 8, IdsOf(kShortReplica));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_THAT(*missing, ElementsAre("Y"));
}

// A stream whose tail was lost behind the node (power loss of a quorum
// within JetStream's 2-minute sync window, or a stream made anew).
TEST(MissingFromLeaderTest, AcknowledgedPastTheStreamsEndIsMissing) {
  const std::map<uint64_t, std::vector<std::string>> acked = {{2, {"b"}}, {7, {"e", "f"}}};
  absl::StatusOr<std::vector<std::string>> missing = MissingFromLeader(acked, 1, 4, IdsOf(kStream));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_THAT(*missing, ElementsAre("e", "f"));
}

TEST(MissingFromLeaderTest, BelowTheStreamsFirstSequenceIsNotJudgedAndReadsAreShared) {
  int reads = 0;
  const std::map<uint64_t, std::vector<std::string>> acked = {{1, {"gone"}}, {3, {"Y"}},
                                                              {4, {"X"}}};
  absl::StatusOr<std::vector<std::string>> missing =
      MissingFromLeader(acked, 2, 64, IdsOf(kStream, &reads));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_THAT(*missing, IsEmpty());
  EXPECT_EQ(reads, 2);
}

TEST(MissingFromLeaderTest, LeaderThatCannotBeAskedIsAnError) {
  const std::map<uint64_t, std::vector<std::string>> acked = {{3, {"Y"}}};
  absl::StatusOr<std::vector<std::string>> missing = MissingFromLeader(
      acked, 1, 8, [](uint64_t) -> absl::StatusOr<std::vector<std::string>> {
        return absl::UnavailableError("no leader");
      });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnavailable);
}

// A node's digests at versions 1..messages.size() (checkpoints and the
// last, as it keeps them; here every version).
std::map<uint64_t, Progress> DigestsOf(const std::vector<std::string>& messages) {
  std::map<uint64_t, Progress> digests;
  for (uint64_t v = 1; v <= messages.size(); ++v) digests[v] = Applied(messages, v);
  return digests;
}

std::string Hex(const Progress& p) { return digest::ToHex(p.digest); }

TEST(JudgedRangeStartTest, StartsWhereTheDifferingPeerLastAgreed) {
  const std::map<uint64_t, Progress> mine = DigestsOf(kStream);
  const std::map<uint64_t, std::map<std::string, std::string>> reports = {
      {2, {{"node1", Hex(mine.at(2))}, {"node2", Hex(mine.at(2))}}},
      {4, {{"node2", Hex(mine.at(4))}}},
      {6, {{"node1", "another digest"}}}};
  std::optional<Progress> start = JudgedRangeStart(mine, 6, reports, "node1", 64);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->sequence, 2u);
}

// The fault run that ended with digests never agreeing: node1 restarted and
// told only its latest version, where it differs; node2 had agreed at 4.
// Judging the last message alone, chained from a digest that already
// differed, found it the same again and again.
TEST(JudgedRangeStartTest, ElseWhereAnyPeerLastAgreed) {
  const std::map<uint64_t, Progress> mine = DigestsOf(kShortReplica);
  const std::map<uint64_t, std::map<std::string, std::string>> reports = {
      {2, {{"node2", "another digest"}}},
      {4, {{"node2", Hex(mine.at(4))}}},
      {5, {{"node1", Hex(Applied(kStream, 5))}}}};
  std::optional<Progress> start = JudgedRangeStart(mine, 5, reports, "node1", 64);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->sequence, 4u);
}

TEST(JudgedRangeStartTest, ElseTheOldestDigestInReach) {
  const std::map<uint64_t, Progress> mine = DigestsOf(kStream);
  // An agreement further back than `max_messages` is out of reach too.
  const std::map<uint64_t, std::map<std::string, std::string>> reports = {
      {1, {{"node1", Hex(mine.at(1))}}}, {6, {{"node1", "another digest"}}}};
  std::optional<Progress> start = JudgedRangeStart(mine, 6, reports, "node1", 3);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->sequence, 3u);
  start = JudgedRangeStart(mine, 6, {{6, {{"node1", "another digest"}}}}, "node1", 64);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->sequence, 1u);
}

TEST(JudgedRangeStartTest, NoneBelowInReach) {
  const std::map<uint64_t, Progress> mine = {{6, Applied(kStream, 6)}};
  EXPECT_FALSE(JudgedRangeStart(mine, 6, {}, "node1", 64).has_value());
}

}  // namespace
}  // namespace optout::service::cluster

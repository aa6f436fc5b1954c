// Issue 13: key rotation in cluster mode. Three real nats-server processes
// and three optoutd nodes on loopback: `optout-admin rotate-keys` on one node
// puts the rotation's start on the stream, every node re-keys its own
// RocksDB while writers, revokers and checkers keep going on every node,
// and the first node done ends it everywhere. Every acknowledged opt-out
// matches on every node throughout and after, revoked ones on none, the
// nodes' digests agree, every stored record is of the new version, a node
// killed mid-rotation resumes and finishes, and a node joining afterwards
// replays the stream into the same state.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster_fixture.h"
#include "tests/e2e/stored_versions.h"
#include "tests/e2e/test_inputs.h"

namespace optout::testing {
namespace {

using ::testing::HasSubstr;

std::string UrlOf(const std::string& tag, int i) {
  return absl::StrCat("https://", tag, ".rotate.cluster.example/", i, ".jpg");
}

struct Acked {
  std::string url;
  std::string id;
  std::string token;
  uint64_t version = 0;
};

// Registers `tag` 0..count-1 from three threads, one node each (retrying
// UNAVAILABLE with the same request id); the acknowledged ones, by number.
std::map<int, Acked> RegisterSpread(OptoutCluster& cluster, const std::string& tag, int count) {
  std::mutex mu;
  std::map<int, Acked> acked;
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i; (i = next.fetch_add(1)) < count;) {
        v1::RegisterRequest request;
        request.set_request_id(RequestIdFor(absl::StrCat(tag, "-", i)));
        request.add_urls(UrlOf(tag, i));
        for (int attempt = 0; attempt < 3; ++attempt) {
          absl::StatusOr<v1::RegisterResponse> r = cluster.Register((w + attempt) % 3, request);
          if (!r.ok()) continue;
          std::lock_guard<std::mutex> lock(mu);
          acked[i] = Acked{UrlOf(tag, i), r->opt_out_id(), r->manage_token(), r->version()};
          break;
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  return acked;
}

// How many of `urls` match on a node once it applied `min_version`; -1 on
// an error.
int MatchingOn(v1::Check::Stub& check, const std::vector<std::string>& urls, uint64_t min_version) {
  int matching = 0;
  for (size_t first = 0; first < urls.size(); first += 500) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
    v1::CheckRequest request;
    request.set_min_version(min_version);
    for (size_t i = first; i < std::min(urls.size(), first + 500); ++i) {
      request.add_items()->set_url(urls[i]);
    }
    v1::CheckResponse response;
    if (!check.Check(&context, request, &response).ok()) return -1;
    for (const auto& result : response.results()) matching += result.matched() ? 1 : 0;
  }
  return matching;
}

// `rotate-keys --status` of a node: its own line first, then one line per
// node of the cluster ("  node NAME: ...").
std::string RotationStatus(const OptoutdProcess& node) {
  return RunAdmin(node, {"rotate-keys", "--status"}).out;
}

// The node's own line.
std::string OwnRotationStatus(const OptoutdProcess& node) {
  const std::string all = RotationStatus(node);
  return all.substr(0, all.find('\n'));
}

// Waits until the node reports the rotation to `to_version` done.
bool RotationDoneOn(const OptoutdProcess& node, uint32_t to_version, absl::Duration patience) {
  const std::string done =
      absl::StrCat("key rotation: done, version ", to_version - 1, " -> ", to_version);
  for (const absl::Time give_up = absl::Now() + patience; absl::Now() < give_up;) {
    if (RotationStatus(node).find(done) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return false;
}

// Once quiet: every node at the same applied version with the same digest.
void ExpectDigestsAgree(OptoutCluster& cluster) {
  uint64_t last = 0;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(10); absl::Now() < give_up;) {
    absl::StatusOr<v1::GetInfoResponse> info = cluster.Info(0);
    if (info.ok() && info->version_lag() == 0) {
      last = info->applied_version();
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_GT(last, 0u);
  std::string digest;
  for (int i = 0; i < cluster.size(); ++i) {
    ASSERT_TRUE(cluster.WaitApplied(i, last, absl::Seconds(10))) << "node " << i;
    absl::StatusOr<v1::GetInfoResponse> info = cluster.Info(i);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->applied_version(), last) << "node " << i;
    if (i == 0) digest = info->applied_digest();
    EXPECT_EQ(info->applied_digest(), digest) << "node " << i;
  }
}

TEST(ClusterRotationE2eTest, RotationUnderLoadKeepsEveryAcknowledgedOptOutMatchingOnEveryNode) {
  // Small, paced batches: the rotation lasts seconds, under load.
  OptoutCluster cluster(3, "OPTOUT_ROTATE",
                        {"--key_rotation_batch=20", "--key_rotation_pause_ms=40"});
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
  constexpr int kBefore = 600;
  const std::map<int, Acked> before = RegisterSpread(cluster, "before", kBefore);
  ASSERT_GE(static_cast<int>(before.size()), kBefore - 10);
  uint64_t before_version = 0;
  for (const auto& [i, a] : before) before_version = std::max(before_version, a.version);
  // One in ten is revoked during the rotation; the others must match
  // throughout on every node.
  std::vector<std::string> kept;
  std::vector<Acked> to_revoke;
  for (const auto& [i, a] : before) {
    if (i % 10 == 0) {
      to_revoke.push_back(a);
    } else {
      kept.push_back(a.url);
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<int> check_rounds{0}, misses{0}, check_errors{0}, write_failures{0};
  std::mutex mu;
  std::vector<Acked> during;   // acknowledged while rotating
  std::vector<Acked> revoked;  // revoke acknowledged (version in `version`)
  std::vector<std::string> miss_details;  // what each miss was, for the failure message
  std::vector<std::thread> load;
  load.emplace_back([&] {  // checks the kept ones on every node in turn
    for (int round = 0; !stop.load(); ++round) {
      const int matching = MatchingOn(cluster.check(round % 3), kept, before_version);
      if (matching < 0) {
        ++check_errors;
      } else {
        const int missed = static_cast<int>(kept.size()) - matching;
        misses += missed;
        if (missed > 0) {
          std::lock_guard<std::mutex> lock(mu);
          miss_details.push_back(absl::StrCat(missed, " of the earlier opt-outs unmatched on node ",
                                              round % 3, " in check round ", round));
        }
      }
      ++check_rounds;
    }
  });
  for (int w = 0; w < 2; ++w) {
    load.emplace_back([&, w] {  // registers on one node, reads it on the next
      for (int i = 0; !stop.load(); ++i) {
        const std::string tag = absl::StrCat("during", w);
        v1::RegisterRequest request;
        request.set_request_id(RequestIdFor(absl::StrCat(tag, "-", i)));
        request.add_urls(UrlOf(tag, i));
        absl::StatusOr<v1::RegisterResponse> r;
        for (int attempt = 0; attempt < 3; ++attempt) {
          r = cluster.Register((i + w) % 3, request);
          if (r.ok()) break;
        }
        if (!r.ok()) {
          ++write_failures;
          ADD_FAILURE() << "register: " << r.status();
          continue;
        }
        absl::StatusOr<bool> seen = cluster.Matches((i + w + 1) % 3, UrlOf(tag, i), r->version());
        if (!seen.ok() || !*seen) {
          ++misses;
          std::lock_guard<std::mutex> lock(mu);
          miss_details.push_back(absl::StrCat(
              "registered version ", r->version(), ", read on node ", (i + w + 1) % 3, ": ",
              seen.ok() ? "not matched" : seen.status().ToString()));
        }
        std::lock_guard<std::mutex> lock(mu);
        during.push_back(Acked{UrlOf(tag, i), r->opt_out_id(), r->manage_token(), r->version()});
      }
    });
  }
  load.emplace_back([&] {  // revokes one in ten of the earlier ones
    for (size_t k = 0; k < to_revoke.size() && !stop.load(); ++k) {
      absl::StatusOr<v1::RevokeResponse> r =
          cluster.Revoke(static_cast<int>(k % 3), to_revoke[k].id, to_revoke[k].token);
      if (!r.ok()) continue;  // not acknowledged: may or may not be revoked
      std::lock_guard<std::mutex> lock(mu);
      revoked.push_back(to_revoke[k]);
      revoked.back().version = r->version();
      absl::SleepFor(absl::Milliseconds(20));
    }
  });

  absl::SleepFor(absl::Milliseconds(300));
  const CommandResult rotate = RunAdmin(cluster.node(1), {"rotate-keys", "--no-wait"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_THAT(rotate.out, HasSubstr("version 1 -> 2"));
  bool all_done = true;
  for (int i = 0; i < cluster.size(); ++i) {
    all_done = RotationDoneOn(cluster.node(i), 2, absl::Seconds(40)) && all_done;
    EXPECT_TRUE(all_done) << "node " << i << ": " << RotationStatus(cluster.node(i));
  }
  stop = true;
  for (auto& t : load) t.join();
  ASSERT_TRUE(all_done);
  // Any node lists every node's progress, as they tell each other.
  bool listed = false;
  std::string status;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(5); !listed && absl::Now() < give_up;) {
    status = RotationStatus(cluster.node(0));
    listed = true;
    for (int i = 0; i < cluster.size(); ++i) {
      listed = listed && status.find(absl::StrCat("node node", i, ": done, version 1 -> 2")) !=
                             std::string::npos;
    }
    if (!listed) absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(listed) << status;
  EXPECT_GE(check_rounds.load(), 3) << "too few checks ran during the rotation";
  EXPECT_EQ(misses.load(), 0) << absl::StrJoin(miss_details, "\n");
  EXPECT_EQ(check_errors.load(), 0);
  EXPECT_EQ(write_failures.load(), 0);
  EXPECT_FALSE(during.empty());
  EXPECT_FALSE(revoked.empty());

  // Every acknowledged opt-out matches on every node, revoked ones nowhere.
  uint64_t last = before_version;
  std::vector<std::string> all = kept;
  for (const Acked& a : during) {
    all.push_back(a.url);
    last = std::max(last, a.version);
  }
  std::vector<std::string> gone;
  for (const Acked& a : revoked) {
    gone.push_back(a.url);
    last = std::max(last, a.version);
  }
  for (int i = 0; i < cluster.size(); ++i) {
    EXPECT_EQ(MatchingOn(cluster.check(i), all, last), static_cast<int>(all.size())) << "node " << i;
    EXPECT_EQ(MatchingOn(cluster.check(i), gone, last), 0) << "node " << i;
  }
  ExpectDigestsAgree(cluster);

  // A retry of a registration made before the rotation, on another node,
  // finds it under its re-derived request key.
  const Acked& old = before.rbegin()->second;
  v1::RegisterRequest retry;
  retry.set_request_id(RequestIdFor(absl::StrCat("before-", before.rbegin()->first)));
  retry.add_urls(old.url);
  absl::StatusOr<v1::RegisterResponse> retried = cluster.Register(2, retry);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->opt_out_id(), old.id);

  // A node that joins now replays the stream, start and end included.
  OptoutdProcess newcomer(cluster.NodeFlags(3, cluster.secret_file()));
  ASSERT_TRUE(newcomer.Start().ok()) << newcomer.ReadLog();
  auto stub = v1::Check::NewStub(
      grpc::CreateChannel(newcomer.address(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(MatchingOn(*stub, all, last), static_cast<int>(all.size()));
  EXPECT_EQ(MatchingOn(*stub, gone, last), 0);
  EXPECT_THAT(OwnRotationStatus(newcomer), HasSubstr("key rotation: done, version 1 -> 2"));
  // SIGKILL rather than a stop (gRPC's shutdown takes seconds): what the
  // process wrote is in the WAL all the same.
  newcomer.Kill();
  const std::map<uint32_t, int> joined = StoredVersions(newcomer.data_dir());
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined.begin()->first, 2u);

  // On disk: version 2 only.
  cluster.node(0).Kill();
  const std::map<uint32_t, int> versions = StoredVersions(cluster.node(0).data_dir());
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions.begin()->first, 2u);
  // Every acknowledged opt-out, and those whose revoke was not (or not yet)
  // acknowledged.
  EXPECT_GE(versions.begin()->second, static_cast<int>(all.size()));
  EXPECT_LE(versions.begin()->second,
            static_cast<int>(all.size() + to_revoke.size() - revoked.size()));
}

TEST(ClusterRotationE2eTest, NodeKilledMidRotationResumesAndFinishes) {
  OptoutCluster cluster(3, "OPTOUT_ROTATE_KILL", {"--key_rotation_batch=20"});
  // Nodes 0 and 1 re-key slowly, node 2 faster: node 2 is killed midway
  // and, restarted, finishes first and ends the rotation for all.
  cluster.node(0).AddFlag("--key_rotation_pause_ms=400");
  cluster.node(1).AddFlag("--key_rotation_pause_ms=400");
  cluster.node(2).AddFlag("--key_rotation_pause_ms=60");
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
  constexpr int kCount = 600;
  const std::map<int, Acked> before = RegisterSpread(cluster, "kill", kCount);
  ASSERT_GE(static_cast<int>(before.size()), kCount - 10);
  std::vector<std::string> urls;
  uint64_t last = 0;
  for (const auto& [i, a] : before) {
    urls.push_back(a.url);
    last = std::max(last, a.version);
  }
  for (int i = 0; i < cluster.size(); ++i) ASSERT_TRUE(cluster.WaitApplied(i, last, absl::Seconds(10)));

  const CommandResult rotate = RunAdmin(cluster.node(0), {"rotate-keys", "--no-wait"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  bool midway = false;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(15); !midway && absl::Now() < give_up;) {
    const std::string status = OwnRotationStatus(cluster.node(2));
    midway = status.find("running") != std::string::npos &&
             status.find(", 0 records re-keyed") == std::string::npos;
    if (!midway) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(midway) << RotationStatus(cluster.node(2));
  cluster.node(2).Kill();
  const std::map<uint32_t, int> mixed = StoredVersions(cluster.node(2).data_dir());
  EXPECT_EQ(mixed.size(), 2u) << "killed between its first and its last batch";
  // Written while it is down: it catches up with them after its restart.
  std::vector<std::string> while_down;
  for (int i = 0; i < 20; ++i) {
    v1::RegisterRequest request;
    request.set_request_id(RequestIdFor(absl::StrCat("down-", i)));
    request.add_urls(UrlOf("down", i));
    absl::StatusOr<v1::RegisterResponse> r = cluster.Register(i % 2, request);
    ASSERT_TRUE(r.ok()) << r.status();
    while_down.push_back(UrlOf("down", i));
    last = std::max(last, r->version());
  }
  ASSERT_TRUE(cluster.StartNode(2).ok()) << cluster.node(2).ReadLog();
  EXPECT_THAT(cluster.node(2).ReadLog(), HasSubstr("resumes at"));
  EXPECT_EQ(MatchingOn(cluster.check(2), urls, last), static_cast<int>(urls.size()))
      << "both versions served after the crash";
  for (int i = 0; i < cluster.size(); ++i) {
    ASSERT_TRUE(RotationDoneOn(cluster.node(i), 2, absl::Seconds(30)))
        << "node " << i << ": " << RotationStatus(cluster.node(i));
  }
  urls.insert(urls.end(), while_down.begin(), while_down.end());
  for (int i = 0; i < cluster.size(); ++i) {
    EXPECT_EQ(MatchingOn(cluster.check(i), urls, last), static_cast<int>(urls.size()))
        << "node " << i;
  }
  ExpectDigestsAgree(cluster);
  cluster.node(2).Kill();
  const std::map<uint32_t, int> versions = StoredVersions(cluster.node(2).data_dir());
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions.begin()->first, 2u);
  EXPECT_EQ(versions.begin()->second, static_cast<int>(urls.size()));
}

}  // namespace
}  // namespace optout::testing

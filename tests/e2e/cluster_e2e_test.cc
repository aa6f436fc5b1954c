// Issue 13: cluster mode on NATS JetStream. Three real nats-server processes
// and three optoutd nodes on loopback; writes on one node, reads on the
// others, revocation latency, catch-up after downtime, the key
// fingerprint check, and re-bootstrap from a peer's snapshot when the stream
// no longer holds what a node needs.
#include <nats/nats.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "service/cluster/progress.h"
#include "storage/opt_out_store.h"
#include "tests/e2e/cluster_fixture.h"
#include "tests/e2e/test_files.h"

namespace optout::testing {
namespace {

std::string UniqueUrl(const std::string& tag, int n) {
  static std::mt19937_64 rng(std::random_device{}());
  return absl::StrCat("https://", tag, ".cluster.example/", n, "/", rng(), ".jpg");
}

v1::RegisterRequest RegisterUrl(const std::string& url) {
  v1::RegisterRequest request;
  request.add_urls(url);
  return request;
}

// The node's exit status once it has exited, polled for up to `timeout`
// (a diverged node exits 75 to be repaired); -1 while it still runs.
int ExitStatusWithin(OptoutdProcess& node, absl::Duration timeout) {
  int exit_code = node.ExitedWith();
  for (const absl::Time give_up = absl::Now() + timeout; exit_code < 0 && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(200));
    exit_code = node.ExitedWith();
  }
  return exit_code;
}

class ClusterE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status started = cluster_.Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
  }
  OptoutCluster cluster_;
};

TEST_F(ClusterE2eTest, WriteOnOneNodeIsReadOnEveryNode) {
  const std::string url = UniqueUrl("write", 0);
  absl::StatusOr<v1::RegisterResponse> registered = cluster_.Register(0, RegisterUrl(url));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_GT(registered->version(), 0u);
  for (int i = 0; i < cluster_.size(); ++i) {
    absl::StatusOr<bool> matched = cluster_.Matches(i, url, registered->version());
    ASSERT_TRUE(matched.ok()) << "node " << i << ": " << matched.status();
    EXPECT_TRUE(*matched) << "node " << i;
  }
  // Writes may arrive at any node; versions grow.
  absl::StatusOr<v1::RegisterResponse> second =
      cluster_.Register(2, RegisterUrl(UniqueUrl("write", 1)));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(second->version(), registered->version());
  // Every node applied the same mutations: same version, same digest.
  for (int i = 0; i < cluster_.size(); ++i) {
    ASSERT_TRUE(cluster_.WaitApplied(i, second->version(), absl::Seconds(10)));
  }
  absl::StatusOr<v1::GetInfoResponse> first_info = cluster_.Info(0);
  ASSERT_TRUE(first_info.ok());
  EXPECT_EQ(first_info->node_name(), "node0");
  EXPECT_EQ(first_info->version_lag(), 0u);
  EXPECT_EQ(first_info->applied_digest().size(), 64u);
  for (int i = 1; i < cluster_.size(); ++i) {
    absl::StatusOr<v1::GetInfoResponse> info = cluster_.Info(i);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->applied_version(), first_info->applied_version());
    EXPECT_EQ(info->applied_digest(), first_info->applied_digest()) << "node " << i;
  }
}

TEST_F(ClusterE2eTest, RetriedRequestIdOnAnotherNodeGetsTheSameOptOut) {
  v1::RegisterRequest request = RegisterUrl(UniqueUrl("retry", 0));
  request.set_request_id("cluster-retry-0123456789abcdefXYZ");
  absl::StatusOr<v1::RegisterResponse> first = cluster_.Register(0, request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(cluster_.WaitApplied(1, first->version(), absl::Seconds(10)));
  absl::StatusOr<v1::RegisterResponse> again = cluster_.Register(1, request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->opt_out_id(), first->opt_out_id());
  EXPECT_EQ(again->manage_token(), first->manage_token());
}

// Publishes a copy of stream message `seq` to the end of `stream` under a
// new message id, as a node's late re-send of a write would land: its
// sequence on the stream.
absl::StatusOr<uint64_t> RepublishLate(const std::string& nats_urls, const std::string& stream,
                                       uint64_t seq) {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  natsMsg* original = nullptr;
  jsPubAck* ack = nullptr;
  const std::string first_url = nats_urls.substr(0, nats_urls.find(','));
  natsStatus s = natsOptions_Create(&options);
  if (s == NATS_OK) s = natsOptions_SetURL(options, first_url.c_str());
  if (s == NATS_OK) s = natsConnection_Connect(&connection, options);
  if (s == NATS_OK) s = natsConnection_JetStream(&js, connection, nullptr);
  jsErrCode code = jsErrCode(0);
  if (s == NATS_OK) s = js_GetMsg(&original, js, stream.c_str(), seq, nullptr, &code);
  if (s == NATS_OK) {
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    const std::string late_id = absl::StrCat("late-copy-of-", seq);
    pub.MsgId = late_id.c_str();
    s = js_Publish(&ack, js, natsMsg_GetSubject(original), natsMsg_GetData(original),
                   natsMsg_GetDataLength(original), &pub, &code);
  }
  absl::StatusOr<uint64_t> result =
      s == NATS_OK && ack != nullptr
          ? absl::StatusOr<uint64_t>(ack->Sequence)
          : absl::UnavailableError(absl::StrCat("NATS: ", natsStatus_GetText(s), " (JetStream ",
                                                static_cast<int>(code), ")"));
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (original != nullptr) natsMsg_Destroy(original);
  if (js != nullptr) jsCtx_Destroy(js);
  if (connection != nullptr) natsConnection_Destroy(connection);
  if (options != nullptr) natsOptions_Destroy(options);
  return result;
}

// The revoke race: a registration timed out on one node, whose node kept
// re-sending it while the client retried the same request id elsewhere,
// got it acknowledged and revoked it; then the first copy landed on the
// stream. Made here by publishing a copy of the registration's message
// after the revoke. Every node skips it (the revoke keeps the request key
// as revoked), nothing matches, the nodes agree, and a retry is refused.
TEST_F(ClusterE2eTest, LateCopyOfARegistrationAfterItsRevokeIsSkippedOnEveryNode) {
  const std::string url = UniqueUrl("late", 0);
  v1::RegisterRequest request = RegisterUrl(url);
  request.set_request_id("cluster-late-copy-0123456789abcdef");
  absl::StatusOr<v1::RegisterResponse> registered = cluster_.Register(0, request);
  ASSERT_TRUE(registered.ok()) << registered.status();
  // Node 1 reads the record to authorize the revoke: it must have applied
  // the registration (node 0 answered after its own apply, not node 1's).
  ASSERT_TRUE(cluster_.WaitApplied(1, registered->version(), absl::Seconds(10)));
  absl::StatusOr<v1::RevokeResponse> revoked =
      cluster_.Revoke(1, registered->opt_out_id(), registered->manage_token());
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  absl::StatusOr<uint64_t> late =
      RepublishLate(cluster_.nats().Urls(), "OPTOUT_TEST", registered->version());
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_GT(*late, revoked->version());
  for (int i = 0; i < cluster_.size(); ++i) {
    absl::StatusOr<bool> matched = cluster_.Matches(i, url, *late);
    ASSERT_TRUE(matched.ok()) << "node " << i << ": " << matched.status();
    EXPECT_FALSE(*matched) << "node " << i << " brought the revoked opt-out back";
  }
  absl::StatusOr<v1::GetInfoResponse> first = cluster_.Info(0);
  ASSERT_TRUE(first.ok());
  for (int i = 1; i < cluster_.size(); ++i) {
    ASSERT_TRUE(cluster_.WaitApplied(i, first->applied_version(), absl::Seconds(10)));
    absl::StatusOr<v1::GetInfoResponse> info = cluster_.Info(i);
    ASSERT_TRUE(info.ok());
    if (info->applied_version() == first->applied_version()) {
      EXPECT_EQ(info->applied_digest(), first->applied_digest()) << "node " << i;
    }
  }
  absl::StatusOr<v1::RegisterResponse> retried = cluster_.Register(2, request);
  EXPECT_EQ(retried.status().code(), absl::StatusCode::kFailedPrecondition) << retried.status();
  EXPECT_THAT(std::string(retried.status().message()), ::testing::HasSubstr("revoked on"));
}

// Read-your-writes for Revoke: a revoke sent to another node the moment a
// registration is acknowledged finds it, with the registration's version as
// min_version and without (the node first applies what the stream held).
// Before, such a revoke answered NOT_FOUND in about 1 of 5 tries.
TEST_F(ClusterE2eTest, RevokeOnAnotherNodeRightAfterItsRegistrationFindsIt) {
  constexpr int kTries = 24;
  for (int n = 0; n < kTries; ++n) {
    const int writer = n % 3;
    const int revoker = (writer + 1 + (n / 3) % 2) % 3;
    absl::StatusOr<v1::RegisterResponse> registered =
        cluster_.Register(writer, RegisterUrl(UniqueUrl("ryw", n)));
    ASSERT_TRUE(registered.ok()) << registered.status();
    const uint64_t min_version = n % 2 == 0 ? registered->version() : 0;
    absl::StatusOr<v1::RevokeResponse> revoked =
        cluster_.Revoke(revoker, registered->opt_out_id(), registered->manage_token(),
                        absl::Seconds(10), min_version);
    ASSERT_TRUE(revoked.ok()) << "try " << n << " (node " << writer << " registered, node "
                              << revoker << " revoked, min_version " << min_version
                              << "): " << revoked.status();
    EXPECT_GT(revoked->version(), registered->version());
  }
  // An id that was never registered is still NOT_FOUND (after catching up).
  absl::StatusOr<v1::RevokeResponse> unknown =
      cluster_.Revoke(1, std::string(32, 'a'), std::string(64, 'b'));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
}

// `optout revoke --receipt` sends the version the registration answered,
// which register kept in the receipt: with it raised past what any node
// applied, the revoke waits and fails instead of revoking.
TEST_F(ClusterE2eTest, CliRevokeSendsTheReceiptsVersionToAnotherNode) {
  const std::string receipt_path = cluster_.node(0).root() + "/receipt.json";
  CommandResult reg = RunCommand({OptoutCliBinary(), "--server", cluster_.node(0).address(),
                                  "register", "--json", "--url", UniqueUrl("cli-ryw", 0),
                                  "--receipt", receipt_path});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const nlohmann::json registered = nlohmann::json::parse(reg.out);
  nlohmann::json receipt = nlohmann::json::parse(ReadFile(receipt_path));
  ASSERT_EQ(receipt["version"], registered["version"]);

  const uint64_t version = registered["version"].get<uint64_t>();
  receipt["version"] = version + 1000;
  const std::string future_path = cluster_.node(0).root() + "/future-receipt.json";
  {
    std::ofstream out(future_path);
    out << receipt.dump();
  }
  ::chmod(future_path.c_str(), 0600);
  CommandResult early =
      RunCommand({OptoutCliBinary(), "--server", cluster_.node(1).address(), "--timeout", "2s",
                  "revoke", "--receipt", future_path});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_THAT(early.err, ::testing::HasSubstr("min_version")) << early.err;

  CommandResult revoked = RunCommand({OptoutCliBinary(), "--server", cluster_.node(2).address(),
                                      "revoke", "--json", "--receipt", receipt_path});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_GT(nlohmann::json::parse(revoked.out)["version"].get<uint64_t>(), version);
}

TEST_F(ClusterE2eTest, RevokeWithAVersionNotAppliedAnswersUnavailableAtTheDeadline) {
  absl::StatusOr<v1::RegisterResponse> registered =
      cluster_.Register(0, RegisterUrl(UniqueUrl("ryw-future", 0)));
  ASSERT_TRUE(registered.ok()) << registered.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::RevokeResponse> early =
      cluster_.Revoke(1, registered->opt_out_id(), registered->manage_token(), absl::Seconds(1),
                      registered->version() + 1000);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kUnavailable) << early.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  // Nothing was revoked: with the version it has, the revoke goes through.
  absl::StatusOr<v1::RevokeResponse> revoked =
      cluster_.Revoke(1, registered->opt_out_id(), registered->manage_token(), absl::Seconds(10),
                      registered->version());
  EXPECT_TRUE(revoked.ok()) << revoked.status();
}

TEST_F(ClusterE2eTest, MinVersionNotAppliedAnswersUnavailableAtTheDeadline) {
  absl::StatusOr<v1::GetInfoResponse> info = cluster_.Info(1);
  ASSERT_TRUE(info.ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<bool> matched = cluster_.Matches(1, UniqueUrl("future", 0),
                                                  info->applied_version() + 1000,
                                                  absl::Seconds(1));
  EXPECT_EQ(matched.status().code(), absl::StatusCode::kUnavailable) << matched.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(ClusterE2eTest, RevokeStopsMatchingOnEveryNodeWithinASecond) {
  constexpr int kOptOuts = 30;
  struct Registered {
    std::string url, id, token;
  };
  std::vector<Registered> opt_outs;
  uint64_t last = 0;
  for (int n = 0; n < kOptOuts; ++n) {
    const std::string url = UniqueUrl("revoke", n);
    absl::StatusOr<v1::RegisterResponse> r = cluster_.Register(n % 3, RegisterUrl(url));
    ASSERT_TRUE(r.ok()) << r.status();
    opt_outs.push_back({url, r->opt_out_id(), r->manage_token()});
    last = std::max(last, r->version());
  }
  for (int i = 0; i < cluster_.size(); ++i) {
    ASSERT_TRUE(cluster_.WaitApplied(i, last, absl::Seconds(10)));
  }
  // From the revoke's acknowledgement until the other nodes stop matching
  // (no min_version: what any crawler sees), polled every 2 ms.
  std::vector<double> millis;
  for (int n = 0; n < kOptOuts; ++n) {
    const int writer = n % 3;
    absl::StatusOr<v1::RevokeResponse> revoked =
        cluster_.Revoke(writer, opt_outs[n].id, opt_outs[n].token);
    ASSERT_TRUE(revoked.ok()) << revoked.status();
    ASSERT_GT(revoked->version(), 0u);
    const absl::Time acked = absl::Now();
    for (int i = 0; i < cluster_.size(); ++i) {
      if (i == writer) continue;
      for (;;) {
        absl::StatusOr<bool> matched = cluster_.Matches(i, opt_outs[n].url);
        ASSERT_TRUE(matched.ok()) << matched.status();
        if (!*matched) break;
        ASSERT_LT(absl::Now() - acked, absl::Seconds(10)) << "revoke never reached node " << i;
        absl::SleepFor(absl::Milliseconds(2));
      }
      millis.push_back(absl::ToDoubleMilliseconds(absl::Now() - acked));
      // With min_version, at once.
      absl::StatusOr<bool> at_version = cluster_.Matches(i, opt_outs[n].url, revoked->version());
      ASSERT_TRUE(at_version.ok()) << at_version.status();
      EXPECT_FALSE(*at_version);
    }
    // The writer itself never matches after the acknowledgement.
    absl::StatusOr<bool> own = cluster_.Matches(writer, opt_outs[n].url);
    ASSERT_TRUE(own.ok());
    EXPECT_FALSE(*own);
  }
  std::sort(millis.begin(), millis.end());
  const double p50 = millis[millis.size() / 2];
  const double p99 = millis[std::min(millis.size() - 1, millis.size() * 99 / 100)];
  std::printf("revoke propagation at idle over %zu (node, revoke) pairs: p50 %.1f ms, p99 %.1f ms, "
              "max %.1f ms\n",
              millis.size(), p50, p99, millis.back());
  EXPECT_LT(p99, 1000.0);
}

TEST_F(ClusterE2eTest, NodeDownForManyMutationsCatchesUp) {
  // OPTOUT_CLUSTER_CATCHUP overrides the count (the figure is 10,000).
  int mutations = 10000;
  if (const char* env = std::getenv("OPTOUT_CLUSTER_CATCHUP")) mutations = std::atoi(env);
  cluster_.node(2).Kill();
  constexpr int kWriters = 8;
  std::atomic<int> next{0};
  std::atomic<uint64_t> last{0};
  std::atomic<int> failures{0};
  std::vector<std::string> urls(mutations);
  const absl::Time start = absl::Now();
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int n = next++; n < mutations; n = next++) {
        urls[n] = UniqueUrl("catchup", n);
        absl::StatusOr<v1::RegisterResponse> r = cluster_.Register(w % 2, RegisterUrl(urls[n]));
        if (!r.ok()) {
          ++failures;
          continue;
        }
        uint64_t seen = last.load();
        while (r->version() > seen && !last.compare_exchange_weak(seen, r->version())) {
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  const absl::Duration write_time = absl::Now() - start;
  ASSERT_EQ(failures.load(), 0);
  const absl::Time restart = absl::Now();
  ASSERT_TRUE(cluster_.StartNode(2).ok());  // returns once caught up
  ASSERT_TRUE(cluster_.WaitApplied(2, last.load(), absl::Seconds(60)));
  std::printf("%d registrations with node 2 down in %.1f s (%.0f/s acknowledged); node 2 "
              "restarted and caught up in %.1f s\n",
              mutations, absl::ToDoubleSeconds(write_time),
              mutations / absl::ToDoubleSeconds(write_time),
              absl::ToDoubleSeconds(absl::Now() - restart));
  for (int n = 0; n < mutations; n += std::max(1, mutations / 50)) {
    absl::StatusOr<bool> matched = cluster_.Matches(2, urls[n]);
    ASSERT_TRUE(matched.ok()) << matched.status();
    EXPECT_TRUE(*matched) << urls[n];
  }
  absl::StatusOr<v1::GetInfoResponse> a = cluster_.Info(0);
  absl::StatusOr<v1::GetInfoResponse> c = cluster_.Info(2);
  ASSERT_TRUE(a.ok() && c.ok());
  EXPECT_EQ(c->applied_version(), a->applied_version());
  EXPECT_EQ(c->applied_digest(), a->applied_digest());
}

TEST_F(ClusterE2eTest, CliRegisterPrintsVersionThatCheckMinVersionWaitsFor) {
  const std::string url = UniqueUrl("cli", 0);
  CommandResult registered =
      RunCommand({OptoutCliBinary(), "--server", cluster_.node(0).address(), "--json",
                  "register", "--url", url, "--no-receipt"});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  const nlohmann::json out = nlohmann::json::parse(registered.out);
  ASSERT_TRUE(out.contains("version")) << registered.out;
  const uint64_t version = out["version"].get<uint64_t>();
  EXPECT_GT(version, 0u);
  CommandResult checked =
      RunCommand({OptoutCliBinary(), "--server", cluster_.node(1).address(), "--json", "check",
                  "--url", url, "--min-version", std::to_string(version)});
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_TRUE(nlohmann::json::parse(checked.out)["results"][0]["matched"].get<bool>())
      << checked.out;
  CommandResult info = RunCommand(
      {OptoutCliBinary(), "--server", cluster_.node(2).address(), "--json", "info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const nlohmann::json shown = nlohmann::json::parse(info.out);
  EXPECT_EQ(shown["node_name"], "node2");
  EXPECT_EQ(shown["applied_digest"].get<std::string>().size(), 64u);
  // A version no node has reached: the check fails at --timeout, UNAVAILABLE.
  CommandResult too_new = RunCommand({OptoutCliBinary(), "--server", cluster_.node(1).address(),
                                      "--timeout", "1s", "check", "--url", url, "--min-version",
                                      std::to_string(version + 100000)});
  EXPECT_NE(too_new.exit_code, 0);
  EXPECT_THAT(too_new.err, ::testing::HasSubstr("min_version")) << too_new.err;
}

// Key rotation is per node: one node re-keying alone would write records
// its peers cannot open (they would stop applying the stream), so a
// cluster node refuses it and keeps serving with the keys it has.
// Rotating to the same secret's next version works in cluster mode
// (cluster_rotation_e2e_test); a new secret file is refused, and the
// registry goes on as before.
TEST_F(ClusterE2eTest, RotateKeysToANewSecretIsRefusedInClusterMode) {
  const CommandResult rotate = RunAdmin(
      cluster_.node(1),
      {"rotate-keys", "--no-wait", "--new-secret-file", cluster_.node(1).root() + "/new.secret"});
  EXPECT_NE(rotate.exit_code, 0) << rotate.out;
  EXPECT_THAT(rotate.err, ::testing::HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(rotate.err, ::testing::HasSubstr("not supported in cluster mode"));
  EXPECT_THAT(RunAdmin(cluster_.node(1), {"rotate-keys", "--status"}).out,
              ::testing::HasSubstr("key rotation: idle"));
  const std::string url = UniqueUrl("after-rotate", 0);
  absl::StatusOr<v1::RegisterResponse> r = cluster_.Register(1, RegisterUrl(url));
  ASSERT_TRUE(r.ok()) << r.status();
  for (int i = 0; i < cluster_.size(); ++i) {
    absl::StatusOr<bool> matched = cluster_.Matches(i, url, r->version());
    ASSERT_TRUE(matched.ok()) << "node " << i << ": " << matched.status();
    EXPECT_TRUE(*matched) << "node " << i;
  }
}

TEST_F(ClusterE2eTest, NodeWithAnotherSecretRefusesToJoin) {
  const std::string other_secret = cluster_.node(0).root() + "/other.secret";
  OptoutdProcess stranger(cluster_.NodeFlags(3, other_secret));
  absl::Status started = stranger.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(stranger.ReadLog(), ::testing::HasSubstr("key fingerprint"));
}

// Admin keys are mutations of the stream like opt-outs: a key created
// through one node's admin socket works on every node, and revoked through
// another node's it stops working everywhere (anonymous checks are off, so
// only the key lets a check through).
TEST(ClusterKeysTest, KeyCreatedOnOneNodeWorksOnEveryNodeUntilRevokedOnAnother) {
  OptoutCluster cluster(3, "OPTOUT_KEYS", {"--anonymous_items_per_minute=0"});
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
  auto admin = [&](int node, std::vector<std::string> args) {
    return RunAdmin(cluster.node(node), std::move(args));
  };
  auto check_with = [&](int node, const std::string& key) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!key.empty()) context.AddMetadata("authorization", "Bearer " + key);
    v1::CheckRequest request;
    request.add_items()->set_url("https://keys.cluster.example/a.jpg");
    v1::CheckResponse response;
    return cluster.check(node).Check(&context, request, &response).error_code();
  };
  // Waits until every node answers `want` for `key` (the key mutation is
  // applied asynchronously on the other nodes).
  auto every_node_answers = [&](const std::string& key, grpc::StatusCode want) {
    for (int i = 0; i < cluster.size(); ++i) {
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      grpc::StatusCode got = check_with(i, key);
      while (got != want && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(20));
        got = check_with(i, key);
      }
      EXPECT_EQ(got, want) << "node " << i;
    }
  };

  CommandResult created = admin(0, {"keys", "create", "--name", "crawler-eu"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string key(absl::StripAsciiWhitespace(created.out));
  ASSERT_FALSE(key.empty());
  every_node_answers("", grpc::StatusCode::UNAUTHENTICATED);
  every_node_answers(key, grpc::StatusCode::OK);
  // The name is taken cluster-wide, not only on the node that created it.
  for (int i = 0; i < cluster.size(); ++i) {
    CommandResult duplicate = admin(i, {"keys", "create", "--name", "crawler-eu"});
    EXPECT_NE(duplicate.exit_code, 0) << "node " << i;
    EXPECT_THAT(duplicate.err, ::testing::HasSubstr("crawler-eu")) << "node " << i;
  }
  CommandResult listed = admin(1, {"keys", "list"});
  EXPECT_THAT(listed.out, ::testing::HasSubstr("crawler-eu"));

  CommandResult revoked = admin(2, {"keys", "revoke", "crawler-eu"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  every_node_answers(key, grpc::StatusCode::UNAUTHENTICATED);
  // A node restarted afterwards reads the key state from its store.
  ASSERT_TRUE(cluster.node(1).Stop().ok());
  ASSERT_TRUE(cluster.StartNode(1).ok());
  EXPECT_EQ(check_with(1, key), grpc::StatusCode::UNAUTHENTICATED);
  CommandResult again = admin(1, {"keys", "revoke", "crawler-eu"});
  EXPECT_NE(again.exit_code, 0);

  // Every node applied the same key mutations: equal digests.
  absl::StatusOr<v1::GetInfoResponse> first = cluster.Info(0);
  ASSERT_TRUE(first.ok());
  for (int i = 1; i < cluster.size(); ++i) {
    ASSERT_TRUE(cluster.WaitApplied(i, first->applied_version(), absl::Seconds(10)));
    absl::StatusOr<v1::GetInfoResponse> info = cluster.Info(i);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->applied_digest(), first->applied_digest()) << "node " << i;
  }
}

// The stream keeps only the last 100 mutations: a node down for more than
// that cannot catch up from it. Without --cluster_snapshot_from it refuses
// to start; with it (the first peer named is unreachable, the second is
// node 0) it installs node 0's snapshot and follows the stream from there.
// A new node with an empty data_dir joins the same way.
TEST(ClusterSnapshotTest, NodeWhoseHistoryWasPurgedBootstrapsFromAPeerSnapshot) {
  OptoutCluster cluster(3, "OPTOUT_SNAPSHOT", {"--cluster_max_messages=100"});
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  std::vector<std::string> urls;
  uint64_t last = 0;
  auto register_some = [&](int count) {
    for (int n = 0; n < count; ++n) {
      urls.push_back(UniqueUrl("snapshot", static_cast<int>(urls.size())));
      absl::StatusOr<v1::RegisterResponse> r = cluster.Register(n % 2, RegisterUrl(urls.back()));
      ASSERT_TRUE(r.ok()) << r.status();
      last = std::max(last, r->version());
    }
  };
  register_some(20);
  ASSERT_TRUE(cluster.WaitApplied(2, last, absl::Seconds(20)));
  cluster.node(2).Kill();
  register_some(300);

  absl::Status refused = cluster.StartNode(2);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("--cluster_snapshot_from"));

  cluster.node(2).AddFlag("--cluster_snapshot_from=unix:" + cluster.node(2).root() +
                          "/nobody.sock," + cluster.AdminAddress(0));
  absl::Status bootstrapped = cluster.StartNode(2);
  ASSERT_TRUE(bootstrapped.ok()) << bootstrapped << cluster.node(2).ReadLog();
  EXPECT_THAT(cluster.node(2).ReadLog(), ::testing::HasSubstr("installed the snapshot"));
  register_some(10);  // and then it follows the stream
  ASSERT_TRUE(cluster.WaitApplied(2, last, absl::Seconds(20)));
  for (const std::string& url : urls) {
    absl::StatusOr<bool> matched = cluster.Matches(2, url);
    ASSERT_TRUE(matched.ok()) << matched.status();
    EXPECT_TRUE(*matched) << url;
  }
  absl::StatusOr<v1::GetInfoResponse> a = cluster.Info(0);
  absl::StatusOr<v1::GetInfoResponse> c = cluster.Info(2);
  ASSERT_TRUE(a.ok() && c.ok());
  ASSERT_TRUE(cluster.WaitApplied(0, last, absl::Seconds(20)));
  a = cluster.Info(0);
  EXPECT_EQ(c->applied_version(), a->applied_version());
  EXPECT_EQ(c->applied_digest(), a->applied_digest());

  // A new node with an empty data_dir.
  std::vector<std::string> flags = cluster.NodeFlags(3, cluster.secret_file());
  flags.push_back("--cluster_snapshot_from=" + cluster.AdminAddress(1));
  OptoutdProcess joiner(flags);
  absl::Status joined = joiner.Start();
  ASSERT_TRUE(joined.ok()) << joined << joiner.ReadLog();
  absl::StatusOr<v1::GetInfoResponse> j = absl::InternalError("not asked");
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  auto stub = v1::Check::NewStub(
      grpc::CreateChannel(joiner.address(), grpc::InsecureChannelCredentials()));
  while (absl::Now() < give_up) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetInfoResponse info;
    if (stub->GetInfo(&context, v1::GetInfoRequest(), &info).ok() &&
        info.applied_version() >= last) {
      j = info;
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->applied_digest(), a->applied_digest());
}

// A node whose history differs from the stream's (what nats-server 2.9.10
// can do to a replica its consumer read, see README "Cluster mode"; made
// here by changing the digest it stored) finds out by itself: its consumer
// finds another message at its last sequence and its peers report another
// digest. It exits (75); restarted, as systemd or Kubernetes would, it takes
// a peer's snapshot and agrees again, with no operator step.
TEST(ClusterDivergenceTest, DivergedNodeExitsAndRepairsFromAPeerSnapshot) {
  OptoutCluster cluster(3, "OPTOUT_DIVERGE");
  cluster.RepairFromPeers();
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  std::vector<std::string> urls;
  uint64_t last = 0;
  for (int n = 0; n < 20; ++n) {
    urls.push_back(UniqueUrl("diverge", n));
    absl::StatusOr<v1::RegisterResponse> r = cluster.Register(n % 2, RegisterUrl(urls.back()));
    ASSERT_TRUE(r.ok()) << r.status();
    last = std::max(last, r->version());
  }
  ASSERT_TRUE(cluster.WaitApplied(2, last, absl::Seconds(20)));
  cluster.node(2).Kill();
  {
    absl::StatusOr<std::unique_ptr<storage::OptOutStore>> store =
        storage::OptOutStore::Open(cluster.node(2).data_dir(), storage::StoreOptions());
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::optional<std::string>> stored = (*store)->GetProgress();
    ASSERT_TRUE(stored.ok() && stored->has_value());
    absl::StatusOr<service::cluster::Progress> progress =
        service::cluster::Progress::Decode(**stored);
    ASSERT_TRUE(progress.ok()) << progress.status();
    progress->digest[0] ^= 0xff;  // another history up to here
    const std::string encoded = progress->Encode();
    ASSERT_TRUE((*store)->PutProgress(storage::ProgressMark{encoded}).ok());
  }
  ASSERT_TRUE(cluster.StartNode(2).ok()) << cluster.node(2).ReadLog();
  ASSERT_EQ(ExitStatusWithin(cluster.node(2), absl::Seconds(40)), 75) << cluster.node(2).ReadLog();
  EXPECT_THAT(cluster.node(2).ReadLog(), ::testing::HasSubstr("history diverged"));

  absl::Status repaired = cluster.StartNode(2);
  ASSERT_TRUE(repaired.ok()) << repaired << cluster.node(2).ReadLog();
  EXPECT_THAT(cluster.node(2).ReadLog(), ::testing::HasSubstr("installed the snapshot"));
  // Serving again: the stub's channel first drops its connection to the
  // process that exited (a call made at once may see it reset), as a client
  // waiting for readiness would.
  ASSERT_TRUE(cluster.WaitApplied(2, last, absl::Seconds(20)));
  urls.push_back(UniqueUrl("diverge", 99));
  absl::StatusOr<v1::RegisterResponse> r = cluster.Register(2, RegisterUrl(urls.back()));
  ASSERT_TRUE(r.ok()) << r.status();
  last = std::max(last, r->version());
  for (int i = 0; i < cluster.size(); ++i) ASSERT_TRUE(cluster.WaitApplied(i, last, absl::Seconds(20)));
  absl::StatusOr<v1::GetInfoResponse> a = cluster.Info(0);
  absl::StatusOr<v1::GetInfoResponse> c = cluster.Info(2);
  ASSERT_TRUE(a.ok() && c.ok());
  EXPECT_EQ(c->applied_version(), a->applied_version());
  EXPECT_EQ(c->applied_digest(), a->applied_digest());
  for (const std::string& url : urls) {
    absl::StatusOr<bool> matched = cluster.Matches(2, url);
    ASSERT_TRUE(matched.ok()) << matched.status();
    EXPECT_TRUE(*matched) << url;
  }
}


// Makes `stream` hold only its first `keep` messages (same sequences, same
// configuration): what a node sees when the stream lost its tail behind it
// (a quorum's power lost within JetStream's 2-minute sync window, or a
// replica the nats-server 2.9.10 defect shortened leading the stream).
absl::Status TruncateStream(const std::string& nats_urls, const std::string& stream,
                            uint64_t keep) {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* info = nullptr;
  jsStreamInfo* made = nullptr;
  std::vector<natsMsg*> kept;
  const std::string first_url = nats_urls.substr(0, nats_urls.find(','));
  jsErrCode code = jsErrCode(0);
  natsStatus s = natsOptions_Create(&options);
  if (s == NATS_OK) s = natsOptions_SetURL(options, first_url.c_str());
  if (s == NATS_OK) s = natsConnection_Connect(&connection, options);
  if (s == NATS_OK) s = natsConnection_JetStream(&js, connection, nullptr);
  if (s == NATS_OK) s = js_GetStreamInfo(&info, js, stream.c_str(), nullptr, &code);
  for (uint64_t seq = 1; s == NATS_OK && seq <= keep; ++seq) {
    natsMsg* msg = nullptr;
    s = js_GetMsg(&msg, js, stream.c_str(), seq, nullptr, &code);
    if (s == NATS_OK) kept.push_back(msg);
  }
  if (s == NATS_OK) s = js_DeleteStream(js, stream.c_str(), nullptr, &code);
  if (s == NATS_OK) s = js_AddStream(&made, js, info->Config, nullptr, &code);
  for (size_t i = 0; s == NATS_OK && i < kept.size(); ++i) {
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    const std::string id = absl::StrCat("truncated-copy-", i + 1);
    pub.MsgId = id.c_str();
    jsPubAck* ack = nullptr;
    s = js_Publish(&ack, js, natsMsg_GetSubject(kept[i]), natsMsg_GetData(kept[i]),
                   natsMsg_GetDataLength(kept[i]), &pub, &code);
    if (s == NATS_OK && ack->Sequence != i + 1) s = NATS_ERR;
    if (ack != nullptr) jsPubAck_Destroy(ack);
  }
  absl::Status result =
      s == NATS_OK ? absl::OkStatus()
                   : absl::UnavailableError(absl::StrCat("NATS: ", natsStatus_GetText(s),
                                                         " (JetStream ", static_cast<int>(code), ")"));
  for (natsMsg* msg : kept) natsMsg_Destroy(msg);
  if (made != nullptr) jsStreamInfo_Destroy(made);
  if (info != nullptr) jsStreamInfo_Destroy(info);
  if (js != nullptr) jsCtx_Destroy(js);
  if (connection != nullptr) natsConnection_Destroy(connection);
  if (options != nullptr) natsOptions_Destroy(options);
  return result;
}

// An acknowledged write is never repaired away. Node 0 alone acknowledges a
// revoke and a registration (nodes 1 and 2 down); then the stream loses
// them (truncated behind node 0) and nodes 1 and 2 go on with `later_writes`
// other messages from that sequence. Node 0's history is no longer the
// stream's: it re-publishes the writes it acknowledged that the stream's
// leader lacks, exits (75), takes a peer's snapshot, and every node then
// holds both writes. (main's build before this: node 0 stayed ahead of the
// stream with both writes, which nodes 1 and 2 never got, or, once the
// stream was longer, was repaired to its peers' history and both writes
// were lost on every node.)
void ExpectAcknowledgedWritesSurviveALostTail(const std::string& stream, int later_writes) {
  OptoutCluster cluster(3, stream);
  cluster.RepairFromPeers();
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string revoked_url = UniqueUrl("tail", 0);
  absl::StatusOr<v1::RegisterResponse> to_revoke = cluster.Register(1, RegisterUrl(revoked_url));
  ASSERT_TRUE(to_revoke.ok()) << to_revoke.status();
  uint64_t shared = to_revoke->version();
  for (int n = 1; n < 6; ++n) {
    absl::StatusOr<v1::RegisterResponse> r = cluster.Register(n % 3, RegisterUrl(UniqueUrl("tail", n)));
    ASSERT_TRUE(r.ok()) << r.status();
    shared = std::max(shared, r->version());
  }
  for (int i = 0; i < cluster.size(); ++i) ASSERT_TRUE(cluster.WaitApplied(i, shared, absl::Seconds(20)));
  cluster.node(1).Kill();
  cluster.node(2).Kill();
  absl::StatusOr<v1::RevokeResponse> revoked =
      cluster.Revoke(0, to_revoke->opt_out_id(), to_revoke->manage_token());
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  const std::string alone_url = UniqueUrl("tail", 100);
  absl::StatusOr<v1::RegisterResponse> alone = cluster.Register(0, RegisterUrl(alone_url));
  ASSERT_TRUE(alone.ok()) << alone.status();
  ASSERT_GT(alone->version(), shared);
  cluster.node(0).Kill();

  absl::Status truncated = TruncateStream(cluster.nats().Urls(), stream, shared);
  ASSERT_TRUE(truncated.ok()) << truncated;
  ASSERT_TRUE(cluster.StartNode(1).ok()) << cluster.node(1).ReadLog();
  ASSERT_TRUE(cluster.StartNode(2).ok()) << cluster.node(2).ReadLog();
  // Other messages where node 0 applied its writes alone.
  ASSERT_TRUE(cluster.WaitApplied(1, shared, absl::Seconds(20)));
  std::vector<std::string> later_urls;
  for (int n = 0; n < later_writes; ++n) {
    later_urls.push_back(UniqueUrl("tail", 200 + n));
    absl::StatusOr<v1::RegisterResponse> later = cluster.Register(1, RegisterUrl(later_urls.back()));
    ASSERT_TRUE(later.ok()) << later.status();
    ASSERT_EQ(later->version(), shared + 1 + n);
  }

  // Behind a longer stream, node 0 finds out while catching up, before it
  // listens; ahead of a shorter one, once it serves.
  absl::Status restarted = cluster.StartNode(0);
  if (!restarted.ok()) {
    ASSERT_THAT(std::string(restarted.message()), ::testing::HasSubstr("status 75"))
        << restarted << "\n" << cluster.node(0).ReadLog();
  } else {
    ASSERT_EQ(ExitStatusWithin(cluster.node(0), absl::Seconds(40)), 75)
        << cluster.node(0).ReadLog();
  }
  EXPECT_THAT(cluster.node(0).ReadLog(), ::testing::HasSubstr("re-published 2 write(s)"));
  absl::Status repaired = cluster.StartNode(0);
  ASSERT_TRUE(repaired.ok()) << repaired << cluster.node(0).ReadLog();
  EXPECT_THAT(cluster.node(0).ReadLog(), ::testing::HasSubstr("installed the snapshot"));

  absl::StatusOr<v1::GetInfoResponse> head = cluster.Info(1);
  ASSERT_TRUE(head.ok()) << head.status();
  later_urls.push_back(alone_url);
  for (int i = 0; i < cluster.size(); ++i) {
    ASSERT_TRUE(cluster.WaitApplied(i, head->applied_version(), absl::Seconds(20))) << i;
    for (const std::string& url : later_urls) {
      absl::StatusOr<bool> matched = cluster.Matches(i, url);
      ASSERT_TRUE(matched.ok()) << matched.status();
      EXPECT_TRUE(*matched) << "node " << i << " lost " << url;
    }
    absl::StatusOr<bool> matched = cluster.Matches(i, revoked_url);
    ASSERT_TRUE(matched.ok()) << matched.status();
    EXPECT_FALSE(*matched) << "node " << i << " lost the acknowledged revoke";
  }
  absl::StatusOr<v1::GetInfoResponse> a = cluster.Info(1);
  for (int i : {0, 2}) {
    ASSERT_TRUE(cluster.WaitApplied(i, a->applied_version(), absl::Seconds(20)));
    absl::StatusOr<v1::GetInfoResponse> b = cluster.Info(i);
    ASSERT_TRUE(a.ok() && b.ok());
    if (b->applied_version() == a->applied_version()) {
      EXPECT_EQ(b->applied_digest(), a->applied_digest()) << "node " << i;
    }
  }
}

TEST(ClusterDivergenceTest, AcknowledgedWritesAheadOfAShorterStreamAreRepublished) {
  ExpectAcknowledgedWritesSurviveALostTail("OPTOUT_TAIL_AHEAD", 1);
}

TEST(ClusterDivergenceTest, AcknowledgedWritesAStreamReplacedAreRepublishedNotRepairedAway) {
  ExpectAcknowledgedWritesSurviveALostTail("OPTOUT_TAIL_BEHIND", 4);
}

}  // namespace
}  // namespace optout::testing

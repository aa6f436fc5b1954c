// File: tests/e2e/adversarial_revoke_cluster_test.cc
//
// A revoke of an opt-out a cluster node does not hold asks the stream's
// leader for its last sequence before answering NOT_FOUND (read-your-writes
// across nodes). Revoke takes any id and token, so random ones drove one
// stream query, and up to a second of a write thread, per call. Now the
// node shares one query among the revokes waiting for it and starts at most
// one per Registry::kCatchUpQueryInterval, and each client address gets
// --revoke_catch_up_rate_per_peer such revokes a minute (RESOURCE_EXHAUSTED
// past it), whether they come over gRPC or the JSON API's DELETE. Real
// nats-server and optoutd on loopback; about 15 s each.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "service/registry.h"
#include "tests/e2e/adversarial_util.h"
#include "tests/e2e/cluster_fixture.h"
#include "tests/e2e/metrics_scrape.h"

namespace optout::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kQueries[] = "optout_revoke_catch_up_queries_total";
constexpr char kCatchUps[] = "optout_revoke_catch_ups_total";
constexpr char kRefused[] = "optout_limit_rejections_total{limit=\"revoke_catch_up_rate_per_peer\"}";

std::string RandomHex(std::mt19937_64& rng, int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(chars, '0');
  for (char& c : hex) c = kHex[rng() % 16];
  return hex;
}

v1::RegisterRequest RegisterUrl(std::mt19937_64& rng, int n) {
  v1::RegisterRequest request;
  request.add_urls(absl::StrCat("https://revlimit.cluster.example/", n, "/", rng(), ".jpg"));
  return request;
}

class AdversarialRevokeClusterTest : public ::testing::Test {
 protected:
  // Two optoutd nodes (three NATS servers) serving metrics.
  void StartCluster(int revoke_catch_up_rate, std::vector<std::string> flags = {}) {
    flags.push_back("--metrics_listen=127.0.0.1:0");
    flags.push_back(absl::StrCat("--revoke_catch_up_rate_per_peer=", revoke_catch_up_rate));
    cluster_ = std::make_unique<OptoutCluster>(2, "OPTOUT_REVLIMIT", std::move(flags));
    const absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
    for (int i = 0; i < cluster_->size(); ++i) {
      metrics_ports_.push_back(
          PortFromLog(cluster_->node(i).ReadLog(), "serving metrics on port "));
      ASSERT_GT(metrics_ports_.back(), 0) << cluster_->node(i).ReadLog();
    }
  }
  // Series -> value on node i; empty (and a failure) when it cannot be read.
  std::map<std::string, double> Metrics(int i) {
    absl::StatusOr<std::map<std::string, double>> m = ScrapeMetrics(metrics_ports_[i]);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : std::map<std::string, double>();
  }

  std::unique_ptr<OptoutCluster> cluster_;
  std::vector<int> metrics_ports_;
};

// A flood of random-id revokes on one node, with no per-peer limit: the
// stream queries it costs stay within one per kCatchUpQueryInterval of
// the flood's length however many revokes came, every revoke still gets
// its NOT_FOUND, and meanwhile Health and GetInfo answer, and a revoke of
// an opt-out registered on the other node a moment before finds it.
// Some flooders also send a min_version no answer gave, with a long
// deadline: each is answered UNAVAILABLE after Registry::kMinVersionGrace
// instead of holding a write thread until its deadline; so is a check.
TEST_F(AdversarialRevokeClusterTest, RandomRevokesShareStreamQueriesAndOtherCallsGoOn) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(/*revoke_catch_up_rate=*/0));
  constexpr int kFlooders = 24;
  constexpr int kFutureVersionFlooders = 4;  // of kFlooders
  constexpr absl::Duration kFlood = absl::Seconds(5);

  const std::map<std::string, double> before = Metrics(0);
  const absl::Time flood_start = absl::Now();
  std::atomic<bool> stop{false};
  std::atomic<int> not_found{0};
  std::atomic<int> future_refused{0};
  absl::Mutex mu;
  std::vector<std::string> other_answers;  // anything but NOT_FOUND, for the report
  std::vector<std::thread> flooders;
  for (int f = 0; f < kFlooders; ++f) {
    flooders.emplace_back([&, f] {
      std::mt19937_64 rng(7000 + f);
      const bool future = f < kFutureVersionFlooders;
      while (!stop) {
        absl::StatusOr<v1::RevokeResponse> r =
            future ? cluster_->Revoke(0, RandomHex(rng, 32), RandomHex(rng, 64),
                                      absl::Seconds(20), uint64_t{1} << 60)
                   : cluster_->Revoke(0, RandomHex(rng, 32), RandomHex(rng, 64), absl::Seconds(5));
        if (!future && absl::IsNotFound(r.status())) {
          ++not_found;
          continue;
        }
        if (future && absl::IsUnavailable(r.status()) &&
            absl::StrContains(r.status().message(), "past the last version")) {
          ++future_refused;
          continue;
        }
        absl::MutexLock lock(&mu);
        other_answers.push_back(r.status().ToString());
      }
    });
  }

  // Health and GetInfo on their own channel, every 50 ms through the flood.
  auto channel = grpc::CreateChannel(cluster_->node(0).address(), grpc::InsecureChannelCredentials());
  int probes = 0;
  int failed_probes = 0;
  absl::Duration slowest_probe;
  // Read-your-writes under the flood: register on node 1, revoke on node 0
  // at once (no min_version).
  std::mt19937_64 rng(42);
  int pairs = 0;
  std::vector<std::string> pair_failures;
  while (absl::Now() - flood_start < kFlood) {
    for (absl::Duration d : {TimedHealthCheck(channel), TimedGetInfo(channel)}) {
      ++probes;
      if (d == absl::InfiniteDuration()) ++failed_probes;
      else slowest_probe = std::max(slowest_probe, d);
    }
    if (pairs < 10) {
      absl::StatusOr<v1::RegisterResponse> registered = cluster_->Register(1, RegisterUrl(rng, pairs));
      if (!registered.ok()) {
        pair_failures.push_back(absl::StrCat("register: ", registered.status().ToString()));
      } else {
        absl::StatusOr<v1::RevokeResponse> revoked =
            cluster_->Revoke(0, registered->opt_out_id(), registered->manage_token());
        if (!revoked.ok()) {
          pair_failures.push_back(absl::StrCat("revoke: ", revoked.status().ToString()));
        }
      }
      ++pairs;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  const absl::Time check_sent = absl::Now();
  absl::StatusOr<bool> future_check = cluster_->Matches(
      0, "https://revlimit.cluster.example/none.jpg", uint64_t{1} << 60, absl::Seconds(20));
  const absl::Duration check_took = absl::Now() - check_sent;
  stop = true;
  for (std::thread& t : flooders) t.join();
  const absl::Duration elapsed = absl::Now() - flood_start;
  const std::map<std::string, double> after = Metrics(0);

  const double queries = after.at(kQueries) - before.at(kQueries);
  const double catch_ups = after.at(kCatchUps) - before.at(kCatchUps);
  const double most_queries =
      1 + absl::FDivDuration(elapsed, service::Registry::kCatchUpQueryInterval);
  std::cout << not_found << " random revokes answered NOT_FOUND and " << future_refused
            << " with a future min_version UNAVAILABLE in " << elapsed << "; "
            << catch_ups << " caught up with " << queries << " stream queries (at most "
            << most_queries << " allowed); " << probes << " health/info probes, slowest "
            << slowest_probe << "\n";

  EXPECT_TRUE(other_answers.empty()) << other_answers.size() << " revokes answered otherwise, first: "
                                     << other_answers.front();
  EXPECT_GT(not_found.load(), kFlooders);
  // Before, each waited for its 20 s deadline: one answer per flooder.
  EXPECT_GT(future_refused.load(), 3 * kFutureVersionFlooders);
  EXPECT_GE(catch_ups, not_found.load() + future_refused.load());
  EXPECT_LE(queries, most_queries);
  // Revokes waiting together share one query.
  EXPECT_LT(queries, catch_ups);
  EXPECT_EQ(failed_probes, 0) << "of " << probes;
  EXPECT_EQ(future_check.status().code(), absl::StatusCode::kUnavailable) << future_check.status();
  EXPECT_THAT(future_check.status().message(), HasSubstr("past the last version"));
  EXPECT_LT(check_took, absl::Seconds(10));
  EXPECT_EQ(pairs, 10);
  EXPECT_TRUE(pair_failures.empty()) << pair_failures.front();
}

// With a per-peer limit of 5, the sixth revoke of an unknown opt-out in a
// minute from one address is refused with RESOURCE_EXHAUSTED and a retry
// delay, without a stream query; revokes of opt-outs the node holds are
// not counted, and the other node keeps its own budget.
TEST_F(AdversarialRevokeClusterTest, RevokesOfUnknownOptOutsPastThePeersRateAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(/*revoke_catch_up_rate=*/5));
  std::mt19937_64 rng(99);
  const std::map<std::string, double> before = Metrics(0);
  for (int n = 0; n < 5; ++n) {
    absl::StatusOr<v1::RevokeResponse> r = cluster_->Revoke(0, RandomHex(rng, 32), RandomHex(rng, 64));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << "revoke " << n << ": " << r.status();
  }
  for (int n = 5; n < 10; ++n) {
    absl::StatusOr<v1::RevokeResponse> r = cluster_->Revoke(0, RandomHex(rng, 32), RandomHex(rng, 64));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << "revoke " << n << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("--revoke_catch_up_rate_per_peer"));
    EXPECT_THAT(r.status().message(), HasSubstr("retry in"));
  }
  const std::map<std::string, double> after = Metrics(0);
  EXPECT_EQ(after.at(kRefused) - before.at(kRefused), 5);
  EXPECT_EQ(after.at(kCatchUps) - before.at(kCatchUps), 5);
  EXPECT_LE(after.at(kQueries) - before.at(kQueries), 5);

  // Held here (Register answers once this node applied it): not counted.
  absl::StatusOr<v1::RegisterResponse> registered = cluster_->Register(0, RegisterUrl(rng, 0));
  ASSERT_TRUE(registered.ok()) << registered.status();
  absl::StatusOr<v1::RevokeResponse> revoked =
      cluster_->Revoke(0, registered->opt_out_id(), registered->manage_token());
  EXPECT_TRUE(revoked.ok()) << revoked.status();

  absl::StatusOr<v1::RevokeResponse> elsewhere =
      cluster_->Revoke(1, RandomHex(rng, 32), RandomHex(rng, 64));
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kNotFound) << elsewhere.status();
}

// The JSON API's DELETE /v1/optouts/{id} draws on the same per-address
// budget as gRPC Revoke (one limiter per node, keyed by address): past it
// a DELETE gets 429 with Retry-After and a message naming the flag, and a
// gRPC revoke from the same address is refused too.
TEST_F(AdversarialRevokeClusterTest, HttpDeletesShareTheRevokeLimitWithGrpcAndGet429) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(/*revoke_catch_up_rate=*/5, {"--http_listen=127.0.0.1:0"}));
  const int http_port = PortFromLog(cluster_->node(0).ReadLog(), "HTTP (JSON API and web page) on port ");
  ASSERT_GT(http_port, 0) << cluster_->node(0).ReadLog();
  httplib::Client http("127.0.0.1", http_port);
  http.set_read_timeout(15, 0);
  std::mt19937_64 rng(7);
  auto http_delete = [&](const std::string& id, const std::string& token) {
    return http.Delete(("/v1/optouts/" + id).c_str(), {{"Authorization", "Bearer " + token}});
  };
  const std::map<std::string, double> before = Metrics(0);
  for (int n = 0; n < 3; ++n) {
    absl::StatusOr<v1::RevokeResponse> r = cluster_->Revoke(0, RandomHex(rng, 32), RandomHex(rng, 64));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << "gRPC revoke " << n << ": " << r.status();
  }
  for (int n = 3; n < 5; ++n) {
    httplib::Result r = http_delete(RandomHex(rng, 32), RandomHex(rng, 64));
    ASSERT_TRUE(r) << "no answer to DELETE " << n;
    EXPECT_EQ(r->status, 404) << "DELETE " << n << ": " << r->body;
  }
  httplib::Result refused = http_delete(RandomHex(rng, 32), RandomHex(rng, 64));
  ASSERT_TRUE(refused) << "no answer to the DELETE past the limit";
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_THAT(refused->body, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_THAT(refused->body, HasSubstr("--revoke_catch_up_rate_per_peer"));
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty()) << "a 429 says when to retry";
  absl::StatusOr<v1::RevokeResponse> grpc_refused =
      cluster_->Revoke(0, RandomHex(rng, 32), RandomHex(rng, 64));
  EXPECT_EQ(grpc_refused.status().code(), absl::StatusCode::kResourceExhausted) << grpc_refused.status();
  const std::map<std::string, double> after = Metrics(0);
  EXPECT_EQ(after.at(kRefused) - before.at(kRefused), 2);
  EXPECT_EQ(after.at(kCatchUps) - before.at(kCatchUps), 5);

  // An opt-out this node holds needs no catch-up: its DELETE goes through.
  absl::StatusOr<v1::RegisterResponse> registered = cluster_->Register(0, RegisterUrl(rng, 1));
  ASSERT_TRUE(registered.ok()) << registered.status();
  httplib::Result revoked = http_delete(registered->opt_out_id(), registered->manage_token());
  ASSERT_TRUE(revoked) << "no answer to the DELETE of a held opt-out";
  EXPECT_EQ(revoked->status, 200) << revoked->body;
}

}  // namespace
}  // namespace optout::testing

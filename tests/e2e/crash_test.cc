// Durability: optoutd is killed with SIGKILL at random moments while
// registrations stream in. After every restart each acknowledged opt-out is
// present and matches on all of its items, and every opt-out that exists is
// whole (all of its items match, never a part).
#include <atomic>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/registry_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

struct Attempt {
  std::string url;
  std::string pdq;
  std::string sha256;
  bool acknowledged = false;
  std::string id;
};

Attempt MakeAttempt(int n, std::mt19937_64& rng) {
  Attempt a;
  a.url = "https://crash.example/" + std::to_string(n) + "/" + std::to_string(rng()) + ".jpg";
  a.pdq = testing::BalancedRandomPdq(rng);
  a.sha256.resize(32);
  for (char& c : a.sha256) c = static_cast<char>(rng());
  return a;
}

// Returns how many of the attempt's three items match, and the ids seen.
int MatchingItems(client::RegistryClient& client, const Attempt& a, std::string* id) {
  v1::CheckRequest check;
  check.add_items()->set_url(a.url);
  check.add_items()->mutable_pdq()->set_hash(a.pdq);
  check.add_items()->set_sha256(a.sha256);
  auto response = client.Check(check);
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok()) return -1;
  int n = 0;
  for (const auto& r : response->results()) {
    if (r.matched()) {
      ++n;
      *id = r.match_ids(0);  // the last matched item's: the SHA-256
    }
  }
  return n;
}

TEST(CrashTest, AcknowledgedOptOutsSurviveSigkillAndNoneIsPartial) {
  constexpr int kKills = 20;
  constexpr int kWriters = 4;
  std::mt19937_64 rng(20261126);
  testing::OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();

  absl::Mutex mu;
  std::vector<Attempt> attempts;
  int total_acked = 0;
  for (int round = 0; round < kKills; ++round) {
    auto client = client::RegistryClient::Create(server.address());
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        std::mt19937_64 local(rng() + w + round * 1000);
        while (!stop.load()) {
          size_t index;
          v1::RegisterRequest request;
          {
            absl::MutexLock lock(&mu);
            attempts.push_back(MakeAttempt(static_cast<int>(attempts.size()), local));
            index = attempts.size() - 1;
            request.add_urls(attempts[index].url);
            v1::PdqHash* pdq = request.add_pdq();
            pdq->set_hash(attempts[index].pdq);
            pdq->set_quality(100);
            request.add_sha256(attempts[index].sha256);
          }
          auto response = client->Register(request);
          if (!response.ok()) return;  // the server died under us
          absl::MutexLock lock(&mu);
          attempts[index].acknowledged = true;
          // Items answer as url, pdq, sha256: the SHA-256 item's match id.
          attempts[index].id = response->items(2).match_id();
        }
      });
    }
    // A random moment 5..150 ms into the stream.
    absl::SleepFor(absl::Milliseconds(5 + rng() % 145));
    server.Kill();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(server.Start().ok()) << server.ReadLog();

    auto verifier = client::RegistryClient::Create(server.address());
    absl::MutexLock lock(&mu);
    int acked = 0;
    for (const Attempt& a : attempts) {
      std::string id;
      const int matching = MatchingItems(*verifier, a, &id);
      ASSERT_TRUE(matching == 0 || matching == 3)
          << "partial opt-out: " << matching << " of 3 items match for " << a.url;
      if (a.acknowledged) {
        ++acked;
        ASSERT_EQ(matching, 3) << "acknowledged opt-out lost: " << a.url;
        EXPECT_EQ(id, a.id);
      }
    }
    total_acked = acked;
  }
  EXPECT_GT(total_acked, kKills) << "the test should have seen registrations acknowledged";
  std::cout << "crash test: " << kKills << " SIGKILLs, " << total_acked
            << " acknowledged of " << attempts.size() << " attempted registrations\n";
}

}  // namespace
}  // namespace optout

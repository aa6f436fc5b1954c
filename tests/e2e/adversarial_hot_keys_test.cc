// File: tests/e2e/adversarial_hot_keys_test.cc
//
// Issue 9, finding 1: any number of opt-outs may register the same URL or
// scope, and before the fix a checked item that hit such a key cost O(N^2)
// (50,000 opt-outs: seconds per item). Now an item reads at most 16 values of
// a key, so checking the hot URL costs about what checking a URL of 16
// opt-outs costs (the same answer): what the 50,000 add costs less than a
// whole check of a URL registered once. Bounded: about 20 s and 300 MB.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <thread>
#include <vector>

#include "client/common/url/public_suffix_list.h"
#include "client/registry_client.h"
#include "gtest/gtest.h"
#include "service/keyring.h"
#include "service/registry.h"
#include "service/registry_secret.h"
#include "service/verify/testing/fake_scope_verifier.h"
#include "storage/opt_out_store.h"
#include "tests/e2e/optoutd_process.h"

namespace optout {
namespace {

constexpr char kHotUrl[] = "https://hot.example/photo.jpg";
constexpr char kHotScope[] = "https://hot.example/";
constexpr char kWarmUrl[] = "https://warm.example/photo.jpg";
constexpr char kColdUrl[] = "https://cold.example/photo.jpg";
constexpr int kIdsPerAnswer = 16;
constexpr int kHotOptOuts = 50000;
constexpr int kItems = 1000;

v1::RegisterRequest HotRegistration() {
  v1::RegisterRequest request;
  request.add_urls(kHotUrl);
  request.add_scopes(kHotScope);
  return request;
}

// Writes the opt-outs straight into the server's data folder with the
// registry core, before the server starts: 50,000 registrations through
// gRPC would take most of the time budget on a shared machine, and what is
// under test is the check, not registration. Writes skip the fsync (the
// data is thrown away after the test).
absl::Status Prepopulate(const testing::OptoutdProcess& server) {
  auto secret = service::LoadOrCreateRegistrySecret(server.secret_file());
  if (!secret.ok()) return secret.status();
  auto keyring = service::Keyring::Derive(*secret);
  if (!keyring.ok()) return keyring.status();
  auto psl = url::PublicSuffixList::Load();
  if (!psl.ok()) return psl.status();
  storage::StoreOptions store_options;
  store_options.sync_writes = false;
  auto store = storage::OptOutStore::Open(server.data_dir(), store_options);
  if (!store.ok()) return store.status();
  // Scopes match only once their host is proven: the owners' proof is
  // stood in for here, so that the scope entries share the hot key as they
  // would (tests/e2e/scopes_e2e_test.cc covers the proof itself).
  verify::testing::FakeScopeVerifier owners_proof;
  service::RegistryOptions options;
  options.scope_verifier = &owners_proof;
  auto registry = service::Registry::Open(store->get(), std::move(*keyring), psl->get(), options);
  if (!registry.ok()) return registry.status();
  auto register_proven = [&](const v1::RegisterRequest& request) -> absl::Status {
    auto registered = (*registry)->Register(request);
    if (!registered.ok()) return registered.status();
    v1::VerifyRequest verify;
    verify.set_opt_out_id(registered->opt_out_id());
    verify.set_manage_token(registered->manage_token());
    return (*registry)->Verify(verify).status();
  };
  for (int i = 0; i < kHotOptOuts; ++i) {
    if (absl::Status s = register_proven(HotRegistration()); !s.ok()) return s;
  }
  for (int i = 0; i < kIdsPerAnswer; ++i) {
    v1::RegisterRequest warm;
    warm.add_urls(kWarmUrl);
    warm.add_scopes("https://warm.example/");
    if (absl::Status s = register_proven(warm); !s.ok()) return s;
  }
  v1::RegisterRequest cold;
  cold.add_urls(kColdUrl);
  return (*registry)->Register(cold).status();
}

v1::CheckRequest CheckOf(const std::string& url) {
  v1::CheckRequest request;
  for (int i = 0; i < kItems; ++i) request.add_items()->set_url(url);
  return request;
}

// CPU time (user + system) process `pid` has used so far, in seconds, at
// nanosecond resolution (its process CPU clock).
double ProcessCpuSeconds(pid_t pid) {
  clockid_t clock;
  timespec ts;
  if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) return -1;
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Cost {
  double wall = 1e9;  // seconds per check, as the client sees it
  double cpu = 1e9;   // server CPU seconds per check
};

// Blocks of runs of the requests take turns, and each request keeps its
// cheapest block: the machine is shared, and waiting for a core or caches
// thrashed by others say nothing about the check.
std::vector<Cost> CheapestBlocks(const testing::OptoutdProcess& server,
                                 client::RegistryClient& client,
                                 const std::vector<v1::CheckRequest>& requests,
                                 std::vector<v1::CheckResponse>* responses) {
  constexpr int kBlocks = 10;
  constexpr int kRunsPerBlock = 10;
  std::vector<Cost> best(requests.size());
  responses->resize(requests.size());
  for (int block = 0; block < kBlocks; ++block) {
    for (size_t which = 0; which < requests.size(); ++which) {
      const double cpu_start = ProcessCpuSeconds(server.pid());
      const auto wall_start = std::chrono::steady_clock::now();
      for (int run = 0; run < kRunsPerBlock; ++run) {
        auto checked = client.Check(requests[which]);
        EXPECT_TRUE(checked.ok()) << checked.status();
        if (!checked.ok()) return best;
        (*responses)[which] = std::move(*checked);
      }
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      const double cpu = ProcessCpuSeconds(server.pid()) - cpu_start;
      best[which].wall = std::min(best[which].wall, wall / kRunsPerBlock);
      best[which].cpu = std::min(best[which].cpu, cpu / kRunsPerBlock);
    }
  }
  return best;
}

TEST(AdversarialHotKeysTest, CheckingAUrlOf50000OptOutsCostsWhatOneOf16Costs) {
  testing::OptoutdProcess server;
  ASSERT_TRUE(Prepopulate(server).ok());
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  auto client = client::RegistryClient::Create(server.address());

  // A few more through the server itself, concurrently: the online Add path
  // keeps a hot key's values in order as the start-up load does.
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 40; ++i) failures += !client->Register(HotRegistration()).ok();
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);

  // The same 1,000-item check of a URL (and scope) shared by 50,000
  // opt-outs, by 16 (the answer is just as long), and registered once.
  std::vector<v1::CheckResponse> responses;
  const std::vector<Cost> cost = CheapestBlocks(
      server, *client, {CheckOf(kHotUrl), CheckOf(kWarmUrl), CheckOf(kColdUrl)}, &responses);
  const Cost& hot = cost[0];
  const Cost& warm = cost[1];
  const Cost& cold = cost[2];
  for (int which = 0; which < 3; ++which) {
    ASSERT_EQ(responses[which].results_size(), kItems);
    for (const auto& result : responses[which].results()) {
      ASSERT_EQ(result.kind(), v1::MATCH_KIND_URL);  // the exact URL outranks the scope
      ASSERT_EQ(result.match_ids_size(), which == 2 ? 1 : kIdsPerAnswer);
    }
  }
  std::printf("1,000-item check, server CPU (client wall) per check:\n"
              "  URL of 50,000 opt-outs %.2f ms (%.2f ms)\n"
              "  URL of 16 opt-outs     %.2f ms (%.2f ms)\n"
              "  URL of 1 opt-out       %.2f ms (%.2f ms)\n"
              "  ratios 50,000/16: %.2f (%.2f); 50,000/1: %.2f (%.2f)\n",
              hot.cpu * 1e3, hot.wall * 1e3, warm.cpu * 1e3, warm.wall * 1e3, cold.cpu * 1e3,
              cold.wall * 1e3, hot.cpu / warm.cpu, hot.wall / warm.wall, hot.cpu / cold.cpu,
              hot.wall / cold.wall);
  // Against 16 opt-outs the answers are the same and what remains is the
  // lookup, which must not grow with the number of opt-outs sharing the key:
  // what the 50,000 add beyond an answer of the same length must cost less
  // than a whole check of a URL registered once. The plain ratio to that
  // URL is printed but not bounded: it is mostly the price of writing 16 ids
  // per item instead of 1, which varies by machine (3.3-3.7x here, 4.02x on
  // the CI machine at 8c75788).
  EXPECT_LE(hot.cpu, 3 * warm.cpu);
  EXPECT_LE(hot.cpu - warm.cpu, cold.cpu);
}

}  // namespace
}  // namespace optout

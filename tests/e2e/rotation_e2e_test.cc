// End to end (issue 16): `optout-admin rotate-keys` moves every stored
// opt-out to a new key version while a real optoutd serves checks and takes
// registrations; checks keep matching throughout, registrations made during
// the rotation land in the new version, the old version is gone at the end
// (every record on disk is of the new one), a SIGKILL mid-rotation resumes
// at restart, and a rotation to a new secret file works the same way.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/stored_versions.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::CommandResult;
using testing::RunAdmin;
using testing::RunCommand;
using testing::StoredVersions;

std::string UrlOf(int i) { return absl::StrCat("https://img.example.org/rotate/", i, ".jpg"); }

// Registers opt-outs first..first+count-1 from 4 threads; returns their
// URL match ids by number.
std::map<int, std::string> RegisterMany(const std::string& address, int first, int count) {
  std::mutex mu;
  std::map<int, std::string> ids;
  std::vector<std::thread> writers;
  std::atomic<int> next{first};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      auto client = client::RegistryClient::Create(address);
      for (int i; (i = next.fetch_add(1)) < first + count;) {
        v1::RegisterRequest request;
        request.set_request_id(testing::RequestIdFor(absl::StrCat("rotate-", i)));
        request.add_urls(UrlOf(i));
        auto answer = client->Register(request);
        if (!answer.ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        ids[i] = answer->items(0).match_id();
      }
    });
  }
  for (auto& writer : writers) writer.join();
  return ids;
}

// Of opt-outs 0..count-1 (those in `skip` left out), how many match.
int Matching(client::RegistryClient& client, int count) {
  int matching = 0;
  for (int first = 0; first < count; first += 500) {
    v1::CheckRequest check;
    const int last = std::min(count, first + 500);
    for (int i = first; i < last; ++i) check.add_items()->set_url(UrlOf(i));
    auto answer = client.Check(check);
    if (!answer.ok()) return -1;
    for (const auto& result : answer->results()) matching += result.matched() ? 1 : 0;
  }
  return matching;
}

// Match id a check reports now for opt-out i.
std::string MatchIdNow(client::RegistryClient& client, int i) {
  v1::CheckRequest check;
  check.add_items()->set_url(UrlOf(i));
  auto answer = client.Check(check);
  if (!answer.ok() || answer->results(0).match_ids_size() == 0) return "";
  return answer->results(0).match_ids(0);
}

TEST(RotationE2eTest, ChecksKeepMatchingUnderLoadAndNewRegistrationsLandInTheNewVersion) {
  // Small, paced batches: the rotation lasts long enough to run under load.
  testing::OptoutdProcess server({"--key_rotation_batch=100", "--key_rotation_pause_ms=40"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  constexpr int kBefore = 3000;
  const std::map<int, std::string> before = RegisterMany(server.address(), 0, kBefore);
  ASSERT_EQ(static_cast<int>(before.size()), kBefore);

  CommandResult started = RunAdmin(server, {"rotate-keys", "--no-wait"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  EXPECT_THAT(started.out, HasSubstr("version 1 -> 2"));

  // Load while it runs: checkers of everything registered before, and a
  // writer whose opt-outs must match at once.
  std::atomic<bool> stop{false};
  std::atomic<int> check_rounds{0}, misses{0}, errors{0};
  std::vector<std::thread> checkers;
  for (int c = 0; c < 2; ++c) {
    checkers.emplace_back([&] {
      auto client = client::RegistryClient::Create(server.address());
      while (!stop.load()) {
        const int matching = Matching(*client, kBefore);
        if (matching < 0) ++errors;
        else misses += kBefore - matching;
        ++check_rounds;
      }
    });
  }
  std::map<int, std::string> during;
  std::thread writer([&] {
    auto client = client::RegistryClient::Create(server.address());
    for (int i = kBefore; !stop.load() && i < kBefore + 500; ++i) {
      v1::RegisterRequest request;
      request.set_request_id(testing::RequestIdFor(absl::StrCat("rotate-", i)));
      request.add_urls(UrlOf(i));
      auto answer = client->Register(request);
      if (!answer.ok()) {
        ++errors;
        continue;
      }
      during[i] = answer->items(0).match_id();
      if (MatchIdNow(*client, i) != during[i]) ++misses;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // The waiting form follows the rotation to its end.
  const CommandResult waited = RunAdmin(server, {"rotate-keys"});
  stop = true;
  for (auto& checker : checkers) checker.join();
  writer.join();
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_THAT(waited.out, HasSubstr("key rotation: done, version 1 -> 2"));
  EXPECT_THAT(waited.out, HasSubstr("3000 records re-keyed"))
      << "registrations during the rotation were of version 2 already";
  EXPECT_THAT(waited.err, HasSubstr("records re-keyed")) << "progress lines";
  EXPECT_GE(check_rounds.load(), 2) << "too few checks ran during the rotation";
  EXPECT_FALSE(during.empty());
  EXPECT_EQ(misses.load(), 0);
  EXPECT_EQ(errors.load(), 0);

  auto client = client::RegistryClient::Create(server.address());
  const int total = kBefore + static_cast<int>(during.size());
  EXPECT_EQ(Matching(*client, total), total);
  // Registrations during the rotation kept their match ids: they were made
  // with the new keys. Older ones are now named under the new keys too.
  for (const auto& [i, id] : during) ASSERT_EQ(MatchIdNow(*client, i), id) << i;
  EXPECT_NE(MatchIdNow(*client, 0), before.at(0));
  // A retry of an old registration finds it under its re-derived request key.
  v1::RegisterRequest retry;
  retry.set_request_id(testing::RequestIdFor("rotate-7"));
  retry.add_urls(UrlOf(7));
  auto retried = client->Register(retry);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->items(0).match_id(), MatchIdNow(*client, 7));
  EXPECT_EQ(Matching(*client, total + 1), total) << "no duplicate registered";

  const CommandResult status = RunAdmin(server, {"--json", "rotate-keys", "--status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("\"state\":\"STATE_DONE\""));

  // On disk: version 2 only.
  ASSERT_TRUE(server.Stop().ok()) << server.ReadLog();
  const std::map<uint32_t, int> versions = StoredVersions(server.data_dir());
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions.begin()->first, 2u);
  EXPECT_EQ(versions.begin()->second, total);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  client = client::RegistryClient::Create(server.address());
  EXPECT_EQ(Matching(*client, total), total);
}

TEST(RotationE2eTest, ASigkillMidRotationResumesAtRestartAndANewSecretRotatesTheSameWay) {
  testing::OptoutdProcess server({"--key_rotation_batch=50", "--key_rotation_pause_ms=50"});
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  constexpr int kCount = 2000;
  ASSERT_EQ(static_cast<int>(RegisterMany(server.address(), 0, kCount).size()), kCount);
  ASSERT_EQ(RunAdmin(server, {"rotate-keys", "--no-wait"}).exit_code, 0);
  // Kill it once some, not all, records moved.
  bool midway = false;
  for (int polls = 0; polls < 400 && !midway; ++polls) {
    const CommandResult status = RunAdmin(server, {"rotate-keys", "--status"});
    midway = status.out.find("running") != std::string::npos &&
             status.out.find(", 0 records re-keyed") == std::string::npos;
    if (!midway) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(midway);
  server.Kill();
  const std::map<uint32_t, int> mixed = StoredVersions(server.data_dir());
  ASSERT_EQ(mixed.size(), 2u) << "killed between the first and the last batch";

  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  EXPECT_THAT(server.ReadLog(), HasSubstr("resumes at"));
  auto client = client::RegistryClient::Create(server.address());
  EXPECT_EQ(Matching(*client, kCount), kCount) << "both versions served after the crash";
  const CommandResult waited = RunAdmin(server, {"rotate-keys"});
  ASSERT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_THAT(waited.out, HasSubstr("key rotation: done, version 1 -> 2"));
  EXPECT_THAT(waited.out, HasSubstr(absl::StrCat(kCount, " records re-keyed")));
  EXPECT_EQ(Matching(*client, kCount), kCount);

  // A new secret file: refused while an API key exists, then done.
  const std::string new_secret = server.root() + "/new.secret";
  ASSERT_EQ(RunAdmin(server, {"keys", "create", "--name", "k1"}).exit_code, 0);
  CommandResult refused = RunAdmin(server, {"rotate-keys", "--new-secret-file", new_secret});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("API keys exist"));
  EXPECT_THAT(refused.err, HasSubstr("[FAILED_PRECONDITION]"));
  ASSERT_EQ(RunAdmin(server, {"keys", "revoke", "k1"}).exit_code, 0);
  const CommandResult rotated = RunAdmin(server, {"rotate-keys", "--new-secret-file", new_secret});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_THAT(rotated.out, HasSubstr("key rotation: done, version 2 -> 3 of " + new_secret));
  EXPECT_THAT(rotated.err, HasSubstr("point optoutd's --secret_file at it"));
  EXPECT_EQ(Matching(*client, kCount), kCount);
  // Restarted with the old --secret_file, optoutd reads the one the
  // database names.
  ASSERT_TRUE(server.Stop().ok());
  const std::map<uint32_t, int> versions = StoredVersions(server.data_dir());
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions.begin()->first, 3u);
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  client = client::RegistryClient::Create(server.address());
  EXPECT_EQ(Matching(*client, kCount), kCount);
}

}  // namespace
}  // namespace optout

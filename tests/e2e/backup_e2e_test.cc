// End to end (issue 16): `optout-admin backup --to DIR` takes an online,
// consistent backup while the registry serves a stream of registrations,
// and `optout-admin restore --from DIR --data_dir D` brings it back: every
// opt-out acknowledged before the backup began is present and matches, and
// the restored registry takes new registrations. The secret travels apart.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/registry_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/optoutd_process.h"
#include "tests/e2e/test_inputs.h"

namespace optout {
namespace {

using ::testing::HasSubstr;
using testing::CommandResult;
using testing::RunAdmin;
using testing::RunCommand;

std::string UrlOf(int writer, int i) {
  return absl::StrCat("https://img.example.org/backup/", writer, "/", i, ".jpg");
}

struct Acked {
  std::string url;
  std::string id;
};

TEST(BackupE2eTest, BackupDuringRegistrationsRestoresEveryAcknowledgedOptOut) {
  testing::OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();

  // Four writers register until told to stop; each acknowledged opt-out is
  // recorded with the number of the backup phase it was acknowledged in.
  std::mutex mu;
  std::vector<Acked> before_backup;  // acknowledged before the backup began
  std::atomic<bool> backup_started{false};
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto client = client::RegistryClient::Create(server.address());
      for (int i = 0; !stop.load(); ++i) {
        // Read before the call: an opt-out counts as "before the backup"
        // only if its whole call happened before the backup began.
        const bool started_before = !backup_started.load();
        v1::RegisterRequest request;
        request.set_request_id(testing::RequestIdFor(absl::StrCat("backup-", w, "-", i)));
        request.add_urls(UrlOf(w, i));
        auto answer = client->Register(request);
        if (!answer.ok()) {
          ++failures;
          continue;
        }
        if (started_before && !backup_started.load()) {
          std::lock_guard<std::mutex> lock(mu);
          // The URL's match id: what a check names it by.
          before_backup.push_back({UrlOf(w, i), answer->items(0).match_id()});
        }
      }
    });
  }
  // Let registrations flow, then back up while they continue.
  for (int waited = 0; waited < 200; ++waited) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (before_backup.size() >= 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string backup_dir = server.root() + "/backups";
  backup_started = true;
  const CommandResult backup = RunAdmin(server, {"backup", "--to", backup_dir});
  // Keep writing a little after the backup, then stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_THAT(backup.out, HasSubstr("backup 1 in " + backup_dir));
  EXPECT_THAT(backup.err, HasSubstr("the registry secret is not in the backup"));
  EXPECT_EQ(failures.load(), 0);
  ASSERT_GE(before_backup.size(), 50u);
  // The backup folder is private, and holds no secret.
  struct stat st {};
  ASSERT_EQ(::stat(backup_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // A second registry on the restored data, with the secret copied apart.
  testing::OptoutdProcess restored;
  const CommandResult restore =
      RunCommand({testing::OptoutAdminBinary(), "restore", "--from", backup_dir, "--data_dir",
                  restored.data_dir()});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  std::filesystem::copy_file(server.secret_file(), restored.secret_file());
  ::chmod(restored.secret_file().c_str(), 0600);
  ASSERT_TRUE(restored.Start().ok()) << restored.ReadLog();
  auto client = client::RegistryClient::Create(restored.address());
  for (size_t first = 0; first < before_backup.size(); first += 100) {
    v1::CheckRequest check;
    const size_t last = std::min(before_backup.size(), first + 100);
    for (size_t i = first; i < last; ++i) check.add_items()->set_url(before_backup[i].url);
    auto answer = client->Check(check);
    ASSERT_TRUE(answer.ok()) << answer.status();
    for (size_t i = first; i < last; ++i) {
      const v1::ItemResult& result = answer->results(static_cast<int>(i - first));
      ASSERT_TRUE(result.matched()) << before_backup[i].url;
      ASSERT_EQ(result.match_ids(0), before_backup[i].id);
    }
  }
  // The restored registry takes new registrations.
  v1::RegisterRequest fresh;
  fresh.set_request_id(testing::RequestIdFor("after-restore"));
  fresh.add_urls("https://img.example.org/after-restore.jpg");
  ASSERT_TRUE(client->Register(fresh).ok());
  v1::CheckRequest check;
  check.add_items()->set_url("https://img.example.org/after-restore.jpg");
  auto answer = client->Check(check);
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE(answer->results(0).matched());
}

TEST(BackupE2eTest, RestoreRefusesADataFolderInUseAndBackupRefusesTheDataFolder) {
  testing::OptoutdProcess server;
  ASSERT_TRUE(server.Start().ok()) << server.ReadLog();
  const std::string backup_dir = server.root() + "/backups";
  CommandResult result = RunAdmin(server, {"backup", "--to", server.data_dir() + "/backup"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("inside the data folder"));
  EXPECT_THAT(result.err, HasSubstr("[INVALID_ARGUMENT]"));
  result = RunAdmin(server, {"backup", "--to", backup_dir});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Restoring over the live database is refused and changes nothing.
  result = RunCommand({testing::OptoutAdminBinary(), "restore", "--from", backup_dir,
                       "--data_dir", server.data_dir()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("already holds a database"));
  result = RunCommand({testing::OptoutAdminBinary(), "restore", "--from",
                       server.root() + "/no-backups", "--data_dir", server.root() + "/new"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("holds no backup"));
}

}  // namespace
}  // namespace optout

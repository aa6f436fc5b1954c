#include "client/psl_sync.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/common/digest/digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::client {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

// A list where github.io is NOT a public suffix (unlike Debian's), so that
// which list a client uses shows in its registrable domains.
constexpr char kServerList[] = "// VERSION: server-test-1\nio\ncom\n";

class PslSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/psl_sync_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.cache_dir = dir_ + "/cache";
    info_.set_psl_version("server-test-1");
    info_.set_psl_sha256(digest::ToHex(digest::Sha256(kServerList)));
  }

  // A fetcher answering the server's list (or `bytes`), counting calls.
  PslFetcher Fetcher(std::string bytes = kServerList) {
    return [this, bytes]() -> absl::StatusOr<v1::GetPublicSuffixListResponse> {
      ++fetches_;
      v1::GetPublicSuffixListResponse r;
      r.set_list(bytes);
      r.set_version("server-test-1");
      r.set_sha256(info_.psl_sha256());
      return r;
    };
  }

  std::string dir_;
  PslSyncOptions options_;
  v1::GetInfoResponse info_;
  int fetches_ = 0;
};

TEST_F(PslSyncTest, TheSameListIsUsedFromThisMachineWithoutANote) {
  auto local = url::PublicSuffixList::Load();
  ASSERT_THAT(local, IsOk());
  info_.set_psl_sha256((*local)->sha256_hex());
  auto synced = PublicSuffixListForServer(info_, options_, Fetcher());
  ASSERT_THAT(synced, IsOk());
  EXPECT_EQ(synced->note, "");
  EXPECT_EQ(synced->list->path(), url::PublicSuffixList::kDefaultPath);
  EXPECT_EQ(fetches_, 0);
}

TEST_F(PslSyncTest, AnotherListIsFetchedOnceThenTakenFromTheCache) {
  auto first = PublicSuffixListForServer(info_, options_, Fetcher());
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(fetches_, 1);
  EXPECT_THAT(first->note, HasSubstr("using the server's Public Suffix List server-test-1"));
  EXPECT_THAT(first->note, HasSubstr("fetched, cached in " + options_.cache_dir));
  EXPECT_THAT(first->note, HasSubstr("this machine's " +
                                     std::string(url::PublicSuffixList::kDefaultPath)));
  EXPECT_EQ(first->list->sha256_hex(), info_.psl_sha256());
  EXPECT_EQ(first->list->version(), "server-test-1");
  // The server's rules are the ones in force: github.io is registrable.
  EXPECT_EQ(first->list->RegistrableDomain("bob.github.io"), "github.io");

  auto second = PublicSuffixListForServer(info_, options_, Fetcher());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(fetches_, 1) << "the cached copy is used";
  EXPECT_THAT(second->note, HasSubstr("(cached in " + options_.cache_dir));
  EXPECT_EQ(second->list->sha256_hex(), info_.psl_sha256());
}

TEST_F(PslSyncTest, AMachineWithoutAListUsesTheServers) {
  options_.local_path = dir_ + "/no-such-list.dat";
  auto synced = PublicSuffixListForServer(info_, options_, Fetcher());
  ASSERT_THAT(synced, IsOk());
  EXPECT_THAT(synced->note, HasSubstr("this machine has none at " + options_.local_path));
  EXPECT_EQ(synced->list->RegistrableDomain("bob.github.io"), "github.io");
}

TEST_F(PslSyncTest, ListNotMatchingTheAnnouncedHashIsRefusedAndNotCached) {
  auto synced = PublicSuffixListForServer(info_, options_, Fetcher("io\n"));
  EXPECT_THAT(synced, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("SHA-256")));
  EXPECT_FALSE(std::filesystem::exists(options_.cache_dir) &&
               !std::filesystem::is_empty(options_.cache_dir));
}

TEST_F(PslSyncTest, ADamagedCacheIsFetchedAgainAndRepaired) {
  ASSERT_THAT(PublicSuffixListForServer(info_, options_, Fetcher()), IsOk());
  const std::string cached =
      options_.cache_dir + "/public_suffix_list-" + info_.psl_sha256() + ".dat";
  ASSERT_TRUE(std::filesystem::exists(cached));
  std::ofstream(cached, std::ios::trunc) << "io\n";
  auto synced = PublicSuffixListForServer(info_, options_, Fetcher());
  ASSERT_THAT(synced, IsOk());
  EXPECT_EQ(fetches_, 2);
  EXPECT_EQ(synced->list->sha256_hex(), info_.psl_sha256());
  std::ifstream in(cached);
  std::string repaired((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(repaired, kServerList);
}

TEST_F(PslSyncTest, AnUnwritableCacheStillUsesTheServersList) {
  std::ofstream(dir_ + "/file") << "x";
  options_.cache_dir = dir_ + "/file/cache";  // under a regular file: cannot be created
  auto synced = PublicSuffixListForServer(info_, options_, Fetcher());
  ASSERT_THAT(synced, IsOk());
  EXPECT_THAT(synced->note, HasSubstr("not cached"));
  EXPECT_EQ(synced->list->sha256_hex(), info_.psl_sha256());
}

TEST_F(PslSyncTest, AnOlderServerWithoutAHashIsComparedByVersion) {
  info_.clear_psl_sha256();
  auto local = url::PublicSuffixList::Load();
  ASSERT_THAT(local, IsOk());
  info_.set_psl_version((*local)->version());
  EXPECT_THAT(PublicSuffixListForServer(info_, options_, Fetcher()), IsOk());
  info_.set_psl_version("1999");
  EXPECT_THAT(PublicSuffixListForServer(info_, options_, Fetcher()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--psl-file")));
  EXPECT_EQ(fetches_, 0);
}

TEST(DefaultPslCacheDir, XdgCacheHomeThenHome) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved_xdg = xdg ? xdg : "";
  const char* home = std::getenv("HOME");
  const std::string saved_home = home ? home : "";
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(*DefaultPslCacheDir(), "/x/cache/optout");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(*DefaultPslCacheDir(), "/home/u/.cache/optout");
  unsetenv("HOME");
  EXPECT_THAT(DefaultPslCacheDir(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("$HOME")));
  if (xdg) setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
  if (home) setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace optout::client

#include "service/backup_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

class BackupDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/backup_dir_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + root_ + "'").c_str()); }
  std::string root_;
};

TEST_F(BackupDirTest, CreatesAPrivateFolderWithItsParents) {
  auto dir = PrepareBackupDir(root_ + "/a/b/backups", root_ + "/data");
  ASSERT_THAT(dir, IsOk());
  EXPECT_EQ(*dir, root_ + "/a/b/backups");
  struct stat st {};
  ASSERT_EQ(::stat(dir->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(BackupDirTest, RefusesRelativePathsAndTheDataFolder) {
  EXPECT_THAT(PrepareBackupDir("backups", root_ + "/data"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute path")));
  EXPECT_THAT(PrepareBackupDir("", root_ + "/data"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute path")));
  EXPECT_THAT(PrepareBackupDir(root_ + "/data", root_ + "/data"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the data folder")));
  EXPECT_THAT(PrepareBackupDir(root_ + "/data/../data/b", root_ + "/data/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the data folder")));
  // A sibling whose name starts like the data folder is fine.
  EXPECT_THAT(PrepareBackupDir(root_ + "/data-backup", root_ + "/data"), IsOk());
}

}  // namespace
}  // namespace optout::service

#include "service/registry_secret.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

class RegistrySecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/optout-secret-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/secret";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_, path_;
};

TEST_F(RegistrySecretTest, FirstStartCreatesA32ByteOwnerOnlyFileAndLaterStartsReadIt) {
  auto created = LoadOrCreateRegistrySecret(path_);
  ASSERT_THAT(created, IsOk());
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(st.st_size, 32);
  auto again = LoadOrCreateRegistrySecret(path_);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*created, *again);
}

TEST_F(RegistrySecretTest, RefusesAFileReadableByOthers) {
  ASSERT_THAT(LoadOrCreateRegistrySecret(path_), IsOk());
  chmod(path_.c_str(), 0644);
  auto loaded = LoadOrCreateRegistrySecret(path_);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
}

TEST_F(RegistrySecretTest, RefusesAFileOfTheWrongSize) {
  std::ofstream(path_) << "too short";
  chmod(path_.c_str(), 0600);
  EXPECT_EQ(LoadOrCreateRegistrySecret(path_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace optout::service

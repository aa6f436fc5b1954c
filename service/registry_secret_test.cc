#include "service/registry_secret.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace optout::service {
namespace {

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
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(st.st_size, 32);
  auto again = LoadOrCreateRegistrySecret(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*created, *again);
}

TEST_F(RegistrySecretTest, RefusesAFileReadableByOthers) {
  ASSERT_TRUE(LoadOrCreateRegistrySecret(path_).ok());
  chmod(path_.c_str(), 0644);
  auto loaded = LoadOrCreateRegistrySecret(path_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
}

TEST_F(RegistrySecretTest, RefusesAFileOfTheWrongSize) {
  std::ofstream(path_) << "too short";
  chmod(path_.c_str(), 0600);
  EXPECT_EQ(LoadOrCreateRegistrySecret(path_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace optout::service

#include "service/testing/key_rotation_fixture.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/status_macros.h"
#include "client/common/base/testing/status_matchers.h"
#include "optout/internal/record.pb.h"
#include "service/registry_secret.h"

namespace optout::service::testing {

using ::optout::testing::IsOk;

void KeyRotationFixture::SetUp() {
  char tmpl[] = "/tmp/key_rotation_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  secret_file_ = dir_ + "/registry.secret";
  ASSERT_THAT(LoadOrCreateRegistrySecret(secret_file_), IsOk());
  ASSERT_THAT(db_.Init(), IsOk());
}

void KeyRotationFixture::TearDown() {
  rotation_.reset();
  db_.Close();
  std::system(absl::StrCat("rm -rf ", dir_).c_str());
}

absl::StatusOr<KeyVersions> KeyRotationFixture::OpenRegistry(const std::string& secret_file) {
  OPTOUT_RETURN_IF_ERROR(db_.ReopenStore());
  OPTOUT_ASSIGN_OR_RETURN(SecretBytes secret, ReadRegistrySecret(secret_file));
  OPTOUT_ASSIGN_OR_RETURN(KeyVersions versions,
                          OpenKeyVersions(*db_.store(), secret, secret_file));
  OPTOUT_RETURN_IF_ERROR(db_.OpenRegistry(versions.keys, {}));
  return versions;
}

RotationProgress KeyRotationFixture::WaitUntilSettled(absl::Duration patience) {
  const absl::Time deadline = absl::Now() + patience;
  RotationProgress p = rotation_->Status();
  while (p.state == RotationProgress::State::kRunning && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    p = rotation_->Status();
  }
  return p;
}

std::vector<uint32_t> KeyRotationFixture::StoredVersions() {
  std::vector<uint32_t> versions;
  EXPECT_THAT(db_.store()->ForEachRecord([&](absl::string_view, absl::string_view bytes) {
    internal::OptOutRecord record;
    record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    versions.push_back(record.key_version());
    return absl::OkStatus();
  }),
              IsOk());
  return versions;
}

}  // namespace optout::service::testing

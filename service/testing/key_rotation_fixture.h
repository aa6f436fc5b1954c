// File: service/testing/key_rotation_fixture.h
//
// KeyRotationFixture: what the key rotation tests share. A registry secret
// in a fresh temp folder, an in-memory store and registry opened from it as
// optoutd starts (OpenRegistry), the rotation under test (rotation_,
// made by each test fixture), and what they inspect afterwards: the
// rotation once settled, the key version of every stored record.
#ifndef OPTOUT_SERVICE_TESTING_KEY_ROTATION_FIXTURE_H_
#define OPTOUT_SERVICE_TESTING_KEY_ROTATION_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/key_rotation.h"
#include "service/testing/in_memory_registry.h"

namespace optout::service::testing {

class KeyRotationFixture : public ::testing::Test {
 protected:
  // A secret in secret_file_, and db_ initialized (nothing opened yet).
  void SetUp() override;
  // Drops rotation_, closes db_ and removes the folder. A fixture that
  // must stop its rotation or unhook it first does so, then calls this.
  void TearDown() override;

  // As optoutd starts: the store reopened, the key versions `secret_file`
  // and the store give, and a registry with them (default options).
  absl::StatusOr<KeyVersions> OpenRegistry(const std::string& secret_file);
  // rotation_'s status once it is no longer running, or after `patience`.
  RotationProgress WaitUntilSettled(absl::Duration patience = absl::Seconds(60));
  // Key version of every stored record, in key order.
  std::vector<uint32_t> StoredVersions();

  std::string dir_, secret_file_;
  InMemoryRegistry db_;
  std::unique_ptr<KeyRotation> rotation_;
};

}  // namespace optout::service::testing

#endif  // OPTOUT_SERVICE_TESTING_KEY_ROTATION_FIXTURE_H_

#include "service/cluster/key_fingerprint.h"

#include "gtest/gtest.h"

namespace optout::service::cluster {
namespace {

Keyring KeyringOf(uint8_t fill) {
  SecretBytes secret;
  secret.fill(fill);
  return *Keyring::Derive(secret);
}

TEST(KeyFingerprintTest, SameSecretSameFingerprint) {
  EXPECT_EQ(KeyFingerprint(KeyringOf(1)), KeyFingerprint(KeyringOf(1)));
  EXPECT_EQ(KeyFingerprint(KeyringOf(1)).size(), 32u);
}

TEST(KeyFingerprintTest, OtherSecretOtherFingerprint) {
  EXPECT_NE(KeyFingerprint(KeyringOf(1)), KeyFingerprint(KeyringOf(2)));
}

}  // namespace
}  // namespace optout::service::cluster

#include "service/keyring.h"

#include <algorithm>
#include <array>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "client/common/digest/digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;

std::string MacHex(const HmacSha256& key, absl::string_view message) {
  const Mac32 mac = key.Mac(message);
  return digest::ToHex(absl::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

// Stored records are keyed and sealed with these keys, so their derivation
// must never change. The expected values were computed independently of this
// code, with `openssl kdf HKDF` (SHA-256, salt "optout-registry hkdf salt",
// info "<purpose> v1", secret 32 × 0x07) and Python's hmac module.
// The receipt signing key (issue 14) is HKDF "receipt-signing vN" used as
// an Ed25519 seed; expected public keys computed with `openssl kdf HKDF`
// and `openssl pkey -pubout` from that seed, secret 32 x 0x07.
TEST(KeyringTest, ReceiptKeyIsDerivedPerVersionFromTheSecret) {
  SecretBytes secret{};
  secret.fill(7);
  auto v1 = Keyring::Derive(secret, 1);
  auto v2 = Keyring::Derive(secret, 2);
  ASSERT_THAT(v1, IsOk());
  ASSERT_THAT(v2, IsOk());
  EXPECT_EQ(digest::ToHex(v1->receipt_signer().public_key()),
            "8e723df2dfdbf8056973a43a657b104e2058092cc0eb97d02ab5e9b1b5d41eed");
  EXPECT_EQ(digest::ToHex(v2->receipt_signer().public_key()),
            "bd43e9386c92c05647a128f6c67deea966fdfcaec6b14e9ccb138994353e7696");
  EXPECT_EQ(v1->receipt_signer().fingerprint(),
            digest::ToHex(digest::Sha256(v1->receipt_signer().public_key())));
}

TEST(KeyringTest, PurposeKeysMatchTheV1Derivation) {
  SecretBytes secret{};
  secret.fill(7);
  auto keyring = Keyring::Derive(secret);
  ASSERT_THAT(keyring, IsOk());
  EXPECT_EQ(MacHex(keyring->url_key(), "probe"),
            "468d158d14a40c362728b5e0f2ae8be9c06744c0d1b0c0a6c69282761de079ad");
  EXPECT_EQ(MacHex(keyring->file_key(), "probe"),
            "738a8d39968b13c9556890beeb7f7b00e4116928fc396a170eb6db558768058f");
  EXPECT_EQ(MacHex(keyring->request_key(), "probe"),
            "e9864ffaea33ed6b252bfec5734322621e36e2122f120b62e3abc18749637ed4");

  // HKDF(secret, "record-encryption v1"): what this cipher seals, a cipher
  // with that key opens, and the other way round.
  auto record_key = digest::FromHex(
      "075c03b202b01cbaa0352b5a2fa8c10fa0eb0fa05b15261aa0e3283f393f650f", 32);
  ASSERT_THAT(record_key, IsOk());
  std::array<uint8_t, 32> key;
  std::copy(record_key->begin(), record_key->end(), key.begin());
  const RecordCipher expected(key);
  auto sealed = keyring->record_cipher().Seal("payload", "id-1");
  ASSERT_THAT(sealed, IsOk());
  auto opened = expected.Open(*sealed, "id-1");
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, "payload");
  auto sealed_by_expected = expected.Seal("other", "id-2");
  ASSERT_THAT(sealed_by_expected, IsOk());
  auto opened_by_keyring = keyring->record_cipher().Open(*sealed_by_expected, "id-2");
  ASSERT_THAT(opened_by_keyring, IsOk());
  EXPECT_EQ(*opened_by_keyring, "other");
}

}  // namespace
}  // namespace optout::service

#include "service/record_cipher.h"

#include "gtest/gtest.h"

namespace optout::service {
namespace {

std::array<uint8_t, 32> Key(uint8_t b) {
  std::array<uint8_t, 32> k{};
  k.fill(b);
  return k;
}

TEST(RecordCipherTest, SealThenOpenReturnsPlaintext) {
  RecordCipher cipher(Key(1));
  auto sealed = cipher.Seal("secret pdq bytes", "id-1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("secret pdq bytes"), std::string::npos);
  auto opened = cipher.Open(*sealed, "id-1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "secret pdq bytes");
}

TEST(RecordCipherTest, SealingTwiceUsesFreshNonces) {
  RecordCipher cipher(Key(1));
  EXPECT_NE(*cipher.Seal("same", "id"), *cipher.Seal("same", "id"));
}

TEST(RecordCipherTest, OpenFailsWithDataLossOnOtherIdKeyOrTampering) {
  RecordCipher cipher(Key(1));
  std::string sealed = *cipher.Seal("payload", "id-1");
  EXPECT_EQ(cipher.Open(sealed, "id-2").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(RecordCipher(Key(2)).Open(sealed, "id-1").status().code(),
            absl::StatusCode::kDataLoss);
  sealed[sealed.size() / 2] ^= 1;
  EXPECT_EQ(cipher.Open(sealed, "id-1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(cipher.Open("short", "id-1").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace optout::service

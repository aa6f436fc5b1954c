#include "service/record_cipher.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::_;

std::array<uint8_t, 32> Key(uint8_t b) {
  std::array<uint8_t, 32> k{};
  k.fill(b);
  return k;
}

TEST(RecordCipherTest, SealThenOpenReturnsPlaintext) {
  RecordCipher cipher(Key(1));
  auto sealed = cipher.Seal("secret pdq bytes", "id-1");
  ASSERT_THAT(sealed, IsOk());
  EXPECT_EQ(sealed->find("secret pdq bytes"), std::string::npos);
  auto opened = cipher.Open(*sealed, "id-1");
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, "secret pdq bytes");
}

TEST(RecordCipherTest, SealingTwiceUsesFreshNonces) {
  RecordCipher cipher(Key(1));
  EXPECT_NE(*cipher.Seal("same", "id"), *cipher.Seal("same", "id"));
}

TEST(RecordCipherTest, OpenFailsWithDataLossOnOtherIdKeyOrTampering) {
  RecordCipher cipher(Key(1));
  std::string sealed = *cipher.Seal("payload", "id-1");
  EXPECT_THAT(cipher.Open(sealed, "id-2"), StatusIs(absl::StatusCode::kDataLoss, _));
  EXPECT_THAT(RecordCipher(Key(2)).Open(sealed, "id-1"),
              StatusIs(absl::StatusCode::kDataLoss, _));
  sealed[sealed.size() / 2] ^= 1;
  EXPECT_THAT(cipher.Open(sealed, "id-1"), StatusIs(absl::StatusCode::kDataLoss, _));
  EXPECT_THAT(cipher.Open("short", "id-1"), StatusIs(absl::StatusCode::kDataLoss, _));
}

}  // namespace
}  // namespace optout::service

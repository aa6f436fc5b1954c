#include "service/record_cipher.h"

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

TEST(RecordCipherTest, ContextsAreReusedAcrossCallsAndAfterAFailure) {
  // Calls reuse keyed contexts: each must start from its own nonce, and a
  // failed call must leave nothing behind for the next.
  RecordCipher cipher(Key(3));
  const std::string first = *cipher.Seal("first", "id-1");
  const std::string second = *cipher.Seal("second record", "id-2");
  std::string tampered = first;
  tampered.back() ^= 1;
  EXPECT_THAT(cipher.Open(tampered, "id-1"), StatusIs(absl::StatusCode::kDataLoss, _));
  EXPECT_THAT(cipher.Open(second, "id-2"), IsOk());
  EXPECT_EQ(*cipher.Open(first, "id-1"), "first");
  EXPECT_EQ(*cipher.Open(second, "id-2"), "second record");
}

TEST(RecordCipherTest, CopiesAndMovesKeepTheKey) {
  RecordCipher cipher(Key(4));
  const std::string sealed = *cipher.Seal("payload", "id");
  const RecordCipher copy(cipher);
  EXPECT_EQ(*copy.Open(sealed, "id"), "payload");
  RecordCipher moved(std::move(cipher));
  EXPECT_EQ(*moved.Open(*copy.Seal("other", "id"), "id"), "other");
}

TEST(RecordCipherTest, ManyThreadsSealAndOpenAtOnce) {
  RecordCipher cipher(Key(5));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string text = "record " + std::to_string(t) + "/" + std::to_string(i);
        const std::string aad = "id-" + std::to_string(t);
        absl::StatusOr<std::string> sealed = cipher.Seal(text, aad);
        absl::StatusOr<std::string> opened =
            sealed.ok() ? cipher.Open(*sealed, aad) : sealed.status();
        if (!opened.ok() || *opened != text) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace optout::service

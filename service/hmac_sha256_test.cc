#include "service/hmac_sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace optout::service {
namespace {

Mac32 OneShotHmac(const std::array<uint8_t, 32>& key, const std::string& message) {
  Mac32 out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), key.size(), reinterpret_cast<const uint8_t*>(message.data()),
       message.size(), out.data(), &len);
  return out;
}

TEST(HmacSha256Test, PrecomputedStateMatchesOpenSslHmacForManyLengths) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  const HmacSha256 hmac(key);
  std::string message;
  for (int len = 0; len < 200; ++len) {
    EXPECT_EQ(hmac.Mac(message), OneShotHmac(key, message)) << "length " << len;
    message.push_back(static_cast<char>(len));
  }
}

// FixedLengthPrf is HMAC's inner hash: SHA-256((key ^ ipad) || message).
TEST(HmacSha256Test, FixedLengthPrfIsTheInnerHashOfHmac) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 5 + 3);
  std::string padded_key(64, '\x36');
  for (size_t i = 0; i < key.size(); ++i) padded_key[i] = static_cast<char>(padded_key[i] ^ key[i]);
  // Across the one-block fast path's limit (55 bytes) and beyond.
  for (size_t size = 0; size < 130; ++size) {
    const std::string message(size, static_cast<char>('a' + size % 26));
    const std::string input = padded_key + message;
    Mac32 expected{};
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), expected.data(), &len, EVP_sha256(), nullptr);
    EXPECT_EQ(HmacSha256(key).FixedLengthPrf(message), expected) << "length " << size;
    EXPECT_NE(HmacSha256(key).FixedLengthPrf(message), HmacSha256(key).Mac(message));
  }
}

// Every count around the lockstep width and the batch size, and lengths
// up to and past one block.
TEST(HmacSha256Test, MacManyEqualsMacOfEachMessage) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 11 + 5);
  const HmacSha256 hmac(key);
  for (size_t length : {0, 16, 32, 55, 56, 64}) {
    for (size_t count : {0, 1, 3, 4, 5, 31, 32, 33, 70}) {
      std::string messages(length * count, '\0');
      for (size_t i = 0; i < messages.size(); ++i) messages[i] = static_cast<char>(i * 13 + count);
      std::vector<Mac32> got(count);
      hmac.MacMany(messages.data(), length, count, got.data());
      for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(got[i], OneShotHmac(key, messages.substr(i * length, length)))
            << "length " << length << " count " << count << " message " << i;
      }
    }
  }
}

TEST(HmacSha256Test, DifferentKeysGiveDifferentMacs) {
  std::array<uint8_t, 32> a{}, b{};
  b[0] = 1;
  EXPECT_NE(HmacSha256(a).Mac("x"), HmacSha256(b).Mac("x"));
}

}  // namespace
}  // namespace optout::service

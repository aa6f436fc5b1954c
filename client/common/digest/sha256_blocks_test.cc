#include "client/common/digest/sha256_blocks.h"

#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace optout::digest {
namespace {

Sha256Digest EvpSha256(absl::string_view data) {
  Sha256Digest out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

// Every count up to two full rounds of lanes, every short length: the
// lockstep lanes and the odd tail must each give the plain digest.
TEST(Sha256BlocksTest, ShortManyMatchesEvpForEveryLengthAndCount) {
  std::mt19937 rng(7);
  for (size_t count = 0; count <= 9; ++count) {
    for (size_t len = 0; len <= kSha256OneBlockMax; ++len) {
      std::vector<std::string> messages(count);
      std::vector<absl::string_view> views;
      for (std::string& m : messages) {
        m.resize(len);
        for (char& c : m) c = static_cast<char>(rng());
        views.push_back(m);
      }
      std::vector<Sha256Digest> got(count);
      Sha256ShortMany(views.data(), count, got.data());
      for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(got[i], EvpSha256(messages[i])) << "count " << count << " length " << len;
      }
    }
  }
}

// A tail after prefix blocks already absorbed (HMAC's key block): equal to
// hashing the prefix and the message in one go.
TEST(Sha256BlocksTest, FinishManyContinuesFromAnAbsorbedPrefix) {
  const std::string prefix(64, '\x36');
  Sha256State state = Sha256InitialState();
  const uint8_t* block = reinterpret_cast<const uint8_t*>(prefix.data());
  Sha256CompressMany(&state, &block, 1);
  std::vector<std::string> messages;
  for (size_t len = 0; len <= kSha256OneBlockMax; len += 5) messages.push_back(std::string(len, 'q'));
  std::vector<Sha256Tail> tails;
  for (const std::string& m : messages) {
    tails.push_back({&state, reinterpret_cast<const uint8_t*>(m.data()), m.size(), 64});
  }
  std::vector<Sha256Digest> got(tails.size());
  Sha256FinishMany(tails.data(), tails.size(), got.data());
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(got[i], EvpSha256(prefix + messages[i])) << "length " << messages[i].size();
  }
}

TEST(Sha256BlocksTest, ShortManyMatchesTheFips180Vector) {
  const absl::string_view abc = "abc";
  Sha256Digest got;
  Sha256ShortMany(&abc, 1, &got);
  EXPECT_EQ(ToHex(got), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace optout::digest

#include "client/common/receipt/interleaved_sha256.h"

#include <cstring>
#include <random>
#include <string>

#include "client/common/digest/digest.h"
#include "gtest/gtest.h"

namespace optout::receipt {
namespace {

// The definition, spelled out with plain SHA-256.
std::array<uint8_t, 32> Reference(const std::string& stream) {
  std::string lanes[4];
  for (size_t j = 0; j * 64 < stream.size(); ++j) lanes[j % 4] += stream.substr(j * 64, 64);
  std::string outer(8, '\0');
  uint64_t length = stream.size();
  std::memcpy(outer.data(), &length, 8);  // little-endian (x86, as everywhere here)
  for (const std::string& lane : lanes) {
    const digest::Sha256Digest d = digest::Sha256(lane);
    outer.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  const digest::Sha256Digest d = digest::Sha256(outer);
  std::array<uint8_t, 32> out;
  std::memcpy(out.data(), d.data(), 32);
  return out;
}

TEST(InterleavedSha256Test, MatchesTheDefinitionWhateverTheFeeding) {
  std::mt19937_64 rng(7);
  for (size_t size : {0u, 1u, 55u, 56u, 63u, 64u, 119u, 120u, 128u, 255u, 256u, 257u, 311u,
                      512u, 1000u, 4096u, 5003u}) {
    std::string stream(size, '\0');
    for (char& c : stream) c = static_cast<char>(rng());
    InterleavedSha256 whole;
    whole.Update(stream.data(), stream.size());
    EXPECT_EQ(whole.Finish(), Reference(stream)) << size;
    EXPECT_EQ(whole.length(), size);

    InterleavedSha256 pieces;
    for (size_t at = 0; at < size;) {
      const size_t n = std::min<size_t>(size - at, rng() % 300);
      pieces.Update(stream.data() + at, n);
      at += n;
      // Finish in between changes nothing.
      if (rng() % 4 == 0) pieces.Finish();
    }
    EXPECT_EQ(pieces.Finish(), Reference(stream)) << size;
  }
}

TEST(InterleavedSha256Test, NotPlainSha256) {
  const std::string stream(300, 'x');
  InterleavedSha256 h;
  h.Update(stream.data(), stream.size());
  const digest::Sha256Digest plain = digest::Sha256(stream);
  const std::array<uint8_t, 32> interleaved = h.Finish();
  EXPECT_NE(std::string(interleaved.begin(), interleaved.end()),
            std::string(plain.begin(), plain.end()));
}

// A saved state, restored, hashes on as the original does, whatever part
// of a round of four blocks is pending; it holds only the pending bytes.
TEST(InterleavedSha256Test, SavedStateGoesOnAsTheOriginal) {
  std::string bytes(1000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + 1);
  for (size_t cut : {0, 1, 63, 64, 255, 256, 300, 700}) {
    InterleavedSha256 original;
    original.Update(bytes.data(), cut);
    std::string state = "head";
    original.Save(&state);
    EXPECT_EQ(state.size(), 4 + (cut == 0 ? 8 : 8 + InterleavedSha256::kLanes * 32 + cut % 256))
        << cut;
    InterleavedSha256 restored;
    restored.Update(bytes.data(), 5);  // replaced by the restored state
    ASSERT_EQ(restored.Restore(state.data() + 4, state.size() - 4), state.size() - 4) << cut;
    original.Update(bytes.data() + cut, bytes.size() - cut);
    restored.Update(bytes.data() + cut, bytes.size() - cut);
    EXPECT_EQ(restored.Finish(), original.Finish()) << cut;
    EXPECT_EQ(restored.length(), bytes.size());
  }
  // A state cut short is refused.
  InterleavedSha256 h;
  h.Update(bytes.data(), 10);
  std::string state;
  h.Save(&state);
  InterleavedSha256 other;
  EXPECT_EQ(other.Restore(state.data(), state.size() - 1), 0u);
  EXPECT_EQ(other.length(), 0u);
}

// The fixed layout of earlier builds still restores.
TEST(InterleavedSha256Test, LegacyStateRestores) {
  std::string bytes(300, 'z');
  InterleavedSha256 original;
  original.Update(bytes.data(), bytes.size());
  // Made from the compact state: length, lanes, pending bytes.
  std::string compact;
  original.Save(&compact);
  const size_t lanes = InterleavedSha256::kLanes * 32;
  const uint64_t length = bytes.size(), pending = length % 256;
  std::string state = compact.substr(8, lanes);
  state.append(reinterpret_cast<const char*>(&pending), 8);
  state.append(reinterpret_cast<const char*>(&length), 8);
  state += compact.substr(8 + lanes);
  state.resize(InterleavedSha256::kLegacyStateBytes, '\0');
  InterleavedSha256 restored;
  ASSERT_TRUE(restored.RestoreLegacy(state.data()));
  EXPECT_EQ(restored.Finish(), original.Finish());
  state[InterleavedSha256::kLanes * 32] = 11;  // a pending count the length does not leave
  EXPECT_FALSE(restored.RestoreLegacy(state.data()));
}

}  // namespace
}  // namespace optout::receipt

// Server memory per stored PDQ hash with image windows (issue 12 budget:
// at most 100 bytes, as before windows). An image registration stores its
// plain hash, 63 window hashes and its SHA-256 and MD5 keys; everything the
// index holds for it (PDQ entries, keys, id tables) is charged to its hashes.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/match_index.h"

namespace optout::service {
namespace {

storage::Code256 RandomCode(std::mt19937_64& rng) { return {rng(), rng(), rng(), rng()}; }

storage::Key32 RandomKey(std::mt19937_64& rng) {
  storage::Key32 key;
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  return key;
}

TEST(MatchIndexMemoryTest, AtMostOneHundredBytesPerStoredHashWithWindows) {
  constexpr int kImages = 16384;
  constexpr int kRegions = 63;
  std::mt19937_64 rng(7);
  std::vector<IndexedOptOut> opt_outs(kImages);
  for (int i = 0; i < kImages; ++i) {
    IndexedOptOut& o = opt_outs[i];
    o.id.resize(MatchIndex::kIdSize);
    for (char& c : o.id) c = static_cast<char>(rng());
    o.keys.push_back({v1::MATCH_KIND_SHA256, RandomKey(rng)});
    o.keys.push_back({v1::MATCH_KIND_MD5, RandomKey(rng)});
    o.pdq.push_back(RandomCode(rng));
    for (int r = 0; r < kRegions; ++r) {
      o.pdq_regions.push_back({0, static_cast<uint16_t>(r), RandomCode(rng)});
    }
  }
  MatchIndex index;
  index.Load(std::move(opt_outs));
  const size_t hashes = index.entries(v1::MATCH_KIND_PDQ);
  ASSERT_EQ(hashes, size_t{kImages} * (1 + kRegions));
  const double per_hash = static_cast<double>(index.MemoryBytes()) / hashes;
  const double pdq_only = static_cast<double>(index.pdq().MemoryBytes()) / hashes;
  std::printf("%zu stored hashes: %.1f bytes each (PDQ index alone %.1f)\n", hashes, per_hash,
              pdq_only);
  EXPECT_LE(per_hash, 100.0);
}

}  // namespace
}  // namespace optout::service

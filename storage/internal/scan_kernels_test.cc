// File: storage/internal/scan_kernels_test.cc
//
// Every kernel of every instruction-set level this CPU runs, against the
// plain distance, with codes planted at exactly the radius and one beyond.
#include "storage/internal/scan_kernels.h"

#include <algorithm>
#include <bitset>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/internal/code_blocks.h"
#include "storage/testing/code_generators.h"

namespace optout::storage::internal {
namespace {

using ::optout::storage::testing::CodeRng;
using ::optout::storage::testing::FlipBits;
using ::testing::UnorderedElementsAreArray;

class ScanKernelsTest : public ::testing::TestWithParam<ScanIsa> {
 protected:
  const ScanKernels& kernels() const { return KernelsFor(GetParam()); }

  // 1003 codes (not a multiple of 8): a third are `query` with 0..69 bits
  // flipped, so every radius below 69 has codes at exactly r and r + 1.
  void Fill(const Code256& query, CodeRng& rng) {
    for (int i = 0; i < 1003; ++i) {
      Code256 c = i % 3 == 0 ? FlipBits(query, static_cast<int>(rng.Below(70)), rng)
                             : rng.Code();
      codes_.push_back(c);
      blocks_.Append(c);
    }
  }

  std::vector<uint32_t> Expected(const Code256& query, int radius) const {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < codes_.size(); ++i) {
      if (HammingDistance(codes_[i], query) <= radius) out.push_back(i);
    }
    return out;
  }

  std::vector<Code256> codes_;
  CodeBlocks blocks_;
};

TEST_P(ScanKernelsTest, ScanFindsExactlyCodesWithinRadius) {
  CodeRng rng(1);
  const Code256 query = rng.Code();
  Fill(query, rng);
  for (int radius : {0, 1, 7, 30, 31, 32, 33, 63, 64, 128, 255, 256}) {
    std::vector<uint32_t> got;
    kernels().scan(blocks_.words(), blocks_.size(), query, radius, 0, &got);
    EXPECT_THAT(got, UnorderedElementsAreArray(Expected(query, radius)))
        << "radius " << radius;
  }
}

TEST_P(ScanKernelsTest, ScanBatchMatchesScanPerQueryWithOffset) {
  CodeRng rng(2);
  const Code256 query = rng.Code();
  Fill(query, rng);
  std::vector<Code256> queries = {query, FlipBits(query, 5, rng), rng.Code()};
  for (int radius : {31, 32, 50}) {
    std::vector<uint64_t> pairs;
    kernels().scan_batch(blocks_.words(), blocks_.size(), queries.data(),
                         queries.size(), radius, 1000, &pairs);
    for (size_t j = 0; j < queries.size(); ++j) {
      std::vector<uint32_t> got;
      for (uint64_t p : pairs) {
        if ((p >> 32) == j) got.push_back(static_cast<uint32_t>(p) - 1000);
      }
      EXPECT_THAT(got, UnorderedElementsAreArray(Expected(queries[j], radius)));
    }
  }
}

TEST_P(ScanKernelsTest, VerifyKeepsOnlyCandidatesWithinRadius) {
  CodeRng rng(3);
  const Code256 query = rng.Code();
  Fill(query, rng);
  std::vector<uint32_t> candidates;
  for (uint32_t i = 0; i < codes_.size(); i += 2) candidates.push_back(i);
  for (int radius : {0, 31, 32, 63}) {
    std::vector<uint32_t> got;
    kernels().verify(blocks_.words(), candidates.data(), candidates.size(),
                     query, radius, &got);
    std::vector<uint32_t> want;
    for (uint32_t i : Expected(query, radius)) {
      if (i % 2 == 0) want.push_back(i);
    }
    EXPECT_THAT(got, UnorderedElementsAreArray(want)) << "radius " << radius;
  }
}

TEST_P(ScanKernelsTest, MatchSubkeysHonoursEachRangesBudget) {
  CodeRng rng(4);
  std::vector<uint8_t> subkeys(301);
  std::vector<uint32_t> ids(301);
  for (size_t i = 0; i < subkeys.size(); ++i) {
    subkeys[i] = static_cast<uint8_t>(rng.Next());
    ids[i] = static_cast<uint32_t>(1000 + i);
  }
  const uint8_t q = 0x5a;
  // Long, short, empty and one-entry ranges, each with its own budget.
  const std::vector<SubkeyRange> ranges = {
      {0, 301, 2}, {5, 70, 0}, {64, 64, 3}, {3, 4, 8}, {100, 200, 1}, {7, 140, 7}};
  for (bool with_ids : {false, true}) {
    std::vector<uint32_t> got;
    kernels().match_subkeys(subkeys.data(), with_ids ? ids.data() : nullptr,
                            ranges.data(), ranges.size(), q, &got);
    std::vector<uint32_t> want;
    for (const SubkeyRange& r : ranges) {
      for (uint32_t i = r.begin; i < r.end; ++i) {
        if (static_cast<int>(std::bitset<8>(subkeys[i] ^ q).count()) <= r.budget) {
          want.push_back(with_ids ? ids[i] : i);
        }
      }
    }
    EXPECT_EQ(got, want) << "with_ids " << with_ids;
  }
}

INSTANTIATE_TEST_SUITE_P(EverySupportedIsa, ScanKernelsTest,
                         ::testing::ValuesIn(SupportedScanIsas()),
                         [](const auto& info) { return ScanIsaName(info.param); });

TEST(ScanDispatchTest, AutoPicksTheBestSupportedLevel) {
  EXPECT_EQ(KernelsFor(ScanIsa::kAuto).isa, SupportedScanIsas().front());
  EXPECT_TRUE(ScanIsaSupported(ScanIsa::kPortable));
}

}  // namespace
}  // namespace optout::storage::internal

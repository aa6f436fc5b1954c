// File: storage/hamming_index_test.cc
//
// Exactness of HammingIndex against a plain scan, for every kernel level
// this CPU runs and both search strategies, on random, clustered and PDQ
// corpus codes, with codes planted at distance exactly r and r + 1.
#include "storage/hamming_index.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/code_generators.h"

namespace optout::storage {
namespace {

using ::optout::storage::testing::ClusteredCodes;
using ::optout::storage::testing::CodeRng;
using ::optout::storage::testing::FlipBits;
using ::optout::storage::testing::LoadPdqCorpus;
using ::optout::storage::testing::PlainScan;
using ::optout::storage::testing::UniformCodes;
using ::optout::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;
using Strategy = HammingIndex::Strategy;

constexpr int kRadii[] = {0, 1, 10, 15, 16, 31, 32, 47, 63};

std::vector<std::pair<uint64_t, Code256>> Entries(const std::vector<Code256>& codes) {
  std::vector<std::pair<uint64_t, Code256>> entries;
  for (size_t i = 0; i < codes.size(); ++i) entries.emplace_back(i, codes[i]);
  return entries;
}

// Appends, for each radius, codes at distance exactly r and r + 1 from
// each query, so every boundary is exercised.
void PlantBoundaryCodes(const std::vector<Code256>& queries, CodeRng& rng,
                        std::vector<Code256>* codes) {
  for (const Code256& q : queries) {
    for (int r : kRadii) {
      codes->push_back(FlipBits(q, r, rng));
      codes->push_back(FlipBits(q, r + 1, rng));
    }
  }
}

class HammingIndexExactnessTest
    : public ::testing::TestWithParam<std::tuple<ScanIsa, Strategy>> {
 protected:
  HammingIndex::Options Opts() const {
    HammingIndex::Options o;
    o.isa = std::get<0>(GetParam());
    o.strategy = std::get<1>(GetParam());
    return o;
  }

  // Builds an index over `codes` (half via Build, the rest via Add so the
  // buffer of recent adds is searched too) and compares with a plain scan.
  void ExpectExact(std::vector<Code256> codes, const std::vector<Code256>& queries) {
    HammingIndex index(Opts());
    const size_t built = codes.size() / 2;
    index.Build(Entries({codes.begin(), codes.begin() + built}));
    for (size_t i = built; i < codes.size(); ++i) index.Add(i, codes[i]);
    ASSERT_EQ(index.size(), codes.size());
    for (int r : kRadii) {
      std::vector<std::vector<uint64_t>> batch = index.SearchBatch(queries, r);
      ASSERT_EQ(batch.size(), queries.size());
      for (size_t j = 0; j < queries.size(); ++j) {
        const std::vector<uint64_t> want = PlainScan(codes, queries[j], r);
        EXPECT_THAT(index.Search(queries[j], r), UnorderedElementsAreArray(want))
            << "query " << j << " radius " << r;
        EXPECT_THAT(batch[j], UnorderedElementsAreArray(want))
            << "batch query " << j << " radius " << r;
      }
    }
  }
};

TEST_P(HammingIndexExactnessTest, UniformCodesMatchPlainScan) {
  CodeRng rng(11);
  std::vector<Code256> codes = UniformCodes(3000, 12);
  std::vector<Code256> queries = {rng.Code(), rng.Code(), codes[5]};
  PlantBoundaryCodes(queries, rng, &codes);
  ExpectExact(codes, queries);
}

TEST_P(HammingIndexExactnessTest, ClusteredCodesMatchPlainScan) {
  CodeRng rng(21);
  std::vector<Code256> codes = ClusteredCodes(4000, 22);
  // Queries inside clusters see many neighbours at every distance.
  std::vector<Code256> queries = {codes[0], FlipBits(codes[100], 6, rng),
                                  FlipBits(codes[2500], 20, rng), rng.Code()};
  PlantBoundaryCodes(queries, rng, &codes);
  ExpectExact(codes, queries);
}

TEST_P(HammingIndexExactnessTest, PdqCorpusMatchesPlainScan) {
  absl::StatusOr<std::vector<Code256>> corpus = LoadPdqCorpus();
  ASSERT_THAT(corpus, IsOk());
  ASSERT_GT(corpus->size(), 100u);
  std::vector<Code256> codes = *corpus;
  std::vector<Code256> filler = ClusteredCodes(2000, 31);
  codes.insert(codes.end(), filler.begin(), filler.end());
  ExpectExact(codes, *corpus);
}

std::string ParamName(
    const ::testing::TestParamInfo<std::tuple<ScanIsa, Strategy>>& info) {
  static const char* const kStrategy[] = {"Auto", "MultiIndex", "Scan"};
  return std::string(ScanIsaName(std::get<0>(info.param))) + "_" +
         kStrategy[static_cast<int>(std::get<1>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(
    EveryIsaAndStrategy, HammingIndexExactnessTest,
    ::testing::Combine(::testing::ValuesIn(SupportedScanIsas()),
                       ::testing::Values(Strategy::kMultiIndex, Strategy::kScan,
                                         Strategy::kAuto)),
    ParamName);

TEST(HammingIndexTest, MultiIndexIsExactAtEveryRadiusUpTo64) {
  // Each radius gives a different split of thresholds over the 11 slots.
  CodeRng rng(51);
  std::vector<Code256> codes = ClusteredCodes(2000, 52);
  const std::vector<Code256> queries = {rng.Code(), codes[7]};
  for (const Code256& q : queries) {
    for (int r = 0; r <= 65; ++r) {
      codes.push_back(FlipBits(q, r, rng));
      codes.push_back(FlipBits(q, r, rng));
    }
  }
  HammingIndex::Options options;
  options.strategy = Strategy::kMultiIndex;
  HammingIndex index(options);
  index.Build(Entries(codes));
  for (int r = 0; r <= 64; ++r) {
    for (const Code256& q : queries) {
      EXPECT_THAT(index.Search(q, r), UnorderedElementsAreArray(PlainScan(codes, q, r)))
          << "radius " << r;
    }
  }
}

TEST(HammingIndexTest, EmptyIndexFindsNothing) {
  HammingIndex index;
  EXPECT_THAT(index.Search(Code256{}, 63), IsEmpty());
  EXPECT_THAT(index.SearchBatch({Code256{}}, 63), ElementsAre(IsEmpty()));
  EXPECT_EQ(index.size(), 0u);
}

TEST(HammingIndexTest, NegativeRadiusFindsNothingAndFullRadiusFindsAll) {
  HammingIndex index;
  index.Build({{1, Code256{}}, {2, Code256{~0ULL, ~0ULL, ~0ULL, ~0ULL}}});
  EXPECT_THAT(index.Search(Code256{}, -1), IsEmpty());
  EXPECT_THAT(index.Search(Code256{}, 256), UnorderedElementsAre(1, 2));
  EXPECT_THAT(index.Search(Code256{}, 255), ElementsAre(1));
}

TEST(HammingIndexTest, RemovedEntriesAreNotFound) {
  HammingIndex index;
  const Code256 code = {1, 2, 3, 4};
  index.Build({{7, code}, {8, code}});
  index.Add(9, code);
  EXPECT_TRUE(index.Remove(7));
  EXPECT_TRUE(index.Remove(9));
  EXPECT_THAT(index.Search(code, 0), ElementsAre(8));
  EXPECT_EQ(index.size(), 1u);
}

TEST(HammingIndexTest, RemoveOfUnknownOrRemovedHandleReturnsFalse) {
  HammingIndex index;
  index.Build({{7, Code256{}}});
  EXPECT_FALSE(index.Remove(8));
  EXPECT_TRUE(index.Remove(7));
  EXPECT_FALSE(index.Remove(7));
}

TEST(HammingIndexTest, RemoveWithTheCodeFindsTheEntryInItsBucketOnly) {
  HammingIndex::Options options;
  options.background_rebuild = false;
  HammingIndex index(options);
  std::vector<Code256> codes = ClusteredCodes(2000, 43);
  std::vector<std::pair<uint64_t, Code256>> entries;
  for (size_t i = 0; i < codes.size(); ++i) entries.emplace_back(i, codes[i]);
  // Many copies of one hot code share a bucket.
  for (uint64_t i = 0; i < 300; ++i) entries.emplace_back(5000 + i, codes[7]);
  index.Build(entries);
  index.Add(9000, codes[11]);  // in the delta, not the base
  EXPECT_TRUE(index.Remove(3, codes[3]));
  EXPECT_TRUE(index.Remove(5123, codes[7]));
  EXPECT_TRUE(index.Remove(9000, codes[11]));
  // A wrong code does not find the entry, even though the handle exists.
  EXPECT_FALSE(index.Remove(4, codes[5]));
  EXPECT_FALSE(index.Remove(3, codes[3]));
  EXPECT_FALSE(index.Remove(424242, codes[3]));
  const std::vector<uint64_t> hot = index.Search(codes[7], 0);
  EXPECT_EQ(std::count(hot.begin(), hot.end(), 5123), 0);
  EXPECT_EQ(std::count(hot.begin(), hot.end(), 5124), 1);
  EXPECT_THAT(index.Search(codes[3], 0), ::testing::Not(::testing::Contains(3)));
  EXPECT_THAT(index.Search(codes[4], 0), ::testing::Contains(4));
  EXPECT_EQ(index.size(), codes.size() + 300 + 1 - 3);
}

TEST(HammingIndexTest, BuildReplacesPreviousContents) {
  HammingIndex index;
  index.Build({{1, Code256{}}});
  index.Add(2, Code256{});
  index.Build({{3, Code256{}}});
  EXPECT_THAT(index.Search(Code256{}, 0), ElementsAre(3));
  EXPECT_EQ(index.size(), 1u);
}

TEST(HammingIndexTest, RebuildsFoldAddsAndRemovesWithoutChangingAnswers) {
  HammingIndex::Options options;
  options.max_delta = 50;  // many rebuilds, in the calling thread
  options.background_rebuild = false;
  HammingIndex index(options);
  CodeRng rng(41);
  std::vector<Code256> codes = ClusteredCodes(1000, 42);
  std::vector<bool> live(codes.size(), false);
  for (size_t i = 0; i < codes.size(); ++i) {
    index.Add(i, codes[i]);
    live[i] = true;
    if (i % 3 == 2) {
      const size_t victim = rng.Below(static_cast<uint32_t>(i + 1));
      EXPECT_EQ(index.Remove(victim), live[victim]);
      live[victim] = false;
    }
  }
  index.Compact();
  const Code256 query = codes[10];
  std::vector<uint64_t> want;
  for (uint64_t i : PlainScan(codes, query, 31)) {
    if (live[i]) want.push_back(i);
  }
  EXPECT_THAT(index.Search(query, 31), UnorderedElementsAreArray(want));
  EXPECT_EQ(index.size(), static_cast<size_t>(std::count(live.begin(), live.end(), true)));
}

// Counts hits per query and stops a query after `limit` of them.
class CountingSink final : public HitSink {
 public:
  CountingSink(size_t queries, size_t limit) : hits(queries), limit_(limit) {}
  bool Wants(size_t q) const override { return hits[q].size() < limit_; }
  bool Hit(size_t q, uint64_t handle) override {
    EXPECT_LT(hits[q].size(), limit_) << "hit delivered after the sink said stop";
    hits[q].push_back(handle);
    return Wants(q);
  }
  std::vector<std::vector<uint64_t>> hits;

 private:
  size_t limit_;
};

// 100,000 codes within a few bits of one centre: every query near the centre
// hits all of them. A streamed search must stop each query once the sink has
// enough, by either strategy, and in the delta buffer as in the base.
TEST(HammingIndexTest, StreamedSearchOfADenseClusterStopsWhenTheSinkIsSatisfied) {
  CodeRng rng(77);
  const Code256 centre = rng.Code();
  std::vector<Code256> cluster;
  for (int i = 0; i < 100000; ++i) cluster.push_back(FlipBits(centre, 4, rng));
  std::vector<Code256> queries;
  for (int i = 0; i < 600; ++i) queries.push_back(FlipBits(centre, 6, rng));
  for (Strategy strategy : {Strategy::kMultiIndex, Strategy::kScan}) {
    HammingIndex::Options options;
    options.strategy = strategy;
    options.max_delta = size_t{1} << 20;  // adds below stay in the delta buffer
    HammingIndex index(options);
    index.Build(Entries(cluster));
    for (uint64_t i = 0; i < 1000; ++i) index.Add(1000000 + i, FlipBits(centre, 4, rng));
    CountingSink sink(queries.size(), 16);
    index.SearchBatch(queries, 31, sink);
    for (const auto& hits : sink.hits) EXPECT_EQ(hits.size(), 16u);
    // An unlimited streamed search still finds every code, each at least once.
    CountingSink all(1, SIZE_MAX);
    index.SearchBatch({queries[0]}, 31, all);
    std::sort(all.hits[0].begin(), all.hits[0].end());
    all.hits[0].erase(std::unique(all.hits[0].begin(), all.hits[0].end()), all.hits[0].end());
    EXPECT_EQ(all.hits[0].size(), 101000u);
  }
}

TEST(HammingIndexTest, MemoryBytesGrowsWithContents) {
  HammingIndex index;
  const size_t empty = index.MemoryBytes();
  index.Build(Entries(UniformCodes(10000, 5)));
  EXPECT_GT(index.MemoryBytes(), empty + 10000 * 40);
}

}  // namespace
}  // namespace optout::storage

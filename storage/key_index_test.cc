#include "storage/key_index.h"

#include <algorithm>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::storage {
namespace {

Key32 KeyOf(uint8_t b) {
  Key32 k{};
  k.fill(b);
  return k;
}

std::vector<std::pair<size_t, uint64_t>> LookupAll(const KeyIndex& index,
                                                   const std::vector<Key32>& keys) {
  std::vector<std::pair<size_t, uint64_t>> out;
  index.LookupMany(keys, [&](size_t i, absl::Span<const uint64_t> values) {
    for (uint64_t v : values) out.emplace_back(i, v);
  });
  return out;
}

// The first `max` values under `key`, as a caller that needs only a few reads them.
std::vector<uint64_t> ValuesOf(const KeyIndex& index, const Key32& key, size_t max) {
  std::vector<uint64_t> out;
  index.LookupMany({key}, [&](size_t, absl::Span<const uint64_t> values) {
    out.assign(values.begin(), values.begin() + std::min(max, values.size()));
  });
  return out;
}

TEST(KeyIndexTest, LookupFindsEveryValueUnderItsKeyOnly) {
  KeyIndex index;
  index.Add(KeyOf(1), 10);
  index.Add(KeyOf(1), 11);
  index.Add(KeyOf(2), 20);
  EXPECT_THAT(LookupAll(index, {KeyOf(3), KeyOf(1)}),
              ::testing::UnorderedElementsAre(std::make_pair(size_t{1}, uint64_t{10}),
                                              std::make_pair(size_t{1}, uint64_t{11})));
  EXPECT_EQ(index.size(), 3u);
}

TEST(KeyIndexTest, AddingTheSamePairTwiceStoresItOnce) {
  KeyIndex index;
  index.Add(KeyOf(1), 10);
  index.Add(KeyOf(1), 10);
  EXPECT_EQ(index.size(), 1u);
}

TEST(KeyIndexTest, RemoveDeletesOnlyThatPairAndReportsUnknownPairs) {
  KeyIndex index;
  index.Add(KeyOf(1), 10);
  index.Add(KeyOf(1), 11);
  EXPECT_TRUE(index.Remove(KeyOf(1), 10));
  EXPECT_FALSE(index.Remove(KeyOf(1), 10));
  EXPECT_FALSE(index.Remove(KeyOf(9), 10));
  EXPECT_THAT(LookupAll(index, {KeyOf(1)}),
              ::testing::ElementsAre(std::make_pair(size_t{0}, uint64_t{11})));
}

TEST(KeyIndexTest, AHotKeyKeepsItsValuesSortedThroughAddAndRemove) {
  KeyIndex index;
  for (uint64_t v = 50000; v > 0; --v) index.Add(KeyOf(1), v * 2);  // descending
  index.Add(KeyOf(1), 1);
  EXPECT_THAT(ValuesOf(index, KeyOf(1), 4), ::testing::ElementsAre(1, 2, 4, 6));
  EXPECT_EQ(index.size(), 50001u);
  EXPECT_TRUE(index.Remove(KeyOf(1), 2));
  EXPECT_FALSE(index.Remove(KeyOf(1), 3));
  EXPECT_THAT(ValuesOf(index, KeyOf(1), 3), ::testing::ElementsAre(1, 4, 6));
}

TEST(KeyIndexTest, UnorderedAppendsAreSortedAndDedupedByFinish) {
  KeyIndex index;
  for (uint64_t v : {9, 3, 7, 3, 1}) index.AppendUnordered(KeyOf(1), v);
  index.AppendUnordered(KeyOf(2), 5);
  index.AppendUnordered(KeyOf(2), 5);
  index.FinishAppends();
  EXPECT_EQ(index.size(), 5u);
  EXPECT_THAT(ValuesOf(index, KeyOf(1), 16), ::testing::ElementsAre(1, 3, 7, 9));
  EXPECT_THAT(ValuesOf(index, KeyOf(2), 16), ::testing::ElementsAre(5));
  index.Add(KeyOf(1), 2);
  EXPECT_THAT(ValuesOf(index, KeyOf(1), 2), ::testing::ElementsAre(1, 2));
}

}  // namespace
}  // namespace optout::storage

#include "storage/key_index.h"

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
  index.LookupMany(keys, [&](size_t i, uint64_t v) { out.emplace_back(i, v); });
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

}  // namespace
}  // namespace optout::storage

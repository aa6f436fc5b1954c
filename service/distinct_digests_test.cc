#include "service/distinct_digests.h"

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace optout::service {
namespace {

// Every input value is found at its slot; returns the number of distinct
// input values.
size_t ExpectEachAtItsSlot(const DistinctDigests& d, const std::string& data, size_t length) {
  const size_t count = data.size() / length;
  std::set<std::string> distinct;
  for (size_t i = 0; i < count; ++i) {
    const std::string value = data.substr(i * length, length);
    distinct.insert(value);
    EXPECT_LT(d.slots()[i], d.size());
    EXPECT_EQ(std::string(d.data() + d.slots()[i] * length, length), value) << "value " << i;
  }
  EXPECT_LE(d.size(), count);
  EXPECT_GE(d.size(), distinct.size());
  return distinct.size();
}

std::string RandomValues(std::mt19937_64& rng, size_t count, size_t length) {
  std::string out(count * length, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

TEST(DistinctDigestsTest, RepeatedValuesShareOneSlot) {
  std::mt19937_64 rng(1);
  const std::string pool = RandomValues(rng, 300, 32);
  std::string data;
  for (int i = 0; i < 20000; ++i) data += pool.substr((rng() % 300) * 32, 32);
  DistinctDigests d;
  d.Find(data.data(), 32, 20000);
  EXPECT_EQ(ExpectEachAtItsSlot(d, data, 32), d.size());
  EXPECT_EQ(d.size(), 300u);
}

TEST(DistinctDigestsTest, DistinctValuesAllKept) {
  std::mt19937_64 rng(2);
  for (size_t count : {0u, 1u, 7u, 5000u, 20000u}) {
    const std::string data = RandomValues(rng, count, 16);
    DistinctDigests d;
    d.Find(data.data(), 16, count);
    EXPECT_EQ(ExpectEachAtItsSlot(d, data, 16), count);
    EXPECT_EQ(d.size(), count);
  }
}

TEST(DistinctDigestsTest, ReusedAcrossCallsOfOtherSizes) {
  std::mt19937_64 rng(3);
  DistinctDigests d;
  const std::string big = RandomValues(rng, 9000, 32);
  d.Find(big.data(), 32, 9000);
  const std::string one = big.substr(0, 32) + big.substr(0, 32);
  d.Find(one.data(), 32, 2);
  EXPECT_EQ(ExpectEachAtItsSlot(d, one, 32), 1u);
  EXPECT_EQ(d.size(), 1u);
}

// Values alike in all but their last bytes, and mostly repeated after the
// first sample: still exact, whatever the table does with them.
TEST(DistinctDigestsTest, NearlyEqualValuesStayApart) {
  std::string data;
  for (int i = 0; i < 12000; ++i) {
    std::string v(32, 'x');
    const int n = i % 5000;
    std::memcpy(&v[28], &n, 4);
    data += v;
  }
  DistinctDigests d;
  d.Find(data.data(), 32, 12000);
  EXPECT_EQ(ExpectEachAtItsSlot(d, data, 32), 5000u);
}

// Few repeats in the first values: the rest is kept as it comes, still
// each value at its slot.
TEST(DistinctDigestsTest, StopsLookingWhenFewRepeat) {
  std::mt19937_64 rng(4);
  std::string data = RandomValues(rng, 6000, 32);
  data += data.substr(0, 32 * 100);
  DistinctDigests d;
  d.Find(data.data(), 32, 6100);
  ExpectEachAtItsSlot(d, data, 32);
  EXPECT_EQ(d.size(), 6100u);
}

}  // namespace
}  // namespace optout::service

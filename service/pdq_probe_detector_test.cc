// PdqProbeDetector and PdqProbeGuard: the one-bit-at-a-time recovery of a
// stored hash is caught long before it succeeds, one request or many, in
// the plain hash or hidden among regions; unrelated hashes, near-duplicate
// pairs, repeats and the hashes of one item are not; groups leak over the
// window; a throttled caller is refused with a RetryInfo delay until the
// throttle ends, and others are not.
#include "service/pdq_probe_detector.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/over_budget.h"
#include "service/pdq_probe_guard.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using storage::Code256;
using ::testing::HasSubstr;

constexpr int kThreshold = 31;  // optoutd's default --pdq_threshold

Code256 RandomHash(std::mt19937_64& rng) {
  // 128 of 256 bits set, as real PDQ hashes (validation wants 96..160).
  std::vector<int> bits(256);
  std::iota(bits.begin(), bits.end(), 0);
  std::shuffle(bits.begin(), bits.end(), rng);
  Code256 code{};
  for (int i = 0; i < 128; ++i) code[bits[i] / 64] |= uint64_t{1} << (bits[i] % 64);
  return code;
}

Code256 Flip(Code256 code, int bit) {
  code[bit / 64] ^= uint64_t{1} << (bit % 64);
  return code;
}

Code256 FlipRandom(const Code256& code, int n, std::mt19937_64& rng) {
  std::vector<int> bits(256);
  std::iota(bits.begin(), bits.end(), 0);
  std::shuffle(bits.begin(), bits.end(), rng);
  Code256 out = code;
  for (int i = 0; i < n; ++i) out = Flip(out, bits[i]);
  return out;
}

// The attack of issue 10 against a threshold oracle: from `start` (within
// the threshold of `stored`), walk to the edge of the ball, then test each
// bit. `query` answers matched / not and returns false to stop the attack.
// Returns the recovered hash (valid only when the walk was not stopped).
template <typename Query>
Code256 RecoverOneBitAtATime(const Code256& start, Query&& query, bool* stopped) {
  *stopped = false;
  bool matched = false;
  Code256 q = start;
  // Phase 1: flip bits while the answer stays "matched": each kept flip
  // moves one bit further, until the next one would leave the ball.
  int edge_bit = -1;
  for (int bit = 0; bit < 256; ++bit) {
    if (!query(Flip(q, bit), &matched)) return *stopped = true, q;
    if (matched) {
      q = Flip(q, bit);
    } else {
      edge_bit = bit;
      break;
    }
  }
  // q is at the edge: a flip that stays matched corrects a wrong bit.
  Code256 recovered = q;
  for (int bit = 0; bit < 256; ++bit) {
    if (bit == edge_bit) continue;
    if (!query(Flip(q, bit), &matched)) return *stopped = true, q;
    if (matched) recovered = Flip(recovered, bit);
  }
  // The edge bit is right: flipping it left the ball.
  return recovered;
}

int Distance(const Code256& a, const Code256& b) { return storage::HammingDistance(a, b); }

TEST(PdqProbeDetectorTest, TheOracleAttackRecoversAHashWhenNothingStopsIt) {
  // The attack itself, so the tests below stop something that works.
  std::mt19937_64 rng(1);
  const Code256 stored = RandomHash(rng);
  const Code256 start = FlipRandom(stored, kThreshold, rng);
  int queries = 0;
  bool stopped = false;
  const Code256 recovered = RecoverOneBitAtATime(
      start,
      [&](const Code256& q, bool* matched) {
        ++queries;
        *matched = Distance(q, stored) <= kThreshold;
        return true;
      },
      &stopped);
  EXPECT_FALSE(stopped);
  EXPECT_EQ(recovered, stored);
  EXPECT_GT(queries, 250);
}

TEST(PdqProbeDetectorTest, OneBitAtATimeRecoveryIsCaughtAtTheLimit) {
  const PdqProbeOptions options;
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed);
    PdqProbeDetector detector(options, seed);
    const Code256 stored = RandomHash(rng);
    const absl::Time t0 = absl::FromUnixSeconds(1700000000);
    int queries = 0;
    bool stopped = false;
    const Code256 recovered = RecoverOneBitAtATime(
        FlipRandom(stored, kThreshold, rng),
        [&](const Code256& q, bool* matched) {
          // One query a second.
          const double size = detector.Observe({q}, t0 + absl::Seconds(queries++));
          *matched = Distance(q, stored) <= kThreshold;
          return size <= options.limit;
        },
        &stopped);
    EXPECT_TRUE(stopped) << "seed " << seed;
    EXPECT_NE(recovered, stored);
    EXPECT_EQ(queries, options.limit + 1) << "seed " << seed;
  }
}

TEST(PdqProbeDetectorTest, ABatchOfSingleBitFlipsIsCaughtAtTheLimit) {
  // The batched form: every single-bit flip of one hash in one request.
  const PdqProbeOptions options;
  std::mt19937_64 rng(4);
  PdqProbeDetector detector(options, 4);
  const Code256 edge = RandomHash(rng);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  int tripped_at = -1;
  for (int bit = 0; bit < 256 && tripped_at < 0; ++bit) {
    if (detector.Observe({Flip(edge, bit)}, now) > options.limit) tripped_at = bit;
  }
  EXPECT_EQ(tripped_at, options.limit);
}

TEST(PdqProbeDetectorTest, UnrelatedHashesAndNearDuplicatePairsAreNotProbing) {
  const PdqProbeOptions options;
  std::mt19937_64 rng(5);
  PdqProbeDetector detector(options, 5);
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  double largest = 0;
  // A crawl of 20,000 unrelated images, each followed now and then by a
  // re-encoded copy of it (a few bits off) and by an exact repeat.
  for (int i = 0; i < 20000; ++i) {
    const absl::Time now = t0 + absl::Milliseconds(10 * i);
    const Code256 image = RandomHash(rng);
    largest = std::max(largest, detector.Observe({image}, now));
    if (i % 3 == 0) largest = std::max(largest, detector.Observe({FlipRandom(image, 4, rng)}, now));
    if (i % 5 == 0) largest = std::max(largest, detector.Observe({image}, now));
  }
  // At most an image, its copy and a repeat (near the copy): 3.
  EXPECT_LE(largest, 3);
}

TEST(PdqProbeDetectorTest, RepeatsAreNotCounted) {
  const PdqProbeOptions options;
  std::mt19937_64 rng(6);
  PdqProbeDetector detector(options, 6);
  const Code256 hash = RandomHash(rng);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(detector.Observe({hash}, now), 1);
}

TEST(PdqProbeDetectorTest, TheHashesOfOneItemCountOnce) {
  // An image's variants and regions may be near its plain hash (a trimmed
  // copy of an image without borders is the image): one item, one query.
  const PdqProbeOptions options;
  std::mt19937_64 rng(7);
  PdqProbeDetector detector(options, 7);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  for (int i = 0; i < 500; ++i) {
    const Code256 plain = RandomHash(rng);
    std::vector<Code256> hashes = {plain, plain};
    for (int r = 0; r < 20; ++r) hashes.push_back(FlipRandom(plain, 2 + r, rng));
    for (int r = 0; r < 8; ++r) hashes.push_back(RandomHash(rng));
    EXPECT_EQ(detector.Observe(hashes, now), 1) << "item " << i;
  }
}

TEST(PdqProbeDetectorTest, GroupsLeakOverTheWindow) {
  PdqProbeOptions options;
  options.limit = 10;
  options.window = absl::Hours(1);
  std::mt19937_64 rng(8);
  PdqProbeDetector detector(options, 8);
  const Code256 center = RandomHash(rng);
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  // 10 per hour leak: a near query every 7 minutes never passes 10...
  double largest = 0;
  for (int i = 0; i < 100; ++i) {
    largest = std::max(largest, detector.Observe({Flip(center, i)}, t0 + absl::Minutes(7 * i)));
  }
  EXPECT_LE(largest, options.limit);
  // ...one a minute does, on the way.
  PdqProbeDetector fast(options, 8);
  largest = 0;
  for (int i = 0; i < 100; ++i) {
    largest = std::max(largest, fast.Observe({Flip(center, i)}, t0 + absl::Minutes(i)));
  }
  EXPECT_GT(largest, options.limit);
}

TEST(PdqProbeDetectorTest, AProbeHiddenAmongDecoyRegionsIsCaughtToo) {
  // The walk sent as one region among 62 random ones, under a random plain
  // hash: its queries enter the ring only now and then, but once one is
  // in, each later one is near it and enters too.
  const PdqProbeOptions options;
  std::mt19937_64 rng(9);
  PdqProbeDetector detector(options, 9);
  const Code256 edge = RandomHash(rng);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  int tripped_at = -1;
  for (int i = 0; i < 2000 && tripped_at < 0; ++i) {
    std::vector<Code256> hashes = {RandomHash(rng)};
    for (int r = 0; r < 62; ++r) hashes.push_back(RandomHash(rng));
    hashes.insert(hashes.begin() + 1 + static_cast<int>(rng() % 62), Flip(edge, i % 256));
    if (detector.Observe(hashes, now) > options.limit) tripped_at = i;
  }
  EXPECT_GE(tripped_at, options.limit);
  EXPECT_LT(tripped_at, 600) << "a hidden walk of 256 queries must not finish unseen";
}

v1::CheckRequest PdqRequest(const std::vector<Code256>& hashes) {
  v1::CheckRequest request;
  for (const Code256& hash : hashes) {
    request.add_items()->mutable_pdq()->set_hash(storage::CodeToBytes(hash));
  }
  return request;
}

TEST(PdqProbeGuardTest, AProbingKeyIsThrottledWithRetryInfoAndOthersAreNot) {
  PdqProbeOptions options;
  options.limit = 16;
  options.throttle = absl::Minutes(10);
  PdqProbeGuard guard(options);
  std::mt19937_64 rng(10);
  const Code256 edge = RandomHash(rng);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const ProbeCaller prober{false, "prober"};
  const ProbeCaller crawler{false, "crawler"};

  std::vector<Code256> walk;
  for (int bit = 0; bit < 10; ++bit) walk.push_back(Flip(edge, bit));
  bool tripped = true;
  EXPECT_THAT(guard.Observe(prober, PdqRequest(walk), now, &tripped), IsOk());
  EXPECT_FALSE(tripped);
  walk.clear();
  for (int bit = 10; bit < 20; ++bit) walk.push_back(Flip(edge, bit));
  absl::Status refused = guard.Observe(prober, PdqRequest(walk), now, &tripped);
  EXPECT_TRUE(tripped);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("PDQ checks of API key prober are paused")));
  EXPECT_THAT(refused.message(), HasSubstr("probing"));
  EXPECT_TRUE(refused.GetPayload(kRetryInfoTypeUrl).has_value());
  EXPECT_THAT(refused.message(), HasSubstr("retry in 600 s"));
  EXPECT_EQ(guard.trips(), 1u);

  // Throttled until the throttle ends, whatever it sends.
  EXPECT_THAT(guard.CheckThrottled(prober, now + absl::Minutes(5)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("retry in 300 s")));
  EXPECT_THAT(guard.CheckThrottled(prober, now + absl::Minutes(10)), IsOk());
  // Another key sending the same hashes is its own caller.
  EXPECT_THAT(guard.CheckThrottled(crawler, now), IsOk());
  EXPECT_THAT(guard.Observe(crawler, PdqRequest({RandomHash(rng)}), now, &tripped), IsOk());
  EXPECT_EQ(guard.refused(), 2u);
}

TEST(PdqProbeGuardTest, PackedDihedralItemsCountOncePerItem) {
  PdqProbeOptions options;
  options.limit = 8;
  PdqProbeGuard guard(options);
  std::mt19937_64 rng(11);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const ProbeCaller caller{false, "bulk"};
  // 500 unrelated images, each with 8 variants near one another: fine.
  v1::CheckRequest request;
  v1::PackedItems* packed = request.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  packed->set_pdq_dihedral(true);
  for (int i = 0; i < 500; ++i) {
    const Code256 plain = RandomHash(rng);
    for (int v = 0; v < 9; ++v) {
      packed->mutable_data()->append(storage::CodeToBytes(FlipRandom(plain, v, rng)));
    }
  }
  bool tripped = true;
  EXPECT_THAT(guard.Observe(caller, request, now, &tripped), IsOk());
  EXPECT_FALSE(tripped);
  // A walk in the same form is caught.
  const Code256 edge = RandomHash(rng);
  packed->clear_data();
  for (int i = 0; i < 20; ++i) {
    for (int v = 0; v < 9; ++v) {
      packed->mutable_data()->append(storage::CodeToBytes(v == 0 ? Flip(edge, i) : RandomHash(rng)));
    }
  }
  EXPECT_THAT(guard.Observe(caller, request, now, &tripped),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("API key bulk")));
  EXPECT_TRUE(tripped);
}

TEST(PdqProbeGuardTest, AnonymousPeersAreBoundedLeastRecentFirst) {
  PdqProbeOptions options;
  options.limit = 4;
  PdqProbeGuard guard(options);
  std::mt19937_64 rng(12);
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  const Code256 edge = RandomHash(rng);
  std::vector<Code256> walk;
  for (int bit = 0; bit < 6; ++bit) walk.push_back(Flip(edge, bit));
  bool tripped = false;
  const ProbeCaller prober{true, "10.0.0.1"};
  EXPECT_FALSE(guard.Observe(prober, PdqRequest(walk), t0, &tripped).ok());
  EXPECT_FALSE(guard.CheckThrottled(prober, t0).ok());
  // As many other peers as the table holds, all seen later: the prober,
  // least recently seen, is forgotten (and indistinguishable from new).
  const v1::CheckRequest one = PdqRequest({RandomHash(rng)});
  for (size_t i = 0; i < PdqProbeGuard::kMaxPeers; ++i) {
    const std::string peer = absl::StrCat("10.1.", i / 256, ".", i % 256);
    ASSERT_THAT(guard.Observe({true, peer}, one, t0 + absl::Seconds(1), &tripped), IsOk());
  }
  EXPECT_THAT(guard.CheckThrottled(prober, t0 + absl::Seconds(2)), IsOk());
}

TEST(PdqProbeGuardTest, LimitZeroTurnsItOff) {
  PdqProbeOptions options;
  options.limit = 0;
  PdqProbeGuard guard(options);
  EXPECT_FALSE(guard.enabled());
  std::mt19937_64 rng(13);
  const Code256 edge = RandomHash(rng);
  std::vector<Code256> walk;
  for (int bit = 0; bit < 256; ++bit) walk.push_back(Flip(edge, bit));
  bool tripped = true;
  EXPECT_THAT(guard.Observe({false, "k"}, PdqRequest(walk), absl::Now(), &tripped), IsOk());
  EXPECT_FALSE(tripped);
}

}  // namespace
}  // namespace optout::service

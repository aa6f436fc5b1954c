// The low-quality PDQ tier (README.md#matching): hashes of quality
// --low_quality_pdq_floor..--min_pdq_quality-1 are registered and checked,
// and any pair with such a hash on one side matches only within
// --low_quality_pdq_distance.
#include <memory>
#include <random>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "optout/internal/record.pb.h"
#include "service/opt_out_codec.h"
#include "service/registry.h"
#include "service/testing/in_memory_registry.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kLowDistance = 20;

std::string RandomPdq(uint32_t seed) {
  std::mt19937 rng(seed);
  std::string h(32, '\0');
  for (char& c : h) c = static_cast<char>(rng());
  return h;
}

// `bits` bits flipped from the end of the hash (past the first bytes, so
// that two flips of one hash from different ends are independent).
std::string FlipBits(std::string h, int bits) {
  for (int i = 0; i < bits; ++i) h[31 - i / 8] = static_cast<char>(h[31 - i / 8] ^ (1 << (i % 8)));
  return h;
}

class LowQualityTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(db_.Init(), IsOk());
    Reopen(RegistryOptions());
  }

  // Closes and opens the registry on the same store, as a restart would.
  void Reopen(const RegistryOptions& options) {
    ASSERT_THAT(db_.Reopen(testing::FilledSecret(7), options), IsOk());
    registry_ = db_.registry();
  }

  v1::RegisterResponse MustRegister(const std::string& hash, int quality,
                                    const std::string& region = "") {
    v1::RegisterRequest request;
    v1::PdqHash* pdq = request.add_pdq();
    pdq->set_hash(hash);
    pdq->set_quality(quality);
    if (!region.empty()) pdq->add_regions(region);
    auto response = registry_->Register(request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : v1::RegisterResponse();
  }

  // Match ids of one typed PDQ item; quality < 0: none given.
  std::vector<std::string> Check(const std::string& hash, int quality,
                                 const std::string& region = "") {
    v1::CheckRequest request;
    v1::PdqHash* pdq = request.add_items()->mutable_pdq();
    pdq->set_hash(hash);
    if (quality >= 0) pdq->set_quality(quality);
    if (!region.empty()) pdq->add_regions(region);
    v1::CheckResponse response;
    EXPECT_THAT(registry_->Check(request, &response), IsOk());
    if (response.results_size() != 1) return {};
    return {response.results(0).match_ids().begin(), response.results(0).match_ids().end()};
  }

  testing::InMemoryRegistry db_;
  Registry* registry_ = nullptr;
};

TEST_F(LowQualityTierTest, ALowQualityHashMatchesOnlyWithinTheStricterDistance) {
  const std::string low = RandomPdq(1);
  const std::string window = RandomPdq(2);
  const v1::RegisterResponse r = MustRegister(low, 30, window);
  ASSERT_EQ(r.items_size(), 1);
  const std::string id = r.items(0).match_id();

  // Checked as normal (quality >= 50 or unstated) or low-quality alike.
  for (int quality : {-1, 90, 30}) {
    SCOPED_TRACE(quality);
    EXPECT_THAT(Check(FlipBits(low, kLowDistance), quality), ElementsAre(id));
    EXPECT_THAT(Check(FlipBits(low, kLowDistance + 1), quality), ::testing::IsEmpty());
    EXPECT_THAT(Check(FlipBits(low, 31), quality), ::testing::IsEmpty());
    // Its window, and the checker's regions, likewise.
    EXPECT_THAT(Check(FlipBits(window, kLowDistance), quality), ElementsAre(id));
    EXPECT_THAT(Check(FlipBits(window, kLowDistance + 1), quality), ::testing::IsEmpty());
    EXPECT_THAT(Check(RandomPdq(3), quality, FlipBits(window, 5)), ElementsAre(id));
  }

  // The tier is sealed with the record and comes back with it.
  Reopen(RegistryOptions());
  EXPECT_THAT(Check(FlipBits(low, kLowDistance), -1), ElementsAre(id));
  EXPECT_THAT(Check(FlipBits(low, kLowDistance + 1), -1), ::testing::IsEmpty());

  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(r.opt_out_id());
  revoke.set_manage_token(r.manage_token());
  ASSERT_THAT(registry_->Revoke(revoke), IsOk());
  EXPECT_THAT(Check(low, -1), ::testing::IsEmpty());
  EXPECT_THAT(Check(window, 30), ::testing::IsEmpty());
}

TEST_F(LowQualityTierTest, ALowQualityCandidateMatchesNormalHashesOnlyWithinTheStricterDistance) {
  const std::string normal = RandomPdq(10);
  const v1::RegisterResponse r = MustRegister(normal, 80);
  const std::string id = r.items(0).match_id();
  EXPECT_THAT(Check(FlipBits(normal, 31), 80), ElementsAre(id));
  EXPECT_THAT(Check(FlipBits(normal, 31), -1), ElementsAre(id));
  EXPECT_THAT(Check(FlipBits(normal, 31), 49), ::testing::IsEmpty());
  EXPECT_THAT(Check(FlipBits(normal, kLowDistance + 1), 15), ::testing::IsEmpty());
  EXPECT_THAT(Check(FlipBits(normal, kLowDistance), 15), ElementsAre(id));
  // Its regions are the item's: low-quality too.
  EXPECT_THAT(Check(RandomPdq(11), 30, FlipBits(normal, 31)), ::testing::IsEmpty());
  EXPECT_THAT(Check(RandomPdq(11), 30, FlipBits(normal, kLowDistance)), ElementsAre(id));
}

TEST_F(LowQualityTierTest, PackedItemsCarryTheirTierInABitmap) {
  const std::string normal = RandomPdq(20);
  const std::string low = RandomPdq(21);
  MustRegister(normal, 90);
  MustRegister(low, 20);
  v1::CheckRequest request;
  v1::PackedItems* packed = request.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  // Items: normal+31 (normal: match), normal+31 (low: none), low+20 (low:
  // match), low+21 (normal: none), with one region each.
  for (const std::string& h : {FlipBits(normal, 31), FlipBits(normal, 31), FlipBits(low, 20),
                               FlipBits(low, 21)}) {
    packed->mutable_data()->append(h);
    packed->mutable_data()->append(RandomPdq(22));
    packed->add_counts(1);
  }
  packed->set_pdq_low_quality(std::string(1, static_cast<char>(0b0110)));
  v1::CheckResponse response;
  ASSERT_THAT(registry_->Check(request, &response), IsOk());
  ASSERT_EQ(response.packed_verdicts_size(), 1);
  EXPECT_EQ(response.packed_verdicts(0).matched_bitmap(), std::string(1, static_cast<char>(0b0101)));
}

TEST_F(LowQualityTierTest, MalformedTierBitmapsAreRefusedNamingTheField) {
  v1::CheckRequest request;
  v1::PackedItems* packed = request.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  for (int i = 0; i < 3; ++i) packed->mutable_data()->append(RandomPdq(30 + i));
  v1::CheckResponse response;
  packed->set_pdq_low_quality(std::string(2, '\0'));
  EXPECT_THAT(registry_->Check(request, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("packed[0].pdq_low_quality: must be empty or 1 bytes for 3 items")));
  packed->set_pdq_low_quality(std::string(1, static_cast<char>(0b1000)));
  EXPECT_THAT(registry_->Check(request, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("packed[0].pdq_low_quality: has bits set past item 2")));
  packed->set_kind(v1::PackedItems::KIND_SHA256);
  packed->set_pdq_low_quality(std::string(1, '\1'));
  EXPECT_THAT(registry_->Check(request, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("packed[0].pdq_low_quality: only KIND_PDQ")));
}

TEST_F(LowQualityTierTest, QualitiesBelowTheFloorAreRefusedNamingTheField) {
  v1::RegisterRequest request;
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(RandomPdq(40));
  pdq->set_quality(14);
  EXPECT_THAT(registry_->Register(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pdq[0].quality: quality 14 is outside 15..100")));
  v1::CheckRequest check;
  v1::PdqHash* item = check.add_items()->mutable_pdq();
  item->set_hash(RandomPdq(41));
  item->set_quality(0);
  v1::CheckResponse response;
  EXPECT_THAT(registry_->Check(check, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("items[0].pdq.quality: quality 0 is outside 15..100")));
  pdq->set_quality(15);
  EXPECT_THAT(registry_->Register(request), IsOk());
}

TEST_F(LowQualityTierTest, AFloorAtTheMinimumTurnsTheTierOff) {
  RegistryOptions options;
  options.low_quality_pdq_floor = options.min_pdq_quality;
  Reopen(options);
  v1::RegisterRequest request;
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(RandomPdq(50));
  pdq->set_quality(30);
  EXPECT_THAT(registry_->Register(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pdq[0].quality: quality 30 is outside 50..100")));
  EXPECT_EQ(registry_->Info().low_quality_pdq_floor(), 0);
  EXPECT_EQ(registry_->Info().low_quality_pdq_distance(), 0);

  Reopen(RegistryOptions());
  EXPECT_EQ(registry_->Info().low_quality_pdq_floor(), 15);
  EXPECT_EQ(registry_->Info().low_quality_pdq_distance(), kLowDistance);
}

TEST_F(LowQualityTierTest, TheTierIsStoredOnlyWhenSomeHashIsLowQuality) {
  v1::RegisterRequest request;
  for (int quality : {90, 30, 90}) {
    v1::PdqHash* pdq = request.add_pdq();
    pdq->set_hash(RandomPdq(60 + quality));  // the third repeats the first
    pdq->set_quality(quality);
  }
  auto content = SaltableContent(request, db_.psl(), nullptr, 50);
  ASSERT_THAT(content, IsOk());
  ASSERT_EQ(content->pdq_size(), 2);
  EXPECT_THAT(content->pdq_low_quality(), ElementsAre(false, true));

  request.mutable_pdq(1)->set_quality(50);
  content = SaltableContent(request, db_.psl(), nullptr, 50);
  ASSERT_THAT(content, IsOk());
  EXPECT_EQ(content->pdq_low_quality_size(), 0);  // fingerprints as before the tier
}

// Per-region tiers (PdqHash.region_quality): a region below the minimum is
// low-quality even on a normal image; a region is normal only when it and
// its image are.
TEST_F(LowQualityTierTest, RegisteredRegionsBelowTheMinimumAreLowQualityEvenOnANormalImage) {
  EXPECT_TRUE(registry_->Info().pdq_region_tiers());
  const std::string normal = RandomPdq(70);
  const std::string low_window = RandomPdq(71);     // quality 30, of a normal image
  const std::string normal_window = RandomPdq(72);  // quality 80
  const std::string smooth = RandomPdq(73);         // a low-quality image
  const std::string sharp_window = RandomPdq(74);   // quality 60, of the smooth image
  v1::RegisterRequest request;
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(normal);
  pdq->set_quality(90);
  pdq->add_regions(low_window);
  pdq->add_region_quality(30);
  pdq->add_regions(normal_window);
  pdq->add_region_quality(80);
  auto r = registry_->Register(request);
  ASSERT_THAT(r, IsOk());
  const std::string id = r->items(0).match_id();
  const v1::RegisterResponse s = [&] {
    v1::RegisterRequest smooth_request;
    v1::PdqHash* p = smooth_request.add_pdq();
    p->set_hash(smooth);
    p->set_quality(30);
    p->add_regions(sharp_window);
    p->add_region_quality(60);
    auto response = registry_->Register(smooth_request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : v1::RegisterResponse();
  }();
  ASSERT_EQ(s.items_size(), 1);
  const std::string smooth_id = s.items(0).match_id();

  for (bool restarted : {false, true}) {
    SCOPED_TRACE(restarted);
    if (restarted) Reopen(RegistryOptions());  // the tiers are sealed with the record
    EXPECT_THAT(Check(FlipBits(normal, 31), 90), ElementsAre(id));
    EXPECT_THAT(Check(FlipBits(normal_window, 31), 90), ElementsAre(id));
    EXPECT_THAT(Check(FlipBits(low_window, kLowDistance), 90), ElementsAre(id));
    EXPECT_THAT(Check(FlipBits(low_window, kLowDistance + 1), 90), ::testing::IsEmpty());
    EXPECT_THAT(Check(FlipBits(smooth, kLowDistance + 1), 90), ::testing::IsEmpty());
    // A detailed window of a low-quality image stays in its image's tier.
    EXPECT_THAT(Check(FlipBits(sharp_window, kLowDistance), 90), ElementsAre(smooth_id));
    EXPECT_THAT(Check(FlipBits(sharp_window, kLowDistance + 1), 90), ::testing::IsEmpty());
  }
}

TEST_F(LowQualityTierTest, CheckedRegionsBelowTheMinimumAreLowQualityEvenOnANormalImage) {
  const std::string normal = RandomPdq(80);
  MustRegister(normal, 90);
  // A typed item: a region of quality 30 of a normal image is low-quality,
  // and so is one of quality 60 of a low-quality image.
  auto check = [&](int quality, int region_quality, int bits) {
    v1::CheckRequest request;
    v1::PdqHash* pdq = request.add_items()->mutable_pdq();
    pdq->set_hash(RandomPdq(81));
    pdq->set_quality(quality);
    pdq->add_regions(FlipBits(normal, bits));
    pdq->add_region_quality(region_quality);
    v1::CheckResponse response;
    EXPECT_THAT(registry_->Check(request, &response), IsOk());
    return response.results_size() == 1 && response.results(0).matched();
  };
  EXPECT_TRUE(check(90, 30, kLowDistance));
  EXPECT_FALSE(check(90, 30, kLowDistance + 1));
  EXPECT_TRUE(check(90, 60, 31));
  EXPECT_TRUE(check(30, 60, kLowDistance));
  EXPECT_FALSE(check(30, 60, kLowDistance + 1));

  // Packed: items normal, low, normal, normal (pdq_low_quality); their
  // regions' bits low, normal, low, normal (pdq_region_low_quality).
  v1::CheckRequest request;
  v1::PackedItems* packed = request.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  const int flips[] = {kLowDistance + 1, kLowDistance + 1, kLowDistance, 31};
  for (int i = 0; i < 4; ++i) {
    packed->mutable_data()->append(RandomPdq(82 + i));
    packed->mutable_data()->append(FlipBits(normal, flips[i]));
    packed->add_counts(1);
  }
  packed->set_pdq_low_quality(std::string(1, static_cast<char>(0b0010)));
  packed->set_pdq_region_low_quality(std::string(1, static_cast<char>(0b0101)));
  v1::CheckResponse response;
  ASSERT_THAT(registry_->Check(request, &response), IsOk());
  ASSERT_EQ(response.packed_verdicts_size(), 1);
  // Low at 21: no; low by its item at 21: no; low at 20: yes; normal at 31:
  // yes.
  EXPECT_EQ(response.packed_verdicts(0).matched_bitmap(), std::string(1, static_cast<char>(0b1100)));
}

// A region's mirror (PdqHash.region_mirrors) is matched in its region's
// tier: its quality is the region's (the same pixels, swapped).
TEST_F(LowQualityTierTest, CheckedRegionMirrorsTakeTheirRegionsTier) {
  const std::string normal = RandomPdq(86);
  MustRegister(normal, 90);
  auto check = [&](int region_quality, int bits) {
    v1::CheckRequest request;
    v1::PdqHash* pdq = request.add_items()->mutable_pdq();
    pdq->set_hash(RandomPdq(87));
    pdq->set_quality(90);
    pdq->add_regions(RandomPdq(88));
    pdq->add_region_quality(region_quality);
    pdq->add_region_mirrors(FlipBits(normal, bits));
    v1::CheckResponse response;
    EXPECT_THAT(registry_->Check(request, &response), IsOk());
    return response.results_size() == 1 && response.results(0).matched();
  };
  EXPECT_TRUE(check(30, kLowDistance));
  EXPECT_FALSE(check(30, kLowDistance + 1));
  EXPECT_TRUE(check(60, 31));
  EXPECT_FALSE(check(60, 32));
}

TEST_F(LowQualityTierTest, MalformedRegionTiersAreRefusedNamingTheField) {
  v1::RegisterRequest request;
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(RandomPdq(90));
  pdq->set_quality(90);
  pdq->add_regions(RandomPdq(91));
  pdq->add_regions(RandomPdq(92));
  pdq->add_region_quality(60);
  EXPECT_THAT(registry_->Register(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pdq[0].region_quality: must be empty or one per region (2), got 1")));
  pdq->add_region_quality(14);
  EXPECT_THAT(registry_->Register(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pdq[0].region_quality[1]: quality 14 is outside 15..100")));

  v1::CheckRequest check;
  v1::PackedItems* packed = check.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  for (int i = 0; i < 2; ++i) {
    packed->mutable_data()->append(RandomPdq(93 + i));
    packed->mutable_data()->append(RandomPdq(95 + i));
    packed->mutable_data()->append(RandomPdq(97 + i));
    packed->add_counts(2);
  }
  v1::CheckResponse response;
  packed->set_pdq_region_low_quality(std::string(2, '\0'));
  EXPECT_THAT(registry_->Check(check, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("packed[0].pdq_region_low_quality: must be empty or 1 bytes for "
                                 "4 region hashes")));
  packed->set_pdq_region_low_quality(std::string(1, static_cast<char>(0b10000)));
  EXPECT_THAT(registry_->Check(check, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("packed[0].pdq_region_low_quality: has bits set past region hash 3")));
  packed->clear_counts();
  packed->set_pdq_region_low_quality(std::string(1, '\1'));
  EXPECT_THAT(registry_->Check(check, &response),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("packed[0].pdq_region_low_quality: only KIND_PDQ items with "
                                 "region counts")));
}

TEST_F(LowQualityTierTest, RegionTiersAreStoredOnlyWhenRegionQualitiesAreGiven) {
  v1::RegisterRequest request;
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(RandomPdq(100));
  pdq->set_quality(90);
  pdq->add_regions(RandomPdq(101));
  auto content = SaltableContent(request, db_.psl(), nullptr, 50);
  ASSERT_THAT(content, IsOk());
  EXPECT_EQ(content->pdq_region_low_quality_size(), 0);  // fingerprints as before

  pdq->add_region_quality(30);
  v1::PdqHash* low = request.add_pdq();  // a low-quality image without region qualities
  low->set_hash(RandomPdq(102));
  low->set_quality(20);
  low->add_regions(RandomPdq(103));
  low->add_regions(RandomPdq(104));
  v1::PdqHash* smooth = request.add_pdq();  // and one with a detailed region
  smooth->set_hash(RandomPdq(105));
  smooth->set_quality(30);
  smooth->add_regions(RandomPdq(106));
  smooth->add_region_quality(90);
  content = SaltableContent(request, db_.psl(), nullptr, 50);
  ASSERT_THAT(content, IsOk());
  EXPECT_THAT(content->pdq_region_low_quality(),
              ElementsAre(std::string(1, '\1'), std::string(1, static_cast<char>(0b11)),
                          std::string(1, '\1')));
}

}  // namespace
}  // namespace optout::service

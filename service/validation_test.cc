#include "service/validation.h"

#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "client/common/protocol/packed_items.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

std::string Pdq(char fill) { return std::string(32, fill); }
std::string MixedPdq() {
  std::string h(32, '\x5a');  // 4 of 8 bits per byte
  h[0] = 1;                    // 125 bits in all, like a real PDQ hash
  return h;
}

// A hash with exactly `bits` bits set (the first ones).
std::string PdqWithBits(int bits) {
  std::string h(32, '\0');
  for (int i = 0; i < bits; ++i) h[i / 8] = static_cast<char>(h[i / 8] | (1 << (i % 8)));
  return h;
}

v1::PdqHash* AddPdq(v1::RegisterRequest* r, const std::string& hash) {
  v1::PdqHash* pdq = r->add_pdq();
  pdq->set_hash(hash);
  pdq->set_quality(100);
  return pdq;
}

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field)));
}

TEST(ValidationTest, EmptyRegistrationIsRejected) {
  ExpectInvalid(ValidateRegisterRequest(v1::RegisterRequest(), RegistryOptions()), "empty");
}

TEST(ValidationTest, RegistrationNamesTheBadPdqItemAndField) {
  v1::RegisterRequest r;
  AddPdq(&r, MixedPdq());
  AddPdq(&r, std::string(31, 'x'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[1].hash");
}

TEST(ValidationTest, AllZeroAndAllOneHashesAreRejected) {
  v1::RegisterRequest r;
  AddPdq(&r, Pdq('\0'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].hash");
  r.mutable_pdq(0)->set_hash(Pdq('\xff'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].hash");
}

// Below the minimum (50) down to the low-quality floor (15) a hash is in
// the low-quality tier; below the floor it is refused.
TEST(ValidationTest, QualityIsRequiredOnRegistrationAndMustReachTheFloor) {
  v1::RegisterRequest r;
  r.add_pdq()->set_hash(MixedPdq());
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].quality: required");
  r.mutable_pdq(0)->set_quality(14);
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].quality");
  r.mutable_pdq(0)->set_quality(15);
  EXPECT_THAT(ValidateRegisterRequest(r, RegistryOptions()), IsOk());
  r.mutable_pdq(0)->set_quality(101);
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].quality");
  // Without the tier (floor at the minimum) the minimum is the floor.
  RegistryOptions no_tier;
  no_tier.low_quality_pdq_floor = no_tier.min_pdq_quality;
  r.mutable_pdq(0)->set_quality(49);
  ExpectInvalid(ValidateRegisterRequest(r, no_tier), "pdq[0].quality");
  r.mutable_pdq(0)->set_quality(50);
  EXPECT_THAT(ValidateRegisterRequest(r, no_tier), IsOk());
  // A check may leave the quality out.
  v1::CheckRequest c;
  c.add_items()->mutable_pdq()->set_hash(MixedPdq());
  EXPECT_THAT(ValidateCheckRequest(c, RegistryOptions()), IsOk());
}

// Real PDQ hashes set 125..128 of their 256 bits (measured; validation.h).
TEST(ValidationTest, PdqHashesFarFromHalfTheirBitsSetAreRefusedOnRegisterAndCheck) {
  for (int bits : {1, kMinPdqPopcount - 1, kMaxPdqPopcount + 1, 255}) {
    SCOPED_TRACE(bits);
    v1::RegisterRequest r;
    AddPdq(&r, PdqWithBits(bits));
    ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].hash");
    ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "outside the limit 96..160");
    v1::CheckRequest c;
    c.add_items()->mutable_pdq()->set_hash(PdqWithBits(bits));
    ExpectInvalid(ValidateCheckRequest(c, RegistryOptions()), "items[0].pdq.hash");
    v1::CheckRequest d;
    auto* pdq = d.add_items()->mutable_pdq();
    pdq->set_hash(MixedPdq());
    for (int i = 0; i < 8; ++i) pdq->add_dihedral(i == 6 ? PdqWithBits(bits) : MixedPdq());
    ExpectInvalid(ValidateCheckRequest(d, RegistryOptions()), "items[0].pdq.dihedral[6]");
    v1::CheckRequest p;
    auto* packed = p.add_packed();
    packed->set_kind(v1::PackedItems::KIND_PDQ);
    packed->set_data(MixedPdq() + MixedPdq() + PdqWithBits(bits));
    ExpectInvalid(ValidateCheckRequest(p, RegistryOptions()), "packed[0].data item 2");
  }
  for (int bits : {kMinPdqPopcount, 128, kMaxPdqPopcount}) {
    v1::RegisterRequest r;
    AddPdq(&r, PdqWithBits(bits));
    EXPECT_THAT(ValidateRegisterRequest(r, RegistryOptions()), IsOk()) << bits;
  }
}

TEST(ValidationTest, RequestIdMustCarryAtLeast128BitsOfRandomness) {
  v1::RegisterRequest r;
  r.add_urls("https://example.com/a.jpg");
  EXPECT_THAT(ValidateRegisterRequest(r, RegistryOptions()), IsOk());  // no id: no retries
  for (const char* weak : {"e2e-1", "0123456789abcdef0123456789abcde",  // 31 hex digits
                           "AbCdEfGhIjKlMnOpQrStU",                     // 21 base64url
                           "has space in it but is long enough", "ümlaut-id-long-enough-0123"}) {
    r.set_request_id(weak);
    ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "request_id");
  }
  for (const char* strong : {"0123456789abcdef0123456789abcdef", "AbCdEfGhIjKlMnOpQrStU_",
                             "550e8400-e29b-41d4-a716-446655440000"}) {
    r.set_request_id(strong);
    EXPECT_THAT(ValidateRegisterRequest(r, RegistryOptions()), IsOk()) << strong;
  }
  r.set_request_id(std::string(129, 'a'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "request_id");
}

TEST(ValidationTest, CheckWithoutItemsIsRejected) {
  ExpectInvalid(ValidateCheckRequest(v1::CheckRequest(), RegistryOptions()), "empty check");
  v1::CheckRequest r;
  r.add_packed()->set_kind(v1::PackedItems::KIND_SHA256);  // a group with no data
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "empty check");
}

TEST(ValidationTest, DigestsOfWrongLengthNameTheirIndex) {
  v1::RegisterRequest r;
  r.add_sha256(std::string(32, 'a'));
  r.add_sha256(std::string(16, 'a'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "sha256[1]");
  v1::RegisterRequest m;
  m.add_md5(std::string(32, 'a'));
  ExpectInvalid(ValidateRegisterRequest(m, RegistryOptions()), "md5[0]");
}

TEST(ValidationTest, TooManyPdqHashesInOneRegistrationAreRejected) {
  RegistryOptions options;
  options.max_batch_items = 100000;
  v1::RegisterRequest r;
  for (int i = 0; i < 4097; ++i) AddPdq(&r, MixedPdq());
  ExpectInvalid(ValidateRegisterRequest(r, options), "too many hashes");
}

TEST(ValidationTest, TooManyItemsInACheckIsRejected) {
  RegistryOptions options;
  options.max_batch_items = 3;
  v1::CheckRequest r;
  for (int i = 0; i < 2; ++i) r.add_items()->set_sha256(std::string(32, 'a'));
  auto* packed = r.add_packed();
  packed->set_kind(v1::PackedItems::KIND_SHA256);
  packed->set_data(std::string(64, 'b'));
  ExpectInvalid(ValidateCheckRequest(r, options), "too many items");
}

TEST(ValidationTest, PackedDataMustBeWholeItemsAndCountsMustAddUp) {
  v1::CheckRequest r;
  auto* packed = r.add_packed();
  packed->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  packed->set_data(std::string(33, 'a'));
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "packed[0].data");
  packed->set_data(std::string(96, 'a'));
  packed->add_counts(1);
  packed->add_counts(1);
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "packed[0].counts");
  packed->add_counts(1);
  EXPECT_THAT(ValidateCheckRequest(r, RegistryOptions()), IsOk());
  EXPECT_EQ(protocol::PackedItemCount(*packed), 3u);
}

TEST(ValidationTest, CheckItemWithoutKindOrWithPartialDihedralIsRejected) {
  v1::CheckRequest r;
  r.add_items();
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "items[0]");
  v1::CheckRequest d;
  auto* pdq = d.add_items()->mutable_pdq();
  pdq->set_hash(MixedPdq());
  pdq->add_dihedral(MixedPdq());
  ExpectInvalid(ValidateCheckRequest(d, RegistryOptions()), "items[0].pdq.dihedral");
}

TEST(ValidationTest, PackedPdqRejectsAllZeroHashNamingTheItem) {
  v1::CheckRequest r;
  auto* packed = r.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  packed->set_data(MixedPdq() + Pdq('\0'));
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "item 1");
}

TEST(ValidationTest, PackedPdqCountsAreRegionHashesFollowingEachItem) {
  v1::CheckRequest r;
  auto* packed = r.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  packed->set_pdq_dihedral(true);
  std::string item;
  for (int i = 0; i < 9; ++i) item += MixedPdq();
  // Item 0 with 2 regions, item 1 with none: 3 items would not fit.
  packed->set_data(item + MixedPdq() + MixedPdq() + item);
  packed->add_counts(2);
  packed->add_counts(0);
  EXPECT_THAT(ValidateCheckRequest(r, RegistryOptions()), IsOk());
  EXPECT_EQ(protocol::PackedItemCount(*packed), 2u);  // an image and its regions: one item
  packed->set_counts(1, 1);
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "packed[0].counts");
  packed->set_counts(1, 0);
  packed->mutable_data()->replace(9 * 32, 32, Pdq('\0'));  // a broken region of item 0
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "item 0");
  // At most 8 regions per item: the searches one item buys stay bounded.
  v1::CheckRequest many;
  auto* p = many.add_packed();
  p->set_kind(v1::PackedItems::KIND_PDQ);
  p->set_data(MixedPdq());
  for (int i = 0; i < 9; ++i) *p->mutable_data() += MixedPdq();
  p->add_counts(9);
  ExpectInvalid(ValidateCheckRequest(many, RegistryOptions()), "packed[0].counts[0]");
}

TEST(ValidationTest, CheckedImageCarriesAtMostEightRegions) {
  v1::CheckRequest r;
  auto* pdq = r.add_items()->mutable_pdq();
  pdq->set_hash(MixedPdq());
  for (int i = 0; i < 8; ++i) pdq->add_regions(MixedPdq());
  EXPECT_THAT(ValidateCheckRequest(r, RegistryOptions()), IsOk());
  pdq->add_regions(MixedPdq());
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "items[0].pdq.regions");
}

// A region's mirror rides with its region: one per region or none, so the
// regions' cap bounds an item's searches (1 + 8 + 8 + 8) whatever is sent.
TEST(ValidationTest, CheckedImageCarriesAtMostOneMirrorPerRegion) {
  v1::CheckRequest r;
  auto* pdq = r.add_items()->mutable_pdq();
  pdq->set_hash(MixedPdq());
  for (int i = 0; i < 8; ++i) {
    pdq->add_regions(MixedPdq());
    pdq->add_region_mirrors(MixedPdq());
  }
  EXPECT_THAT(ValidateCheckRequest(r, RegistryOptions()), IsOk());
  pdq->add_region_mirrors(MixedPdq());  // 9 mirrors of 8 regions
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "items[0].pdq.region_mirrors");
  pdq->add_regions(MixedPdq());  // 9 of each: the regions' cap
  ExpectInvalid(ValidateCheckRequest(r, RegistryOptions()), "items[0].pdq.regions");
  // 16 hashes sent as regions are refused too: mirrors go in their field.
  v1::CheckRequest sixteen;
  auto* flat = sixteen.add_items()->mutable_pdq();
  flat->set_hash(MixedPdq());
  for (int i = 0; i < 16; ++i) flat->add_regions(MixedPdq());
  ExpectInvalid(ValidateCheckRequest(sixteen, RegistryOptions()), "items[0].pdq.regions");
  // Fewer mirrors than regions, and a broken mirror.
  v1::CheckRequest fewer;
  auto* f = fewer.add_items()->mutable_pdq();
  f->set_hash(MixedPdq());
  f->add_regions(MixedPdq());
  f->add_regions(MixedPdq());
  f->add_region_mirrors(MixedPdq());
  ExpectInvalid(ValidateCheckRequest(fewer, RegistryOptions()), "items[0].pdq.region_mirrors");
  f->add_region_mirrors(std::string(32, '\0'));
  ExpectInvalid(ValidateCheckRequest(fewer, RegistryOptions()), "items[0].pdq.region_mirrors[1]");
}

TEST(ValidationTest, RegistrationRefusesRegionMirrors) {
  v1::RegisterRequest r;
  AddPdq(&r, MixedPdq());
  r.mutable_pdq(0)->add_regions(MixedPdq());
  EXPECT_THAT(ValidateRegisterRequest(r, RegistryOptions()), IsOk());
  r.mutable_pdq(0)->add_region_mirrors(MixedPdq());
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].region_mirrors");
}

}  // namespace
}  // namespace optout::service

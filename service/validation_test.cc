#include "service/validation.h"

#include <string>

#include "gtest/gtest.h"

namespace optout::service {
namespace {

std::string Pdq(char fill) { return std::string(32, fill); }
std::string MixedPdq() {
  std::string h(32, '\x5a');
  h[0] = 1;
  return h;
}

void ExpectInvalid(const absl::Status& s, const std::string& field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message() << " lacks " << field;
}

TEST(ValidationTest, EmptyRegistrationIsRejected) {
  ExpectInvalid(ValidateRegisterRequest(v1::RegisterRequest(), RegistryOptions()), "empty");
}

TEST(ValidationTest, RegistrationNamesTheBadPdqItemAndField) {
  v1::RegisterRequest r;
  r.add_pdq()->set_hash(MixedPdq());
  r.add_pdq()->set_hash(std::string(31, 'x'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[1].hash");
}

TEST(ValidationTest, AllZeroAndAllOneHashesAreRejected) {
  v1::RegisterRequest r;
  r.add_pdq()->set_hash(Pdq('\0'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].hash");
  r.mutable_pdq(0)->set_hash(Pdq('\xff'));
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].hash");
}

TEST(ValidationTest, QualityBelowMinimumIsRejectedWhenSent) {
  v1::RegisterRequest r;
  r.add_pdq()->set_hash(MixedPdq());
  EXPECT_TRUE(ValidateRegisterRequest(r, RegistryOptions()).ok());
  r.mutable_pdq(0)->set_quality(49);
  ExpectInvalid(ValidateRegisterRequest(r, RegistryOptions()), "pdq[0].quality");
  r.mutable_pdq(0)->set_quality(50);
  EXPECT_TRUE(ValidateRegisterRequest(r, RegistryOptions()).ok());
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
  for (int i = 0; i < 4097; ++i) r.add_pdq()->set_hash(MixedPdq());
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
  EXPECT_TRUE(ValidateCheckRequest(r, RegistryOptions()).ok());
  EXPECT_EQ(PackedItemCount(*packed), 3u);
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

}  // namespace
}  // namespace optout::service

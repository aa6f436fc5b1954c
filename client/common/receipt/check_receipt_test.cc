#include "client/common/receipt/check_receipt.h"

#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace optout::receipt {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

std::shared_ptr<const ReceiptSigner> Signer(char fill) {
  auto signer = ReceiptSigner::FromSeed(std::string(32, fill));
  EXPECT_TRUE(signer.ok());
  return *signer;
}

v1::CheckReceipt Signed(const ReceiptSigner& signer) {
  v1::CheckReceipt r;
  r.set_session_id("0123456789abcdef0123456789abcdef");
  r.set_started_unix_micros(1'700'000'000'000'000);
  r.set_ended_unix_micros(1'700'000'060'000'000);
  r.set_min_version(7);
  r.set_max_version(9);
  r.set_url_items(1000);
  r.set_md5_items(1000);
  r.set_matched_items(3);
  r.set_url_matches(2);
  r.set_md5_matches(1);
  r.set_items_digest(std::string(32, 'd'));
  EXPECT_THAT(signer.Sign(&r), IsOk());
  return r;
}

TEST(CheckReceiptTest, SignedReceiptVerifies) {
  auto signer = Signer('s');
  const v1::CheckReceipt r = Signed(*signer);
  EXPECT_EQ(r.key_fingerprint(), signer->fingerprint());
  EXPECT_EQ(r.signature().size(), 64u);
  EXPECT_THAT(VerifyReceipt(r, signer->public_key()), IsOk());
}

TEST(CheckReceiptTest, SameSeedSameKey) {
  EXPECT_EQ(Signer('s')->public_key(), Signer('s')->public_key());
  EXPECT_NE(Signer('s')->public_key(), Signer('t')->public_key());
  EXPECT_EQ(Signer('s')->fingerprint().size(), 64u);
}

TEST(CheckReceiptTest, EveryAlteredFieldFailsAsTampered) {
  auto signer = Signer('s');
  const v1::CheckReceipt good = Signed(*signer);
  const std::vector<std::function<void(v1::CheckReceipt*)>> edits = {
      [](v1::CheckReceipt* r) { r->set_session_id("ffffffffffffffffffffffffffffffff"); },
      [](v1::CheckReceipt* r) { r->set_started_unix_micros(r->started_unix_micros() + 1); },
      [](v1::CheckReceipt* r) { r->set_ended_unix_micros(r->ended_unix_micros() - 1); },
      [](v1::CheckReceipt* r) { r->set_min_version(8); },
      [](v1::CheckReceipt* r) { r->set_max_version(10); },
      [](v1::CheckReceipt* r) { r->set_url_items(999); },
      [](v1::CheckReceipt* r) { r->set_pdq_items(1); },
      [](v1::CheckReceipt* r) { r->set_sha256_items(1); },
      [](v1::CheckReceipt* r) { r->set_md5_items(1001); },
      [](v1::CheckReceipt* r) { r->set_matched_items(0); },
      [](v1::CheckReceipt* r) { r->set_url_matches(0); },
      [](v1::CheckReceipt* r) { r->set_pdq_matches(1); },
      [](v1::CheckReceipt* r) { r->set_sha256_matches(1); },
      [](v1::CheckReceipt* r) { r->set_md5_matches(0); },
      [](v1::CheckReceipt* r) { (*r->mutable_items_digest())[0] ^= 1; },
      [](v1::CheckReceipt* r) { (*r->mutable_signature())[5] ^= 1; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    v1::CheckReceipt r = good;
    edits[i](&r);
    EXPECT_THAT(VerifyReceipt(r, signer->public_key()),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("bad signature")))
        << "edit " << i;
  }
}

TEST(CheckReceiptTest, WrongKeyIsNamed) {
  const v1::CheckReceipt r = Signed(*Signer('s'));
  EXPECT_THAT(VerifyReceipt(r, Signer('t')->public_key()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("wrong key")));
  // A receipt relabelled with the other key's fingerprint still fails.
  v1::CheckReceipt relabelled = r;
  relabelled.set_key_fingerprint(Signer('t')->fingerprint());
  EXPECT_THAT(VerifyReceipt(relabelled, Signer('t')->public_key()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("bad signature")));
  EXPECT_THAT(VerifyReceipt(r, "short"), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST(CheckReceiptTest, PublicKeyFilesParse) {
  auto signer = Signer('s');
  const std::string raw = signer->public_key();
  auto pem = PublicKeyPem(raw);
  ASSERT_THAT(pem.status(), IsOk());
  EXPECT_THAT(*pem, HasSubstr("BEGIN PUBLIC KEY"));
  auto from_pem = ParsePublicKey(*pem);
  ASSERT_THAT(from_pem.status(), IsOk());
  EXPECT_EQ(*from_pem, raw);
  auto from_raw = ParsePublicKey(raw);
  ASSERT_THAT(from_raw.status(), IsOk());
  EXPECT_EQ(*from_raw, raw);
  std::string hex;
  for (unsigned char c : raw) {
    static const char kHex[] = "0123456789abcdef";
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  auto from_hex = ParsePublicKey(hex + "\n");
  ASSERT_THAT(from_hex.status(), IsOk());
  EXPECT_EQ(*from_hex, raw);
  EXPECT_THAT(ParsePublicKey("not a key").status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

}  // namespace
}  // namespace optout::receipt

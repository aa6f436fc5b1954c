#include "service/record_rekey.h"

#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "service/opt_out_codec.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;

const std::string kId(16, 'i');

SecretBytes Secret(uint8_t fill) {
  SecretBytes secret{};
  secret.fill(fill);
  return secret;
}

internal::SealedPart Content() {
  internal::SealedPart content;
  content.add_url_digests(std::string(32, 'u'));
  content.add_scope_digests(std::string(32, 's'));
  content.add_url_any_query_digests(std::string(32, 'q'));
  content.add_sha256(std::string(32, 'h'));
  content.add_md5(std::string(16, 'm'));
  content.add_pdq(std::string(32, 'p'));
  content.set_manage_token(std::string(32, 't'));
  content.set_request_id("req-1");
  return content;
}

TEST(RecordRekeyTest, MovesEveryKeyAndSealToTheNewVersionAndKeepsTheRest) {
  const Keyring v1 = *Keyring::Derive(Secret(1), 1);
  const Keyring v2 = *Keyring::Derive(Secret(1), 2);
  const internal::SealedPart content = Content();
  auto old = BuildRecord(v1, kId, content, RequestKey(v1, "req-1"), Fingerprint(v1, content), 1234);
  ASSERT_THAT(old, IsOk());
  old->set_token_erased(true);
  // A proven scope is in the index, so its key moves like the others.
  old->mutable_scope_proofs(0)->set_state(optout::v1::SCOPE_STATE_VERIFIED);

  auto moved = RekeyRecord(v1, v2, kId, *old);
  ASSERT_THAT(moved, IsOk());
  // Exactly what a registration under v2 would have written.
  auto fresh = BuildRecord(v2, kId, content, RequestKey(v2, "req-1"), Fingerprint(v2, content), 1234);
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(moved->record.key_version(), 2u);
  EXPECT_EQ(moved->record.created_unix_seconds(), 1234);
  EXPECT_EQ(moved->record.token_sha256(), old->token_sha256());
  EXPECT_TRUE(moved->record.token_erased());
  EXPECT_EQ(moved->record.pdq_count(), 1);
  EXPECT_EQ(moved->record.request_fingerprint(), fresh->request_fingerprint());
  EXPECT_EQ(moved->request_key, RequestKey(v2, "req-1"));
  EXPECT_EQ(moved->record.request_key(), moved->request_key);
  ASSERT_EQ(moved->record.entries_size(), fresh->entries_size());
  for (int i = 0; i < fresh->entries_size(); ++i) {
    EXPECT_EQ(moved->record.entries(i).key(), fresh->entries(i).key()) << i;
    EXPECT_NE(moved->record.entries(i).key(), old->entries(i).key()) << i;
  }
  ASSERT_EQ(moved->before.keys.size(), 5u);
  ASSERT_EQ(moved->after.keys.size(), 5u);
  EXPECT_EQ(moved->before.keys[0].kind, moved->after.keys[0].kind);
  ASSERT_EQ(moved->record.scope_proofs_size(), 1);
  EXPECT_EQ(moved->record.scope_proofs(0).state(), optout::v1::SCOPE_STATE_VERIFIED);
  // Sealed under v2 only.
  EXPECT_THAT(OpenSealed(v1, kId, moved->record), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  auto sealed = OpenSealed(v2, kId, moved->record);
  ASSERT_THAT(sealed, IsOk());
  EXPECT_EQ(sealed->SerializeAsString(), content.SerializeAsString());
}

// A scope still waiting for proof is not in the index: a rotation must not
// put its new key there, and it stays pending.
TEST(RecordRekeyTest, PendingScopeStaysOutOfTheIndexAndPending) {
  const Keyring v1 = *Keyring::Derive(Secret(1), 1);
  const Keyring v2 = *Keyring::Derive(Secret(1), 2);
  const internal::SealedPart content = Content();
  auto old = BuildRecord(v1, kId, content, "", Fingerprint(v1, content), 1);
  ASSERT_THAT(old, IsOk());
  auto moved = RekeyRecord(v1, v2, kId, *old);
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->before.keys.size(), 4u);
  EXPECT_EQ(moved->after.keys.size(), 4u);
  for (const auto& key : moved->after.keys) EXPECT_NE(key.kind, optout::v1::MATCH_KIND_SCOPE);
  EXPECT_EQ(moved->record.scope_proofs(0).state(), optout::v1::SCOPE_STATE_PENDING);
}

TEST(RecordRekeyTest, ANewSecretWorksTheSameWay) {
  const Keyring a1 = *Keyring::Derive(Secret(1), 1);
  const Keyring b2 = *Keyring::Derive(Secret(2), 2);
  EXPECT_NE(a1.check_value(), b2.check_value());
  const internal::SealedPart content = Content();
  auto old = BuildRecord(a1, kId, content, "", Fingerprint(a1, content), 1);
  ASSERT_THAT(old, IsOk());
  auto moved = RekeyRecord(a1, b2, kId, *old);
  ASSERT_THAT(moved, IsOk());
  EXPECT_TRUE(moved->request_key.empty()) << "no request id given: none made up";
  EXPECT_THAT(OpenSealed(b2, kId, moved->record), IsOk());
}

TEST(RecordRekeyTest, ARecordOfAnotherVersionOrSecretIsRefused) {
  const Keyring v1 = *Keyring::Derive(Secret(1), 1);
  const Keyring v2 = *Keyring::Derive(Secret(1), 2);
  const Keyring other1 = *Keyring::Derive(Secret(9), 1);
  const internal::SealedPart content = Content();
  auto old = BuildRecord(v1, kId, content, "", Fingerprint(v1, content), 1);
  ASSERT_THAT(old, IsOk());
  EXPECT_THAT(RekeyRecord(v2, v1, kId, *old), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(RekeyRecord(other1, v2, kId, *old), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(RekeyRecord(v1, v2, std::string(16, 'x'), *old),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_))
      << "the seal is bound to the id";
}

TEST(RecordRekeyTest, ARecordWithoutASealedRequestIdLosesItsRequestKey) {
  const Keyring v1 = *Keyring::Derive(Secret(1), 1);
  const Keyring v2 = *Keyring::Derive(Secret(1), 2);
  internal::SealedPart content = Content();
  content.clear_request_id();  // written before request ids were sealed
  auto old = BuildRecord(v1, kId, content, RequestKey(v1, "req-1"), Fingerprint(v1, content), 1);
  ASSERT_THAT(old, IsOk());
  auto moved = RekeyRecord(v1, v2, kId, *old);
  ASSERT_THAT(moved, IsOk());
  EXPECT_TRUE(moved->request_key.empty());
  EXPECT_TRUE(moved->record.request_key().empty());
}

}  // namespace
}  // namespace optout::service

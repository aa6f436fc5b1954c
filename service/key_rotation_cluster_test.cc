// Key rotation ordered by the mutation log (cluster mode), on one registry:
// the start and the end are applied mutations, and what a node decides for
// a registration of either version depends only on where it is applied in
// the order, never on how far this node's own re-keying got.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/common/digest/digest.h"
#include "gtest/gtest.h"
#include "optout/internal/record.pb.h"
#include "service/key_rotation.h"
#include "service/local_mutation_log.h"
#include "service/opt_out_codec.h"
#include "service/record_rekey.h"
#include "service/registry_secret.h"
#include "service/testing/key_rotation_fixture.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using State = RotationProgress::State;

std::string UrlOf(int i) { return absl::StrCat("https://ordered.example/", i, ".jpg"); }

v1::RegisterRequest Registration(int i, const std::string& request_tag) {
  v1::RegisterRequest request;
  request.add_urls(UrlOf(i));
  request.set_request_id(absl::StrCat("0123456789abcdef0123456789abcdef-", request_tag));
  return request;
}

// Applies mutations at once (a LocalMutationLog), except while holding:
// then it keeps them and answers as if applied, as a writer node does for
// a write that reaches the stream only later.
class HoldingLog final : public MutationLog {
 public:
  HoldingLog(Registry* registry, storage::OptOutStore* store) : local_(registry, store) {}
  absl::StatusOr<Committed> Commit(const internal::Mutation& mutation) override {
    if (!holding_) return local_.Commit(mutation);
    held_.push_back(mutation);
    return Committed{0, ApplyOutcome::kApplied};
  }
  bool AwaitApplied(uint64_t version, absl::Time deadline) const override {
    return local_.AwaitApplied(version, deadline);
  }
  LogProgress Progress() const override { return local_.Progress(); }

  bool holding_ = false;
  std::vector<internal::Mutation> held_;

 private:
  LocalMutationLog local_;
};

class OrderedKeyRotationTest : public testing::KeyRotationFixture {
 protected:
  void SetUp() override {
    KeyRotationFixture::SetUp();
    if (HasFatalFailure()) return;
    auto versions = OpenRegistry(secret_file_);
    ASSERT_THAT(versions, IsOk());
    auto log = std::make_unique<HoldingLog>(db_.registry(), db_.store());
    log_ = log.get();
    db_.registry()->UseMutationLog(std::move(log));
    KeyRotation::Options options;
    options.batch_records = 7;
    options.ordered_by_log = true;
    rotation_ = std::make_unique<KeyRotation>(db_.store(), db_.registry(), *versions,
                                              secret_file_, options);
    db_.registry()->UseRotationApplier(rotation_.get());
    // As optoutd sets it in a cluster.
    db_.registry()->UseOlderKeys([path = secret_file_](uint32_t version) -> absl::StatusOr<Keyring> {
      absl::StatusOr<SecretBytes> secret = ReadRegistrySecret(path);
      if (!secret.ok()) return secret.status();
      return Keyring::Derive(*secret, version);
    });
  }
  void TearDown() override {
    if (rotation_ != nullptr) {
      rotation_->Stop();
      db_.registry()->UseRotationApplier(nullptr);
    }
    KeyRotationFixture::TearDown();
  }

  RotationProgress WaitUntilSettled() {
    return KeyRotationFixture::WaitUntilSettled(absl::Seconds(20));
  }

  // The insert a registration of `i` makes, kept from the store.
  internal::Mutation HeldRegistration(int i, const std::string& request_tag) {
    log_->holding_ = true;
    EXPECT_THAT(db_.registry()->Register(Registration(i, request_tag)), IsOk());
    log_->holding_ = false;
    EXPECT_EQ(log_->held_.size(), 1u);
    internal::Mutation held = log_->held_.back();
    log_->held_.clear();
    return held;
  }

  bool Matches(int i) {
    v1::CheckRequest request;
    request.add_items()->set_url(UrlOf(i));
    v1::CheckResponse response;
    EXPECT_THAT(db_.registry()->Check(request, &response), IsOk());
    return response.results_size() == 1 && response.results(0).matched();
  }

  absl::StatusOr<ApplyOutcome> ApplyLate(const internal::Mutation& m) {
    return db_.registry()->Apply(m, nullptr);
  }

  HoldingLog* log_ = nullptr;
};

TEST_F(OrderedKeyRotationTest, StartAndEndAreAppliedFromTheLogAndEveryRecordEndsInTheNewVersion) {
  for (int i = 0; i < 40; ++i) ASSERT_THAT(db_.registry()->Register(Registration(i, absl::StrCat(i))), IsOk());
  rotation_->ResumeIfPending();  // live: an applied start runs the worker
  absl::StatusOr<RotationProgress> started = rotation_->Start("", 0);
  ASSERT_THAT(started, IsOk());
  EXPECT_EQ(started->to_version, 2u);
  const RotationProgress done = WaitUntilSettled();
  ASSERT_EQ(done.state, State::kDone) << done.error;
  EXPECT_EQ(done.rekeyed, 40u);
  EXPECT_EQ(db_.registry()->key_set()->current->version(), 2u);
  EXPECT_EQ(db_.registry()->key_set()->previous, nullptr);
  EXPECT_EQ(StoredVersions(), std::vector<uint32_t>(40, 2u));
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(Matches(i)) << i;
}

TEST_F(OrderedKeyRotationTest, ANewSecretFileIsRefused) {
  absl::StatusOr<RotationProgress> refused = rotation_->Start(dir_ + "/new.secret", 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("not supported in cluster mode"), std::string::npos);
}

// A writer sealed it before it applied the start; ordered after the start,
// it is moved to the new version as it is applied, so the re-keying (which
// may have passed its id) leaves no record of the old version behind.
TEST_F(OrderedKeyRotationTest, ARegistrationOfThePreviousVersionAppliedDuringTheRotationIsReKeyed) {
  for (int i = 0; i < 20; ++i) ASSERT_THAT(db_.registry()->Register(Registration(i, absl::StrCat(i))), IsOk());
  const internal::Mutation late = HeldRegistration(100, "late");
  ASSERT_THAT(rotation_->Start("", 0), IsOk());  // not live: no re-keying yet
  ASSERT_NE(db_.registry()->key_set()->previous, nullptr);
  absl::StatusOr<ApplyOutcome> applied = ApplyLate(late);
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(*applied, ApplyOutcome::kApplied);
  EXPECT_TRUE(Matches(100));
  // A retry of it finds it under the new version's request key.
  absl::StatusOr<v1::RegisterResponse> retry = db_.registry()->Register(Registration(100, "late"));
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->opt_out_id(), digest::ToHex(late.insert().id()));
  rotation_->ResumeIfPending();
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  EXPECT_EQ(StoredVersions(), std::vector<uint32_t>(21, 2u));
  EXPECT_EQ(rotation_->Status().rekeyed, 20u) << "the late one was of version 2 when scanned";
  EXPECT_TRUE(Matches(100));
}

// After the end a registration still of the old version (its node sealed
// it before applying the start, or re-publishes a write the stream lost) is
// re-keyed from the shared secret as it is applied, on every node alike;
// without that secret's derivation it would be skipped everywhere.
TEST_F(OrderedKeyRotationTest, ARegistrationOfTheEndedVersionIsReKeyedFromTheSecretAfterTheEnd) {
  const internal::Mutation late = HeldRegistration(7, "stale");
  const internal::Mutation later = HeldRegistration(8, "stale-too");
  rotation_->ResumeIfPending();
  ASSERT_THAT(rotation_->Start("", 0), IsOk());
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  ASSERT_EQ(db_.registry()->key_set()->previous, nullptr);
  absl::StatusOr<ApplyOutcome> applied = ApplyLate(late);
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(*applied, ApplyOutcome::kApplied);
  EXPECT_TRUE(Matches(7));
  EXPECT_EQ(StoredVersions(), std::vector<uint32_t>(1, 2u));
  absl::StatusOr<v1::RegisterResponse> retry = db_.registry()->Register(Registration(7, "stale"));
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->opt_out_id(), digest::ToHex(late.insert().id()));

  db_.registry()->UseOlderKeys(nullptr);
  absl::StatusOr<ApplyOutcome> skipped = ApplyLate(later);
  ASSERT_THAT(skipped, IsOk());
  EXPECT_EQ(*skipped, ApplyOutcome::kSkipped);
  EXPECT_FALSE(Matches(8));
}

// Two registrations of one request id (one node's, and a retry's on
// another node that had not seen the first yet), ordered first and second:
// the second is skipped whether the first's record was re-keyed here yet
// or not, and whichever version the second is of.
TEST_F(OrderedKeyRotationTest, ASecondRegistrationOfOneRequestIsSkippedWhateverTheReKeyingReached) {
  const internal::Mutation first = HeldRegistration(1, "twice");
  const internal::Mutation second = HeldRegistration(2, "twice");
  ASSERT_NE(first.insert().id(), second.insert().id());
  ASSERT_THAT(ApplyLate(first), IsOk());
  ASSERT_THAT(rotation_->Start("", 0), IsOk());  // not live: the first stays of version 1
  const std::shared_ptr<const KeySet> keys = db_.registry()->key_set();
  // The second as its node would have sealed it after applying the start.
  internal::OptOutRecord record;
  ASSERT_TRUE(record.ParseFromString(second.insert().record()));
  absl::StatusOr<RekeyedRecord> moved =
      RekeyRecord(*keys->previous, *keys->current, second.insert().id(), record);
  ASSERT_THAT(moved, IsOk());
  internal::Mutation second_new = second;
  second_new.mutable_insert()->set_record(moved->record.SerializeAsString());
  second_new.mutable_insert()->set_request_key(moved->request_key);

  for (const internal::Mutation* m : {&second, static_cast<const internal::Mutation*>(&second_new)}) {
    absl::StatusOr<ApplyOutcome> applied = ApplyLate(*m);
    ASSERT_THAT(applied, IsOk());
    EXPECT_EQ(*applied, ApplyOutcome::kSkipped) << "first of version 1 here";
  }
  rotation_->ResumeIfPending();
  // Re-keyed, then applied with the end still to come: skipped all the same.
  for (int polls = 0; polls < 2000 && !(rotation_->Status().fraction_done >= 1.0 ||
                                        rotation_->Status().state == State::kDone);
       ++polls) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  for (const internal::Mutation* m : {&second, static_cast<const internal::Mutation*>(&second_new)}) {
    absl::StatusOr<ApplyOutcome> applied = ApplyLate(*m);
    ASSERT_THAT(applied, IsOk());
    EXPECT_EQ(*applied, ApplyOutcome::kSkipped) << "first re-keyed here";
  }
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  EXPECT_EQ(StoredVersions(), std::vector<uint32_t>(1, 2u));
  EXPECT_FALSE(Matches(2));
}

// A revoke during the rotation keeps the request revoked under the new
// version's key, so a late copy of the registration is skipped during and
// after the rotation on every node, whether its record had been re-keyed
// there or not.
TEST_F(OrderedKeyRotationTest, ARevokedRequestStaysRevokedUnderTheNewVersion) {
  const internal::Mutation first = HeldRegistration(3, "revoked");
  ASSERT_THAT(ApplyLate(first), IsOk());
  absl::StatusOr<v1::RegisterResponse> registered = db_.registry()->Register(Registration(3, "revoked"));
  ASSERT_THAT(registered, IsOk());  // the retry answers with it, and its token
  ASSERT_THAT(rotation_->Start("", 0), IsOk());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(registered->opt_out_id());
  revoke.set_manage_token(registered->manage_token());
  ASSERT_THAT(db_.registry()->Revoke(revoke), IsOk());
  EXPECT_FALSE(Matches(3));
  absl::StatusOr<ApplyOutcome> during = ApplyLate(first);
  ASSERT_THAT(during, IsOk());
  EXPECT_EQ(*during, ApplyOutcome::kSkipped);
  rotation_->ResumeIfPending();
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  // After the end only the new version's key is asked: it is there.
  const std::shared_ptr<const KeySet> keys = db_.registry()->key_set();
  internal::OptOutRecord record;
  ASSERT_TRUE(record.ParseFromString(first.insert().record()));
  absl::StatusOr<SecretBytes> secret = ReadRegistrySecret(secret_file_);
  ASSERT_THAT(secret, IsOk());
  absl::StatusOr<Keyring> v1 = Keyring::Derive(*secret, 1);
  ASSERT_THAT(v1, IsOk());
  absl::StatusOr<internal::SealedPart> sealed = OpenSealed(*v1, first.insert().id(), record);
  ASSERT_THAT(sealed, IsOk());
  absl::StatusOr<std::optional<std::string>> revoked =
      db_.store()->GetRevokedRequest(RequestKey(*keys->current, sealed->request_id()));
  ASSERT_THAT(revoked, IsOk());
  EXPECT_TRUE(revoked->has_value());
  EXPECT_FALSE(Matches(3));
}

}  // namespace
}  // namespace optout::service

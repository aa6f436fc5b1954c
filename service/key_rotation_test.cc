#include "service/key_rotation.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "client/common/digest/digest.h"
#include "gtest/gtest.h"
#include "optout/internal/record.pb.h"
#include "service/check_session_journal.h"
#include "service/registry_secret.h"
#include "service/testing/key_rotation_fixture.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using State = RotationProgress::State;

std::string Pdq(int i) {
  std::string h(32, '\0');
  for (int b = 0; b < 32; ++b) h[b] = static_cast<char>((i * 131 + b * 29) ^ (i >> (b % 8)));
  return h;
}

std::string FileDigest(int i) {
  const digest::Sha256Digest d = digest::Sha256(absl::StrCat("file ", i));
  return std::string(d.begin(), d.end());
}

v1::RegisterRequest Registration(int i) {
  v1::RegisterRequest request;
  request.add_urls(absl::StrCat("https://rot.example/", i, ".jpg"));
  request.add_sha256(FileDigest(i));
  v1::PdqHash* pdq = request.add_pdq();
  pdq->set_hash(Pdq(i));
  pdq->set_quality(100);
  request.set_request_id(absl::StrCat("0123456789abcdef0123456789abcdef-", i));
  return request;
}

class KeyRotationTest : public testing::KeyRotationFixture {
 protected:
  void SetUp() override {
    KeyRotationFixture::SetUp();
    if (HasFatalFailure()) return;
    Reopen(secret_file_);
  }

  // As optoutd starts: store, key versions, registry, rotation (resumed).
  void Reopen(const std::string& secret_file, bool resume = true) {
    rotation_.reset();
    auto versions = OpenRegistry(secret_file);
    ASSERT_THAT(versions, IsOk());
    KeyRotation::Options rotation_options;
    rotation_options.batch_records = batch_records_;
    rotation_options.pause_between_batches = pause_;
    rotation_options.before_forgetting_old_version = before_forgetting_;
    rotation_ = std::make_unique<KeyRotation>(db_.store(), db_.registry(), *versions,
                                              secret_file, rotation_options);
    if (resume) rotation_->ResumeIfPending();
  }

  void RegisterMany(int first, int count) {
    for (int i = first; i < first + count; ++i) {
      auto response = db_.registry()->Register(Registration(i));
      ASSERT_THAT(response, IsOk());
      ids_[i] = response->opt_out_id();
      tokens_[i] = response->manage_token();
    }
  }

  // Number of registrations 0..count-1 whose URL, SHA-256 and PDQ all match.
  int Matching(int count) {
    v1::CheckRequest request;
    for (int i = 0; i < count; ++i) {
      request.add_items()->set_url(absl::StrCat("https://rot.example/", i, ".jpg"));
      request.add_items()->set_sha256(FileDigest(i));
      request.add_items()->mutable_pdq()->set_hash(Pdq(i));
    }
    v1::CheckResponse response;
    EXPECT_THAT(db_.registry()->Check(request, &response), IsOk());
    int matching = 0;
    for (int i = 0; i < count; ++i) {
      bool all = true;
      for (int k = 0; k < 3; ++k) all = all && response.results(3 * i + k).matched();
      matching += all ? 1 : 0;
    }
    return matching;
  }

  size_t batch_records_ = 50;
  absl::Duration pause_ = absl::ZeroDuration();
  std::function<absl::Status()> before_forgetting_;
  std::map<int, std::string> ids_, tokens_;
};

// Open check sessions' journal entries are sealed under the key version
// current when written; the rotation's hook seals them again under the new
// version before the old one is forgotten, so a later start still reads
// them. Without the hook they would be unreadable (and deleted).
TEST_F(KeyRotationTest, CheckSessionJournalIsResealedBeforeTheOldVersionIsForgotten) {
  RegisterMany(0, 120);
  // Over the store of the moment (Reopen opens it anew).
  std::unique_ptr<CheckSessionJournal> journal;
  auto open_journal = [&] {
    journal = std::make_unique<CheckSessionJournal>(
        db_.store(), [this] { return db_.registry()->key_set(); });
  };
  auto read_all = [&] {
    std::map<std::string, std::string> read;
    EXPECT_THAT(journal->ForEach([&](const std::string& key, const std::string& state) {
      read[key] = state;
    }), IsOk());
    return read;
  };
  int resealed = -1;
  before_forgetting_ = [&]() -> absl::Status {
    absl::StatusOr<int> n = journal->Reseal();
    if (!n.ok()) return n.status();
    resealed = *n;
    return absl::OkStatus();
  };
  journal.reset();
  Reopen(secret_file_);
  open_journal();
  ASSERT_THAT(journal->Put("s1", "header of s1"), IsOk());
  ASSERT_THAT(journal->Put("s1/0", "part 0 of s1"), IsOk());
  ASSERT_THAT(rotation_->Start("", 0), IsOk());
  // Written during (or after) the rotation: under the new version.
  ASSERT_THAT(journal->Put("s1/1", "part 1 of s1"), IsOk());
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  EXPECT_EQ(resealed, 2);
  EXPECT_EQ(db_.registry()->key_set()->previous, nullptr);
  // As the next start reads them: with version 2 only.
  journal.reset();
  Reopen(secret_file_);
  open_journal();
  EXPECT_EQ(read_all(), (std::map<std::string, std::string>{
                            {"s1", "header of s1"}, {"s1/0", "part 0 of s1"}, {"s1/1", "part 1 of s1"}}));

  // The same rotation without the hook: what was sealed under version 2
  // and not written since is lost once version 3 forgets version 2.
  before_forgetting_ = nullptr;
  journal.reset();
  Reopen(secret_file_);
  open_journal();
  ASSERT_THAT(rotation_->Start("", 0), IsOk());
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  EXPECT_TRUE(read_all().empty());
  journal.reset();
}

TEST_F(KeyRotationTest, MovesEveryRecordWhileChecksKeepMatchingAndErasesTheOldVersion) {
  RegisterMany(0, 300);
  pause_ = absl::Milliseconds(2);
  Reopen(secret_file_);
  ASSERT_EQ(Matching(300), 300);

  auto started = rotation_->Start("", 0);
  ASSERT_THAT(started, IsOk());
  EXPECT_EQ(started->from_version, 1u);
  EXPECT_EQ(started->to_version, 2u);
  // Checks during the rotation, and registrations that land in version 2.
  int rounds = 0;
  for (int i = 300; rotation_->Status().state == State::kRunning && i < 340; ++i, ++rounds) {
    RegisterMany(i, 1);
    ASSERT_EQ(Matching(i + 1), i + 1) << "at round " << rounds;
  }
  EXPECT_GT(rounds, 0) << "the rotation ended before any check ran during it";
  const RotationProgress done = WaitUntilSettled();
  ASSERT_EQ(done.state, State::kDone) << done.error;
  EXPECT_EQ(done.to_version, 2u);
  EXPECT_DOUBLE_EQ(done.fraction_done, 1.0);
  const int registered = static_cast<int>(ids_.size());
  EXPECT_EQ(done.rekeyed, 300u) << "registrations during the rotation were already version 2";
  EXPECT_EQ(Matching(registered), registered);
  for (uint32_t v : StoredVersions()) ASSERT_EQ(v, 2u);
  EXPECT_EQ(db_.registry()->key_set()->previous, nullptr) << "old keys forgotten";

  // Retries find their registration under the new request key; Get and
  // Revoke work on re-keyed records.
  auto retry = db_.registry()->Register(Registration(7));
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->opt_out_id(), ids_[7]);
  v1::GetRequest get;
  get.set_opt_out_id(ids_[8]);
  get.set_manage_token(tokens_[8]);
  EXPECT_THAT(db_.registry()->Get(get), IsOk());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(ids_[9]);
  revoke.set_manage_token(tokens_[9]);
  ASSERT_THAT(db_.registry()->Revoke(revoke), IsOk());
  EXPECT_EQ(Matching(9), 9);
  EXPECT_EQ(Matching(10), 9);

  // A restart loads version 2 only, and a second rotation goes to 3.
  Reopen(secret_file_);
  EXPECT_EQ(Matching(registered), registered - 1);
  EXPECT_EQ(db_.registry()->key_set()->current->version(), 2u);
  ASSERT_THAT(rotation_->Start("", 0), IsOk());
  EXPECT_EQ(WaitUntilSettled().state, State::kDone);
  EXPECT_EQ(Matching(registered), registered - 1);
  for (uint32_t v : StoredVersions()) ASSERT_EQ(v, 3u);
}

// A rotation that starts after a check has planned its lookups under the
// old key set alone, and moves every record before the lookups run, must
// not leave the check blind: the check runs again under the new set. The
// check's own interrupt (asked every 512 planned items) is the seam that
// lets the rotation overtake it here deterministically; under load the
// same race made cluster_rotation_e2e_test miss opted-out URLs.
TEST_F(KeyRotationTest, ACheckOvertakenByARotationsStartRunsAgainUnderTheNewKeys) {
  constexpr int kRegistered = 200;  // 600 items: the interrupt is asked at 511
  RegisterMany(0, kRegistered);
  Reopen(secret_file_);
  v1::CheckRequest request;
  for (int i = 0; i < kRegistered; ++i) {
    request.add_items()->set_url(absl::StrCat("https://rot.example/", i, ".jpg"));
    request.add_items()->set_sha256(FileDigest(i));
    request.add_items()->mutable_pdq()->set_hash(Pdq(i));
  }
  bool rotated = false;
  auto rotate_once_mid_check = [&]() -> absl::Status {
    if (rotated) return absl::OkStatus();
    rotated = true;
    EXPECT_THAT(rotation_->Start("", 0), IsOk());
    const RotationProgress done = WaitUntilSettled(absl::Seconds(20));
    EXPECT_EQ(done.state, State::kDone) << done.error;
    return absl::OkStatus();
  };
  v1::CheckResponse response;
  ASSERT_THAT(db_.registry()->Check(request, &response, rotate_once_mid_check), IsOk());
  ASSERT_TRUE(rotated) << "the check never asked its interrupt";
  for (uint32_t v : StoredVersions()) ASSERT_EQ(v, 2u) << "the rotation moved every record";
  ASSERT_EQ(response.results_size(), request.items_size());
  std::vector<int> unmatched;
  for (int i = 0; i < response.results_size(); ++i) {
    if (!response.results(i).matched()) unmatched.push_back(i);
  }
  EXPECT_TRUE(unmatched.empty()) << unmatched.size() << " of " << request.items_size()
                                 << " opted-out items unmatched, the first at " << unmatched[0];
}

TEST_F(KeyRotationTest, AStoppedRotationResumesAfterARestartWhereItStopped) {
  RegisterMany(0, 400);
  batch_records_ = 20;
  pause_ = absl::Milliseconds(5);
  Reopen(secret_file_);
  ASSERT_THAT(rotation_->Start("", 0), IsOk());
  while (rotation_->Status().rekeyed < 60) absl::SleepFor(absl::Milliseconds(1));
  rotation_->Stop();  // as a crash between batches: the state is in the store
  const RotationProgress stopped = rotation_->Status();
  EXPECT_EQ(stopped.state, State::kFailed);
  EXPECT_LT(stopped.rekeyed, 400u);
  std::vector<uint32_t> versions = StoredVersions();
  EXPECT_NE(std::count(versions.begin(), versions.end(), 1u), 0);
  EXPECT_NE(std::count(versions.begin(), versions.end(), 2u), 0);

  // Restart without resuming: both versions load and everything matches.
  Reopen(secret_file_, /*resume=*/false);
  EXPECT_NE(db_.registry()->key_set()->previous, nullptr);
  EXPECT_EQ(Matching(400), 400);
  RegisterMany(400, 5);  // lands in version 2
  // Then as optoutd starts: it resumes by itself.
  pause_ = absl::ZeroDuration();
  Reopen(secret_file_);
  const RotationProgress done = WaitUntilSettled();
  ASSERT_EQ(done.state, State::kDone) << done.error;
  EXPECT_EQ(done.rekeyed, 400u) << "no record re-keyed twice, none missed";
  for (uint32_t v : StoredVersions()) ASSERT_EQ(v, 2u);
  EXPECT_EQ(Matching(405), 405);
}

TEST_F(KeyRotationTest, RotatesToANewSecretFileWhichTheDatabaseThenRequires) {
  RegisterMany(0, 100);
  const std::string new_secret = dir_ + "/new.secret";
  EXPECT_THAT(rotation_->Start(new_secret, /*api_key_count=*/1),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(rotation_->Start("relative.secret", 0), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(rotation_->Start(secret_file_, 0), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_))
      << "the secret in use is no new one";
  auto started = rotation_->Start(new_secret, 0);
  ASSERT_THAT(started, IsOk());
  EXPECT_EQ(started->secret_file, new_secret);
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  EXPECT_EQ(Matching(100), 100);

  // Old --secret_file: the stored state names the new file, which is read.
  Reopen(secret_file_);
  EXPECT_EQ(Matching(100), 100);
  // New --secret_file: matches directly.
  Reopen(new_secret);
  EXPECT_EQ(Matching(100), 100);
  // The old secret alone no longer opens anything.
  ASSERT_EQ(::unlink(new_secret.c_str()), 0);
  rotation_.reset();
  ASSERT_THAT(db_.ReopenStore(), IsOk());
  auto old_secret = ReadRegistrySecret(secret_file_);
  ASSERT_THAT(old_secret, IsOk());
  EXPECT_THAT(OpenKeyVersions(*db_.store(), *old_secret, secret_file_),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));  // the named file is gone
}

TEST_F(KeyRotationTest, AWrongSecretIsRefusedNamingTheFileToUse) {
  RegisterMany(0, 3);
  const std::string new_secret = dir_ + "/new.secret";
  ASSERT_THAT(rotation_->Start(new_secret, 0), IsOk());
  ASSERT_EQ(WaitUntilSettled().state, State::kDone);
  rotation_.reset();
  db_.CloseRegistry();
  const SecretBytes stranger = testing::FilledSecret(42);
  auto versions = OpenKeyVersions(*db_.store(), stranger, "/elsewhere/registry.secret");
  ASSERT_THAT(versions, IsOk()) << "the stored state names the file of version 2";
  EXPECT_EQ(versions->keys.current->version(), 2u);
  ASSERT_THAT(db_.store()->PutMeta(kKeyStateKey, [&] {
    internal::KeyState state = versions->state;
    state.mutable_current()->clear_secret_file();
    return state.SerializeAsString();
  }()),
              IsOk());
  EXPECT_THAT(OpenKeyVersions(*db_.store(), stranger, "/elsewhere/registry.secret"),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
}

}  // namespace
}  // namespace optout::service

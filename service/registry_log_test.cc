// Registry over its MutationLog: versions in answers, min_version, and
// applying another node's mutations (what cluster mode does on every node).
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "service/local_mutation_log.h"
#include "service/registry.h"
#include "service/verify/testing/fake_scope_verifier.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A log that applies at once and remembers every mutation, numbered from 1,
// so a test can replay them on a second registry (a second node).
class RecordingLog final : public MutationLog {
 public:
  explicit RecordingLog(MutationApplier* applier) : applier_(applier) {}
  absl::StatusOr<Committed> Commit(const internal::Mutation& mutation) override {
    if (time_out_next) {
      // The stream got it but the answer was lost: it lands later (a test
      // applies `late` where it wants it in the order).
      time_out_next = false;
      late.push_back(mutation);
      return absl::UnavailableError("timed out; it may still be applied");
    }
    absl::StatusOr<ApplyOutcome> outcome = applier_->Apply(mutation, nullptr);
    if (!outcome.ok()) return outcome.status();
    mutations.push_back(mutation);
    applied_.Advance(mutations.size());
    return Committed{mutations.size(), *outcome};
  }
  bool AwaitApplied(uint64_t version, absl::Time deadline) const override {
    return applied_.Await(version, deadline);
  }
  LogProgress Progress() const override { return {applied_.Get(), 0, "", ""}; }
  // As a cluster's stream: OrderedVersion "asks another machine".
  absl::StatusOr<uint64_t> OrderedVersion(absl::Time deadline) const override {
    (void)deadline;
    ++ordered_version_calls;
    return applied_.Get();
  }
  bool OrderedVersionIsRemote() const override { return remote; }
  bool remote = false;
  mutable int ordered_version_calls = 0;
  std::vector<internal::Mutation> mutations;
  bool time_out_next = false;
  std::vector<internal::Mutation> late;  // timed out, not applied (yet)

 private:
  MutationApplier* applier_;
  AppliedVersion applied_;
};

struct Node {
  std::unique_ptr<storage::OptOutStore> store;
  std::unique_ptr<Registry> registry;
};

class RegistryLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    auto psl = url::PublicSuffixList::Load();
    ASSERT_THAT(psl, IsOk());
    psl_ = std::move(*psl);
  }

  Node Open(const std::string& path, const RegistryOptions& registry_options = {}) {
    Node node;
    storage::StoreOptions options;
    options.env = env_.get();
    node.store = *storage::OptOutStore::Open(path, options);
    SecretBytes secret{};
    secret.fill(7);
    node.registry = *Registry::Open(node.store.get(), *Keyring::Derive(secret), psl_.get(),
                                     registry_options);
    return node;
  }

  bool Matches(Registry& registry, const std::string& url, uint64_t min_version = 0) {
    v1::CheckRequest request;
    request.add_items()->set_url(url);
    request.set_min_version(min_version);
    v1::CheckResponse response;
    EXPECT_THAT(registry.Check(request, &response), IsOk());
    return response.results_size() == 1 && response.results(0).matched();
  }

  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<url::PublicSuffixList> psl_;
};

v1::RegisterRequest UrlRequest(const std::string& url) {
  v1::RegisterRequest request;
  request.add_urls(url);
  return request;
}

TEST_F(RegistryLogTest, LocalVersionsGrowAndSurviveARestart) {
  Node node = Open("/mem/a");
  auto first = node.registry->Register(UrlRequest("https://a.example/1.jpg"));
  auto second = node.registry->Register(UrlRequest("https://a.example/2.jpg"));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_GT(first->version(), 0u);
  EXPECT_GT(second->version(), first->version());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(first->opt_out_id());
  revoke.set_manage_token(first->manage_token());
  uint64_t revoked = 0;
  ASSERT_THAT(node.registry->Revoke(revoke, &revoked), IsOk());
  EXPECT_GT(revoked, second->version());
  EXPECT_GE(node.registry->Info().applied_version(), revoked);
  EXPECT_EQ(node.registry->Info().applied_digest(), "");  // a single node keeps none
  node.registry.reset();
  node.store.reset();
  Node again = Open("/mem/a");
  EXPECT_GE(again.registry->Info().applied_version(), revoked);
  EXPECT_TRUE(Matches(*again.registry, "https://a.example/2.jpg", second->version()));
}

TEST_F(RegistryLogTest, MinVersionNotReachedIsUnavailableWhenInterrupted) {
  Node node = Open("/mem/b");
  v1::CheckRequest request;
  request.add_items()->set_url("https://b.example/x.jpg");
  request.set_min_version(node.registry->Info().applied_version() + 10);
  v1::CheckResponse response;
  const absl::Time give_up = absl::Now() + absl::Milliseconds(50);
  auto interrupt = [give_up]() -> absl::Status {
    return absl::Now() > give_up ? absl::DeadlineExceededError("deadline") : absl::OkStatus();
  };
  EXPECT_THAT(node.registry->Check(request, &response, interrupt),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("min_version")));
}

TEST_F(RegistryLogTest, AnotherNodeAppliesTheSameMutations) {
  Node a = Open("/mem/c1");
  Node b = Open("/mem/c2");
  auto owned = std::make_unique<RecordingLog>(a.registry.get());
  RecordingLog* log = owned.get();
  a.registry->UseMutationLog(std::move(owned));
  auto kept = a.registry->Register(UrlRequest("https://c.example/kept.jpg"));
  auto gone = a.registry->Register(UrlRequest("https://c.example/gone.jpg"));
  ASSERT_THAT(kept, IsOk());
  ASSERT_THAT(gone, IsOk());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(gone->opt_out_id());
  revoke.set_manage_token(gone->manage_token());
  ASSERT_THAT(a.registry->Revoke(revoke), IsOk());
  ASSERT_EQ(log->mutations.size(), 3u);
  for (size_t i = 0; i < log->mutations.size(); ++i) {
    const std::string mark_value = "progress " + std::to_string(i + 1);
    storage::ProgressMark mark{mark_value, true};
    auto outcome = b.registry->Apply(log->mutations[i], &mark);
    ASSERT_THAT(outcome, IsOk());
    EXPECT_EQ(*outcome, ApplyOutcome::kApplied);
  }
  EXPECT_TRUE(Matches(*b.registry, "https://c.example/kept.jpg"));
  EXPECT_FALSE(Matches(*b.registry, "https://c.example/gone.jpg"));
  // Revoked on b too: a second revoke there says so.
  EXPECT_THAT(b.registry->Revoke(revoke), StatusIs(absl::StatusCode::kFailedPrecondition, _));
  auto progress = b.store->GetProgress();
  ASSERT_THAT(progress, IsOk());
  EXPECT_EQ(progress->value_or(""), "progress 3");
  // Applying the revoke again changes nothing but moves the progress.
  storage::ProgressMark again{"progress 4", true};
  auto outcome = b.registry->Apply(log->mutations[2], &again);
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(*outcome, ApplyOutcome::kSkipped);
  EXPECT_EQ(b.store->GetProgress()->value_or(""), "progress 4");
}

// In a cluster a revoke of an opt-out this node does not hold asks the
// stream: only then is the caller's admission asked, and a refusal is the
// answer, with no query made. Revokes of held opt-outs, and every revoke
// over a log that answers from memory, are not metered.
TEST_F(RegistryLogTest, OnlyRevokesThatMustAskTheStreamAreMeteredAndCounted) {
  Node node = Open("/mem/m");
  auto owned = std::make_unique<RecordingLog>(node.registry.get());
  RecordingLog* log = owned.get();
  node.registry->UseMutationLog(std::move(owned));
  int admissions = 0;
  absl::Status admission = absl::OkStatus();
  auto admit = [&] {
    ++admissions;
    return admission;
  };
  v1::RevokeRequest unknown;
  unknown.set_opt_out_id(std::string(32, 'a'));
  unknown.set_manage_token(std::string(64, 'b'));

  // Answered from memory: NOT_FOUND, nothing asked.
  admission = absl::ResourceExhaustedError("over the rate");
  EXPECT_THAT(node.registry->Revoke(unknown, nullptr, nullptr, admit),
              StatusIs(absl::StatusCode::kNotFound, _));
  EXPECT_EQ(admissions, 0);
  EXPECT_EQ(node.registry->catch_up_queries(), 0u);

  log->remote = true;
  log->ordered_version_calls = 0;
  EXPECT_THAT(node.registry->Revoke(unknown, nullptr, nullptr, admit),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("over the rate")));
  EXPECT_EQ(admissions, 1);
  EXPECT_EQ(log->ordered_version_calls, 0);

  admission = absl::OkStatus();
  EXPECT_THAT(node.registry->Revoke(unknown, nullptr, nullptr, admit),
              StatusIs(absl::StatusCode::kNotFound, _));
  EXPECT_EQ(admissions, 2);
  EXPECT_EQ(log->ordered_version_calls, 1);
  EXPECT_EQ(node.registry->catch_up_queries(), 1u);
  EXPECT_EQ(node.registry->catch_ups(), 1u);

  auto held = node.registry->Register(UrlRequest("https://m.example/held.jpg"));
  ASSERT_THAT(held, IsOk());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(held->opt_out_id());
  revoke.set_manage_token(held->manage_token());
  admission = absl::ResourceExhaustedError("over the rate");
  EXPECT_THAT(node.registry->Revoke(revoke, nullptr, nullptr, admit), IsOk());
  EXPECT_EQ(admissions, 2);
  EXPECT_EQ(log->ordered_version_calls, 1);
}

// A min_version past the log's last version was never given to anyone:
// a revoke or check answers after Registry::kMinVersionGrace instead of
// waiting for the caller's deadline.
TEST_F(RegistryLogTest, AMinVersionNoAnswerGaveIsAnsweredAfterTheGraceNotAtTheDeadline) {
  Node node = Open("/mem/f");
  auto owned = std::make_unique<RecordingLog>(node.registry.get());
  RecordingLog* log = owned.get();
  node.registry->UseMutationLog(std::move(owned));
  auto held = node.registry->Register(UrlRequest("https://f.example/held.jpg"));
  ASSERT_THAT(held, IsOk());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(held->opt_out_id());
  revoke.set_manage_token(held->manage_token());
  revoke.set_min_version(held->version() + 1000);
  // The caller's deadline: far away.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto never_stop = [deadline]() -> absl::Status {
    return absl::Now() > deadline ? absl::DeadlineExceededError("deadline") : absl::OkStatus();
  };
  for (bool remote : {false, true}) {
    log->remote = remote;
    log->ordered_version_calls = 0;
    EXPECT_THAT(node.registry->Revoke(revoke, nullptr, never_stop),
                StatusIs(absl::StatusCode::kUnavailable,
                         AllOf(HasSubstr("min_version"), HasSubstr("past the last version"))));
    EXPECT_EQ(log->ordered_version_calls, 1);
    v1::CheckRequest check;
    check.add_items()->set_url("https://f.example/held.jpg");
    check.set_min_version(held->version() + 1000);
    v1::CheckResponse response;
    EXPECT_THAT(node.registry->Check(check, &response, never_stop),
                StatusIs(absl::StatusCode::kUnavailable, HasSubstr("past the last version")));
    EXPECT_EQ(log->ordered_version_calls, 2);
  }
  EXPECT_LT(absl::Now(), deadline);
  // A version it has applied: no question for it; the catch-up asks once.
  v1::RevokeRequest unknown;
  unknown.set_opt_out_id(std::string(32, 'c'));
  unknown.set_manage_token(std::string(64, 'd'));
  unknown.set_min_version(held->version());
  log->ordered_version_calls = 0;
  EXPECT_THAT(node.registry->Revoke(unknown, nullptr, never_stop),
              StatusIs(absl::StatusCode::kNotFound, _));
  EXPECT_EQ(log->ordered_version_calls, 1);
  // Nothing was revoked: with the version it has, the revoke goes through.
  revoke.set_min_version(held->version());
  EXPECT_THAT(node.registry->Revoke(revoke, nullptr, never_stop), IsOk());
}

// A mutation of a kind this build does not know (a newer node wrote it
// during a rolling upgrade) stops the node at that message: skipping it
// would move the progress past a change this node never made.
TEST_F(RegistryLogTest, MutationOfAnUnknownKindIsNotSkippedAndTheProgressStays) {
  Node a = Open("/mem/u1");
  Node b = Open("/mem/u2");
  auto owned = std::make_unique<RecordingLog>(a.registry.get());
  RecordingLog* log = owned.get();
  a.registry->UseMutationLog(std::move(owned));
  ASSERT_THAT(a.registry->Register(UrlRequest("https://u.example/kept.jpg")), IsOk());
  storage::ProgressMark first{"progress 1", true};
  ASSERT_THAT(b.registry->Apply(log->mutations[0], &first), IsOk());

  // What a newer build's kind looks like here: an id and a field this
  // build's Mutation.change has no case for.
  internal::Mutation newer;
  newer.set_mutation_id(std::string(16, '\x5a'));
  newer.GetReflection()->MutableUnknownFields(&newer)->AddLengthDelimited(99, "future change");
  storage::ProgressMark second{"progress 2", true};
  EXPECT_THAT(b.registry->Apply(newer, &second),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("field 99"), HasSubstr("newer optoutd"),
                             HasSubstr("upgrade this node"))));
  EXPECT_EQ(b.store->GetProgress()->value_or(""), "progress 1");
  EXPECT_TRUE(Matches(*b.registry, "https://u.example/kept.jpg"));
}

TEST_F(RegistryLogTest, ScopeProofsGoThroughTheLogAndAStaleChangeIsSkipped) {
  verify::testing::FakeScopeVerifier verifier;
  verifier.Accept("e.example");
  RegistryOptions options;
  options.scope_verifier = &verifier;
  Node a = Open("/mem/e1", options);
  Node b = Open("/mem/e2");  // no verifier: it only applies what a decided
  auto owned = std::make_unique<RecordingLog>(a.registry.get());
  RecordingLog* log = owned.get();
  a.registry->UseMutationLog(std::move(owned));
  v1::RegisterRequest request;
  request.add_scopes("https://e.example/me/");
  auto registered = a.registry->Register(request);
  ASSERT_THAT(registered, IsOk());
  v1::VerifyRequest verify;
  verify.set_opt_out_id(registered->opt_out_id());
  verify.set_manage_token(registered->manage_token());
  auto verified = a.registry->Verify(verify);
  ASSERT_THAT(verified, IsOk());
  ASSERT_EQ(verified->scopes_size(), 1);
  EXPECT_EQ(verified->scopes(0).state(), v1::SCOPE_STATE_VERIFIED);
  ASSERT_EQ(log->mutations.size(), 2u);
  EXPECT_TRUE(log->mutations[1].has_set_scope_proofs());

  EXPECT_THAT(b.registry->Apply(log->mutations[0], nullptr), IsOk());
  EXPECT_FALSE(Matches(*b.registry, "https://e.example/me/a.jpg"));  // pending there too
  auto applied = b.registry->Apply(log->mutations[1], nullptr);
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(*applied, ApplyOutcome::kApplied);
  EXPECT_TRUE(Matches(*b.registry, "https://e.example/me/a.jpg"));
  // The same change again was decided from proofs that are no longer there.
  auto again = b.registry->Apply(log->mutations[1], nullptr);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, ApplyOutcome::kSkipped);
  EXPECT_TRUE(Matches(*b.registry, "https://e.example/me/a.jpg"));
}

TEST_F(RegistryLogTest, SecondRegistrationOfARequestIdIsSkippedEverywhere) {
  Node a = Open("/mem/d1");
  Node b = Open("/mem/d2");
  v1::RegisterRequest request = UrlRequest("https://d.example/x.jpg");
  request.set_request_id("0123456789abcdef0123456789abcdef");
  // Two nodes took the same request at once: each made its own mutation.
  auto owned_a = std::make_unique<RecordingLog>(a.registry.get());
  auto owned_b = std::make_unique<RecordingLog>(b.registry.get());
  RecordingLog* log_b = owned_b.get();
  a.registry->UseMutationLog(std::move(owned_a));
  b.registry->UseMutationLog(std::move(owned_b));
  auto on_a = a.registry->Register(request);
  auto on_b = b.registry->Register(request);
  ASSERT_THAT(on_a, IsOk());
  ASSERT_THAT(on_b, IsOk());
  ASSERT_NE(on_a->opt_out_id(), on_b->opt_out_id());
  // The stream put a's first: where a's is applied, b's is skipped (the
  // request key is held), and the opt-out stays a's.
  auto skipped = a.registry->Apply(log_b->mutations[0], nullptr);
  ASSERT_THAT(skipped, IsOk());
  EXPECT_EQ(*skipped, ApplyOutcome::kSkipped);
  auto retried = a.registry->Register(request);
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->opt_out_id(), on_a->opt_out_id());
}

// Cluster mode stages a stream message's registrations in one store batch:
// the second registration of a request id in the same message must see the
// first (staged, not yet written) and be skipped, as it is when applied alone.
TEST_F(RegistryLogTest, RegistrationsStagedInOneBatchSeeEachOther) {
  Node a = Open("/mem/s1");
  Node b = Open("/mem/s2");
  Node c = Open("/mem/s3");
  v1::RegisterRequest request = UrlRequest("https://s.example/x.jpg");
  request.set_request_id("fedcba9876543210fedcba9876543210");
  auto owned_a = std::make_unique<RecordingLog>(a.registry.get());
  auto owned_b = std::make_unique<RecordingLog>(b.registry.get());
  RecordingLog* log_a = owned_a.get();
  RecordingLog* log_b = owned_b.get();
  a.registry->UseMutationLog(std::move(owned_a));
  b.registry->UseMutationLog(std::move(owned_b));
  auto on_a = a.registry->Register(request);
  auto on_b = b.registry->Register(request);
  auto other = a.registry->Register(UrlRequest("https://s.example/other.jpg"));
  ASSERT_THAT(on_a, IsOk());
  ASSERT_THAT(on_b, IsOk());
  ASSERT_THAT(other, IsOk());
  std::unique_ptr<storage::OptOutStore::Batch> batch = c.store->NewBatch();
  std::vector<StagedApply> staged;
  for (const internal::Mutation* m :
       {&log_a->mutations[0], &log_b->mutations[0], &log_a->mutations[1]}) {
    auto one = c.registry->Stage(*m, batch.get());
    ASSERT_THAT(one, IsOk());
    ASSERT_TRUE(one->has_value());
    staged.push_back(std::move(**one));
  }
  EXPECT_EQ(staged[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(staged[1].outcome, ApplyOutcome::kSkipped);
  EXPECT_EQ(staged[2].outcome, ApplyOutcome::kApplied);
  // Nothing matches before the batch is written, everything after.
  EXPECT_FALSE(Matches(*c.registry, "https://s.example/other.jpg"));
  storage::ProgressMark mark{"progress 3", true};
  ASSERT_THAT(c.store->Write(batch.get(), &mark), IsOk());
  for (StagedApply& s : staged) {
    if (s.after_write) s.after_write();
  }
  EXPECT_TRUE(Matches(*c.registry, "https://s.example/x.jpg"));
  EXPECT_TRUE(Matches(*c.registry, "https://s.example/other.jpg"));
  EXPECT_EQ(c.store->GetProgress()->value_or(""), "progress 3");
  // The request id answers with a's opt-out there, as on a.
  auto retried = c.registry->Register(request);
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->opt_out_id(), on_a->opt_out_id());
  // Revokes are not staged: applied alone after what was staged.
  internal::Mutation revoke;
  revoke.mutable_delete_()->set_id("x");
  auto not_staged = c.registry->Stage(revoke, batch.get());
  ASSERT_THAT(not_staged, IsOk());
  EXPECT_FALSE(not_staged->has_value());
}

// The revoke race of cluster mode: a registration timed out on one node
// (its node kept re-sending it), the client retried the same request id on
// another node, got it acknowledged and revoked it; then the first copy
// landed on the stream. Applied, it would bring the opt-out back under an
// id its owner never learned. The revoke keeps the request key as revoked,
// so the late copy is skipped wherever it is applied.
TEST_F(RegistryLogTest, LateCopyOfARetriedRegistrationAfterItsRevokeIsSkippedEverywhere) {
  Node a = Open("/mem/f1");
  Node b = Open("/mem/f2");
  auto owned = std::make_unique<RecordingLog>(a.registry.get());
  RecordingLog* log = owned.get();
  a.registry->UseMutationLog(std::move(owned));
  const std::string url = "https://f.example/revoked-race.jpg";
  v1::RegisterRequest request = UrlRequest(url);
  request.set_request_id("race-0123456789abcdef0123456789abcdef");
  log->time_out_next = true;
  EXPECT_THAT(a.registry->Register(request), StatusIs(absl::StatusCode::kUnavailable, _));
  ASSERT_EQ(log->late.size(), 1u);
  auto retried = a.registry->Register(request);  // the client's retry
  ASSERT_THAT(retried, IsOk());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(retried->opt_out_id());
  revoke.set_manage_token(retried->manage_token());
  ASSERT_THAT(a.registry->Revoke(revoke), IsOk());
  EXPECT_FALSE(Matches(*a.registry, url));

  // The first copy lands now, after the revoke.
  log->mutations.push_back(log->late[0]);
  auto late = a.registry->Apply(log->late[0], nullptr);
  ASSERT_THAT(late, IsOk());
  EXPECT_EQ(*late, ApplyOutcome::kSkipped);
  EXPECT_FALSE(Matches(*a.registry, url));
  // Another node applying the same order decides the same.
  ASSERT_EQ(log->mutations.size(), 3u);
  std::vector<ApplyOutcome> outcomes;
  for (const internal::Mutation& m : log->mutations) {
    auto outcome = b.registry->Apply(m, nullptr);
    ASSERT_THAT(outcome, IsOk());
    outcomes.push_back(*outcome);
  }
  EXPECT_THAT(outcomes, ::testing::ElementsAre(ApplyOutcome::kApplied, ApplyOutcome::kApplied,
                                               ApplyOutcome::kSkipped));
  EXPECT_FALSE(Matches(*b.registry, url));
  // A retry of the revoked request is refused, not registered again.
  EXPECT_THAT(a.registry->Register(request),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("revoked on")));

  // Bounded: held for the retry window (24 h here) after the day of the
  // revoke (so 24 to 48 h), then forgotten through the log on every node.
  const size_t before = log->mutations.size();
  auto not_yet = a.registry->ExpireRevokedRequests(absl::Now());
  ASSERT_THAT(not_yet, IsOk());
  EXPECT_EQ(*not_yet, 0);
  EXPECT_EQ(log->mutations.size(), before);  // nothing due: nothing published
  auto due = a.registry->ExpireRevokedRequests(absl::Now() + absl::Hours(49));
  ASSERT_THAT(due, IsOk());
  EXPECT_EQ(*due, 1);
  ASSERT_EQ(log->mutations.size(), before + 1);
  ASSERT_TRUE(log->mutations.back().has_expire_revoked_requests());
  auto expired = b.registry->Apply(log->mutations.back(), nullptr);
  ASSERT_THAT(expired, IsOk());
  EXPECT_EQ(*expired, ApplyOutcome::kApplied);
  EXPECT_FALSE(b.store->GetRevokedRequest(log->late[0].insert().request_key())->has_value());
  auto again = a.registry->Register(request);  // forgotten: a new opt-out
  ASSERT_THAT(again, IsOk());
  EXPECT_NE(again->opt_out_id(), retried->opt_out_id());
}

}  // namespace
}  // namespace optout::service

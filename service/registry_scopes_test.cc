// Host and directory scopes match only while their host is proven (issue
// 10): pending -> verified -> lapsed, expiry, persistence. The proof itself
// comes from a fake verifier here; tests/e2e/scopes_e2e_test.cc proves hosts
// over real HTTPS and DNS.
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "client/common/base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/registry.h"
#include "service/testing/in_memory_registry.h"
#include "service/verify/testing/fake_scope_verifier.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kDay = 24 * 3600;

class RegistryScopesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(db_.Init(), IsOk());
    Reopen();
  }

  void Reopen(const verify::ScopeVerifier* verifier = nullptr) {
    RegistryOptions options;
    options.scope_verifier = verifier != nullptr ? verifier : &verifier_;
    ASSERT_THAT(db_.Reopen(testing::FilledSecret(9), options), IsOk());
  }

  Registry* registry() const { return db_.registry(); }

  v1::RegisterResponse RegisterScope(const std::string& scope, const std::string& url = "") {
    v1::RegisterRequest request;
    request.add_scopes(scope);
    if (!url.empty()) request.add_urls(url);
    auto response = registry()->Register(request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : v1::RegisterResponse();
  }

  v1::VerifyResponse Verify(const v1::RegisterResponse& registered) {
    v1::VerifyRequest request;
    request.set_opt_out_id(registered.opt_out_id());
    request.set_manage_token(registered.manage_token());
    auto response = registry()->Verify(request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : v1::VerifyResponse();
  }

  v1::GetResponse Get(const v1::RegisterResponse& registered) {
    v1::GetRequest request;
    request.set_opt_out_id(registered.opt_out_id());
    request.set_manage_token(registered.manage_token());
    auto response = registry()->Get(request);
    EXPECT_THAT(response, IsOk());
    return response.ok() ? *response : v1::GetResponse();
  }

  v1::MatchKind MatchOf(const std::string& url) {
    v1::CheckRequest request;
    request.add_items()->set_url(url);
    v1::CheckResponse response;
    EXPECT_THAT(registry()->Check(request, &response), IsOk());
    return response.results_size() == 1 ? response.results(0).kind() : v1::MATCH_KIND_NONE;
  }

  Registry::ScopeMaintenance Maintain(int64_t seconds_from_now) {
    auto done = registry()->MaintainScopes(absl::Now() + absl::Seconds(seconds_from_now));
    EXPECT_THAT(done, IsOk());
    return done.ok() ? *done : Registry::ScopeMaintenance();
  }

  verify::testing::FakeScopeVerifier verifier_;
  testing::InMemoryRegistry db_;
};

TEST_F(RegistryScopesTest, PendingScopeMatchesNothingUntilItsHostIsProven) {
  verifier_.Refuse("photos.example.org");
  const v1::RegisterResponse registered = RegisterScope("https://photos.example.org/me/");
  ASSERT_EQ(registered.challenge_token().size(), 32u);
  ASSERT_EQ(registered.scopes_size(), 1);
  const v1::ScopeStatus& pending = registered.scopes(0);
  EXPECT_EQ(pending.state(), v1::SCOPE_STATE_PENDING);
  EXPECT_EQ(pending.host(), "photos.example.org");
  EXPECT_EQ(pending.https_url(), "https://photos.example.org/.well-known/optout-challenge/" +
                                     registered.challenge_token());
  EXPECT_EQ(pending.dns_name(), "_optout-challenge.photos.example.org");
  EXPECT_NEAR(pending.pending_until_unix_seconds(), absl::ToUnixSeconds(absl::Now()) + 7 * kDay, 5);
  EXPECT_EQ(MatchOf("https://photos.example.org/me/a.jpg"), v1::MATCH_KIND_NONE);

  v1::VerifyResponse refused = Verify(registered);
  ASSERT_EQ(refused.scopes_size(), 1);
  EXPECT_EQ(refused.scopes(0).state(), v1::SCOPE_STATE_PENDING);
  EXPECT_THAT(refused.scopes(0).reason(), HasSubstr("HTTPS: answered 404"));
  EXPECT_EQ(verifier_.last_token(), registered.challenge_token());
  EXPECT_EQ(MatchOf("https://photos.example.org/me/a.jpg"), v1::MATCH_KIND_NONE);

  verifier_.Accept("photos.example.org");
  v1::VerifyResponse proven = Verify(registered);
  ASSERT_EQ(proven.scopes_size(), 1);
  EXPECT_EQ(proven.scopes(0).state(), v1::SCOPE_STATE_VERIFIED);
  EXPECT_EQ(proven.scopes(0).method(), "dns");
  EXPECT_TRUE(proven.scopes(0).reason().empty());
  EXPECT_EQ(MatchOf("https://photos.example.org/me/a.jpg"), v1::MATCH_KIND_SCOPE);
  EXPECT_EQ(MatchOf("https://photos.example.org/you/a.jpg"), v1::MATCH_KIND_NONE);
  const v1::GetResponse got = Get(registered);
  EXPECT_EQ(got.challenge_token(), registered.challenge_token());
  ASSERT_EQ(got.scopes_size(), 1);
  EXPECT_EQ(got.scopes(0).state(), v1::SCOPE_STATE_VERIFIED);
  EXPECT_EQ(got.items_size(), 1);  // the scope's match id, proven or not
}

TEST_F(RegistryScopesTest, ExactUrlsNeedNoProof) {
  verifier_.Refuse("shop.example.com");
  RegisterScope("https://shop.example.com/", "https://shop.example.com/a.jpg");
  EXPECT_EQ(MatchOf("https://shop.example.com/a.jpg"), v1::MATCH_KIND_URL);
  EXPECT_EQ(MatchOf("https://shop.example.com/b.jpg"), v1::MATCH_KIND_NONE);
  EXPECT_EQ(verifier_.calls(), 0);  // nothing is fetched before the owner asks
}

TEST_F(RegistryScopesTest, PendingScopeExpiresAndCannotBeProvenAfterwards) {
  const v1::RegisterResponse registered = RegisterScope("https://late.example.com/");
  EXPECT_EQ(Maintain(6 * kDay).expired, 0);
  EXPECT_EQ(Maintain(7 * kDay + 10).expired, 1);
  EXPECT_EQ(Maintain(8 * kDay).expired, 0);  // once
  // The owner's own clock is now: what she sees a week later comes from the
  // stored state; Verify does not revive an expired scope.
  v1::GetResponse got = Get(registered);
  ASSERT_EQ(got.scopes_size(), 1);
  EXPECT_EQ(got.scopes(0).state(), v1::SCOPE_STATE_EXPIRED);
  EXPECT_EQ(Verify(registered).scopes(0).state(), v1::SCOPE_STATE_EXPIRED);
  EXPECT_EQ(verifier_.calls(), 0);
  EXPECT_EQ(MatchOf("https://late.example.com/a.jpg"), v1::MATCH_KIND_NONE);
}

TEST_F(RegistryScopesTest, RecheckKeepsOrLapsesAProofAndVerifyRestoresIt) {
  const v1::RegisterResponse registered = RegisterScope("https://blog.example.net/");
  ASSERT_EQ(Verify(registered).scopes(0).state(), v1::SCOPE_STATE_VERIFIED);
  EXPECT_EQ(Maintain(kDay).rechecked, 0);  // not due yet
  EXPECT_EQ(Maintain(31 * kDay).rechecked, 1);
  EXPECT_EQ(MatchOf("https://blog.example.net/x.jpg"), v1::MATCH_KIND_SCOPE);

  verifier_.Refuse("blog.example.net");
  EXPECT_EQ(Maintain(45 * kDay).lapsed, 0);  // 14 days after the last re-check
  EXPECT_EQ(Maintain(62 * kDay).lapsed, 1);
  EXPECT_EQ(MatchOf("https://blog.example.net/x.jpg"), v1::MATCH_KIND_NONE);
  v1::GetResponse got = Get(registered);
  EXPECT_EQ(got.scopes(0).state(), v1::SCOPE_STATE_LAPSED);
  EXPECT_THAT(got.scopes(0).reason(), HasSubstr("DNS: no TXT record"));
  // A lapsed scope does not expire; its owner proves it again.
  EXPECT_EQ(Maintain(100 * kDay).expired, 0);
  verifier_.Accept("blog.example.net");
  EXPECT_EQ(Verify(registered).scopes(0).state(), v1::SCOPE_STATE_VERIFIED);
  EXPECT_EQ(MatchOf("https://blog.example.net/x.jpg"), v1::MATCH_KIND_SCOPE);
}

TEST_F(RegistryScopesTest, ProofsSurviveRestart) {
  const v1::RegisterResponse proven = RegisterScope("https://a.example.com/");
  Verify(proven);
  verifier_.Refuse("b.example.com");
  const v1::RegisterResponse pending = RegisterScope("https://b.example.com/");
  Reopen();
  EXPECT_EQ(MatchOf("https://a.example.com/x.jpg"), v1::MATCH_KIND_SCOPE);
  EXPECT_EQ(MatchOf("https://b.example.com/x.jpg"), v1::MATCH_KIND_NONE);
  EXPECT_EQ(Get(pending).scopes(0).state(), v1::SCOPE_STATE_PENDING);
  // Maintenance knows both after the restart.
  EXPECT_EQ(Maintain(7 * kDay + 10).expired, 1);
  EXPECT_EQ(Maintain(31 * kDay).rechecked, 1);
}

TEST_F(RegistryScopesTest, RetryReturnsTheSameChallengeAndHostsAreAskedOnce) {
  v1::RegisterRequest request;
  request.set_request_id("scopes-retry-0123456789abcdef");
  request.add_scopes("https://twice.example.com/a/");
  request.add_scopes("https://twice.example.com/b/");
  auto first = registry()->Register(request);
  auto again = registry()->Register(request);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->challenge_token(), first->challenge_token());
  ASSERT_EQ(again->scopes_size(), 2);
  v1::VerifyResponse verified = Verify(*first);
  ASSERT_EQ(verified.scopes_size(), 2);
  EXPECT_EQ(verified.scopes(1).state(), v1::SCOPE_STATE_VERIFIED);
  EXPECT_EQ(verifier_.calls(), 1);
}

TEST_F(RegistryScopesTest, RevokeRemovesAProvenScopeAndVerifyNeedsTheToken) {
  const v1::RegisterResponse registered = RegisterScope("https://gone.example.com/");
  Verify(registered);
  v1::VerifyRequest wrong;
  wrong.set_opt_out_id(registered.opt_out_id());
  wrong.set_manage_token(std::string(64, '0'));
  EXPECT_THAT(registry()->Verify(wrong), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("manage_token")));
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(registered.opt_out_id());
  revoke.set_manage_token(registered.manage_token());
  ASSERT_THAT(registry()->Revoke(revoke), IsOk());
  EXPECT_EQ(MatchOf("https://gone.example.com/x.jpg"), v1::MATCH_KIND_NONE);
  EXPECT_EQ(Maintain(31 * kDay).rechecked, 0);
}

TEST_F(RegistryScopesTest, WithoutAVerifierScopesStayPendingWithTheReason) {
  RegistryOptions options;  // no verifier at all
  ASSERT_THAT(db_.Reopen(testing::FilledSecret(9), options), IsOk());
  const v1::RegisterResponse registered = RegisterScope("https://x.example.com/");
  v1::VerifyResponse verified = Verify(registered);
  EXPECT_EQ(verified.scopes(0).state(), v1::SCOPE_STATE_PENDING);
  EXPECT_THAT(verified.scopes(0).reason(), HasSubstr("not configured"));
}

}  // namespace
}  // namespace optout::service

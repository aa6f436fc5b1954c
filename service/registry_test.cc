#include "service/registry.h"

#include <memory>
#include <random>
#include <set>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "client/common/base/version.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/url_digests.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "optout/internal/record.pb.h"
#include "service/opt_out_codec.h"
#include "service/testing/in_memory_registry.h"
#include "service/verify/testing/fake_scope_verifier.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::_;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

MATCHER_P(IsOkAndHolds, value, "") { return arg.ok() && *arg == value; }

std::string RandomPdq(uint32_t seed) {
  std::mt19937 rng(seed);
  std::string h(32, '\0');
  for (char& c : h) c = static_cast<char>(rng());
  return h;
}

// Registrations must state the quality the hasher reported.
void AddPdq(v1::RegisterRequest* request, const std::string& hash) {
  v1::PdqHash* pdq = request->add_pdq();
  pdq->set_hash(hash);
  pdq->set_quality(100);
}

std::string FlipBits(std::string h, int bits) {
  for (int i = 0; i < bits; ++i) h[i / 8] = static_cast<char>(h[i / 8] ^ (1 << (i % 8)));
  return h;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(db_.Init(), IsOk());
    Reopen();
  }

  void Reopen() {
    RegistryOptions options;
    options.scope_verifier = &verifier_;
    ASSERT_THAT(db_.Reopen(testing::FilledSecret(7), options), IsOk());
  }

  Registry* registry() const { return db_.registry(); }

  // Scopes are proven right away (the fake verifier accepts every host):
  // these tests are about what a proven scope matches; registry_scopes_test
  // covers the proof itself.
  v1::RegisterResponse MustRegister(const v1::RegisterRequest& request) {
    auto response = registry()->Register(request);
    EXPECT_THAT(response, IsOk());
    if (response.ok() && response->scopes_size() > 0) {
      v1::VerifyRequest verify;
      verify.set_opt_out_id(response->opt_out_id());
      verify.set_manage_token(response->manage_token());
      auto verified = registry()->Verify(verify);
      EXPECT_THAT(verified, IsOk());
    }
    return response.ok() ? *response : v1::RegisterResponse();
  }

  v1::CheckResponse MustCheck(const v1::CheckRequest& request) {
    v1::CheckResponse response;
    absl::Status s = registry()->Check(request, &response);
    EXPECT_THAT(s, IsOk());
    return response;
  }

  v1::ItemResult CheckOne(const v1::CheckItem& item) {
    v1::CheckRequest request;
    *request.add_items() = item;
    v1::CheckResponse response = MustCheck(request);
    return response.results_size() == 1 ? response.results(0) : v1::ItemResult();
  }

  v1::ItemResult CheckUrl(const std::string& url) {
    v1::CheckItem item;
    item.set_url(url);
    return CheckOne(item);
  }

  v1::ItemResult CheckPdq(const std::string& hash) {
    v1::CheckItem item;
    item.mutable_pdq()->set_hash(hash);
    return CheckOne(item);
  }

  verify::testing::FakeScopeVerifier verifier_;
  testing::InMemoryRegistry db_;
};

TEST_F(RegistryTest, RegisteredUrlMatchesExactlyWhateverTheSchemeButNotOtherQueries) {
  v1::RegisterRequest request;
  request.add_urls("https://img.example.com/a/b.jpg?size=2");
  const v1::RegisterResponse registered = MustRegister(request);
  ASSERT_EQ(registered.items_size(), 1);
  const std::string id = registered.items(0).match_id();

  v1::ItemResult hit = CheckUrl("HTTP://img.example.com:8080/a/./b.jpg?size=2#frag");
  EXPECT_TRUE(hit.matched());
  EXPECT_EQ(hit.kind(), v1::MATCH_KIND_URL);
  EXPECT_THAT(hit.match_ids(), ElementsAre(id));
  EXPECT_FALSE(CheckUrl("https://img.example.com/a/b.jpg?size=3").matched());
  EXPECT_FALSE(CheckUrl("https://img.example.com/a/b.jpg").matched());
}

TEST_F(RegistryTest, AnyQueryUrlMatchesThePathWithAnyQueryOrNone) {
  v1::RegisterRequest request;
  request.add_url_any_query("https://cdn.example/img/x.jpg?name=large");
  const v1::RegisterResponse r = MustRegister(request);
  for (bool reopened : {false, true}) {  // as registered, then as loaded at start
    SCOPED_TRACE(reopened);
    if (reopened) Reopen();
    for (const char* url :
         {"https://cdn.example/img/x.jpg?name=large", "https://cdn.example/img/x.jpg?name=small",
          "http://cdn.example/img/x.jpg?w=10&name=small", "https://cdn.example/img/x.jpg",
          "https://cdn.example/img/x.jpg?"}) {
      const v1::ItemResult hit = CheckUrl(url);
      EXPECT_EQ(hit.kind(), v1::MATCH_KIND_URL_ANY_QUERY) << url;
      EXPECT_THAT(hit.match_ids(), ElementsAre(r.items(0).match_id())) << url;
    }
    for (const char* url : {"https://cdn.example/img/y.jpg?name=large",
                            "https://cdn.example/img/x.jpg/z.jpg", "https://cdn.example/img/",
                            "https://cdn.example/?name=large", "https://www.cdn.example/img/x.jpg"}) {
      EXPECT_FALSE(CheckUrl(url).matched()) << url;
    }
  }
  v1::GetRequest get;
  get.set_opt_out_id(r.opt_out_id());
  get.set_manage_token(r.manage_token());
  auto got = registry()->Get(get);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->url_any_query_count(), 1);
  EXPECT_EQ(got->url_count(), 0);
  EXPECT_EQ(got->scope_count(), 0);
}

TEST_F(RegistryTest, AnyQueryUrlOfTheRootPathIsRefusedNamingTheField) {
  v1::RegisterRequest request;
  request.add_url_any_query("https://ok.example/a.jpg");
  request.add_url_any_query("https://cdn.example/?name=large");
  EXPECT_THAT(registry()->Register(request),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("url_any_query[1]"), HasSubstr("ANY_QUERY_ROOT_PATH"))));
  EXPECT_EQ(registry()->opt_out_count(), 0u);
  EXPECT_FALSE(CheckUrl("https://ok.example/a.jpg").matched()) << "nothing half-written";
}

// URL, URL_ANY_QUERY and SCOPE share one key space: "s.example/gallery/" is
// the key of both the scope and the any-query URL below. The key's values
// are sorted strongest first, so however many scopes share the key, the
// any-query opt-out is found and named.
TEST_F(RegistryTest, UrlKindsRankUrlThenAnyQueryThenScope) {
  for (int i = 0; i < 20; ++i) {
    v1::RegisterRequest scope;
    scope.add_scopes("https://s.example/gallery/");
    MustRegister(scope);
  }
  v1::RegisterRequest exact, any_query;
  exact.add_urls("https://s.example/gallery/?page=2");
  any_query.add_url_any_query("https://s.example/gallery/?page=1");
  const std::string exact_id = MustRegister(exact).items(0).match_id();
  const std::string any_query_id = MustRegister(any_query).items(0).match_id();
  for (bool reopened : {false, true}) {
    SCOPED_TRACE(reopened);
    if (reopened) Reopen();
    const v1::ItemResult page2 = CheckUrl("https://s.example/gallery/?page=2");
    EXPECT_EQ(page2.kind(), v1::MATCH_KIND_URL);
    EXPECT_EQ(page2.match_ids(0), exact_id);
    const v1::ItemResult page3 = CheckUrl("https://s.example/gallery/?page=3");
    EXPECT_EQ(page3.kind(), v1::MATCH_KIND_URL_ANY_QUERY);
    EXPECT_EQ(page3.match_ids(0), any_query_id);
    EXPECT_EQ(CheckUrl("https://s.example/gallery/").kind(), v1::MATCH_KIND_URL_ANY_QUERY);
    EXPECT_EQ(CheckUrl("https://s.example/gallery/a.jpg?page=3").kind(), v1::MATCH_KIND_SCOPE);
  }
}

TEST_F(RegistryTest, InfoNamesTheVersionAndTheListWhichIsServedWhole) {
  const v1::GetInfoResponse info = registry()->Info();
  EXPECT_EQ(info.server_version(), kVersion);
  EXPECT_EQ(info.psl_version(), db_.psl().version());
  EXPECT_EQ(info.psl_sha256(), db_.psl().sha256_hex());
  const v1::GetPublicSuffixListResponse list = registry()->PublicSuffixListInUse();
  EXPECT_EQ(digest::ToHex(digest::Sha256(list.list())), info.psl_sha256());
  EXPECT_EQ(list.sha256(), info.psl_sha256());
  EXPECT_EQ(list.version(), info.psl_version());
}

TEST_F(RegistryTest, ScopeMatchesSubdomainsAndDeeperPathsOnly) {
  v1::RegisterRequest request;
  request.add_scopes("https://photos.example.org/users/me/");
  MustRegister(request);
  EXPECT_EQ(CheckUrl("http://photos.example.org/users/me/2024/01/x.jpg").kind(),
            v1::MATCH_KIND_SCOPE);
  EXPECT_TRUE(CheckUrl("http://cdn.photos.example.org/users/me/x.jpg").matched());
  EXPECT_FALSE(CheckUrl("http://photos.example.org/users/you/x.jpg").matched());
  EXPECT_FALSE(CheckUrl("http://example.org/users/me/x.jpg").matched());
}

TEST_F(RegistryTest, PublicSuffixScopeIsRejectedNamingTheField) {
  v1::RegisterRequest request;
  request.add_urls("https://ok.example/x.jpg");
  request.add_scopes("https://co.uk/");
  auto response = registry()->Register(request);
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scopes[0]")));
  EXPECT_FALSE(CheckUrl("https://ok.example/x.jpg").matched()) << "nothing half-written";
}

TEST_F(RegistryTest, MalformedUrlRejectsRegistrationWithItsIndex) {
  v1::RegisterRequest request;
  request.add_urls("https://fine.example/a.jpg");
  request.add_urls("http://x.example:7z/");
  auto response = registry()->Register(request);
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kInvalidArgument,
                                 AllOf(HasSubstr("urls[1]"), HasSubstr("INVALID_PORT"))));
  EXPECT_EQ(registry()->opt_out_count(), 0u);
}

TEST_F(RegistryTest, PdqMatchesAtThresholdAndNotOneBitBeyond) {
  const std::string hash = RandomPdq(1);
  v1::RegisterRequest request;
  AddPdq(&request, hash);
  MustRegister(request);
  EXPECT_EQ(CheckPdq(FlipBits(hash, 31)).kind(), v1::MATCH_KIND_PDQ);
  EXPECT_FALSE(CheckPdq(FlipBits(hash, 32)).matched());
}

TEST_F(RegistryTest, DihedralVariantSentWithTheQueryCanMatch) {
  const std::string registered = RandomPdq(2);
  v1::RegisterRequest request;
  AddPdq(&request, registered);
  MustRegister(request);
  v1::CheckItem item;
  item.mutable_pdq()->set_hash(RandomPdq(3));
  for (int i = 0; i < 8; ++i) {
    item.mutable_pdq()->add_dihedral(i == 5 ? FlipBits(registered, 4) : RandomPdq(10 + i));
  }
  EXPECT_TRUE(CheckOne(item).matched());
}

TEST_F(RegistryTest, RegionsOfAnImageAnswerWithItsMatchIdAndCountOnce) {
  const std::string image_a = RandomPdq(40);
  const std::string window = RandomPdq(41);
  v1::RegisterRequest request;
  AddPdq(&request, image_a);
  request.mutable_pdq(0)->add_regions(RandomPdq(42));
  request.mutable_pdq(0)->add_regions(window);
  AddPdq(&request, RandomPdq(43));
  const v1::RegisterResponse r = MustRegister(request);
  ASSERT_EQ(r.items_size(), 2);
  const std::string a_id = r.items(0).match_id();

  // A copy near one window names image A, as a copy of A itself would.
  EXPECT_THAT(CheckPdq(FlipBits(window, 31)).match_ids(), ElementsAre(a_id));
  EXPECT_THAT(CheckPdq(image_a).match_ids(), ElementsAre(a_id));
  EXPECT_FALSE(CheckPdq(FlipBits(window, 32)).matched());
  // The checker's own regions are searched too.
  v1::CheckItem item;
  item.mutable_pdq()->set_hash(RandomPdq(44));
  item.mutable_pdq()->add_regions(FlipBits(window, 3));
  EXPECT_THAT(CheckOne(item).match_ids(), ElementsAre(a_id));
  // And their mirrors (PdqHash.region_mirrors), which Info announces: a
  // mirrored, cropped copy.
  EXPECT_TRUE(registry()->Info().pdq_region_mirrors());
  v1::CheckItem mirrored;
  mirrored.mutable_pdq()->set_hash(RandomPdq(45));
  mirrored.mutable_pdq()->add_regions(RandomPdq(46));
  mirrored.mutable_pdq()->add_region_mirrors(FlipBits(window, 3));
  EXPECT_THAT(CheckOne(mirrored).match_ids(), ElementsAre(a_id));
  mirrored.mutable_pdq()->set_region_mirrors(0, FlipBits(window, 32));
  EXPECT_FALSE(CheckOne(mirrored).matched());

  v1::GetRequest get;
  get.set_opt_out_id(r.opt_out_id());
  get.set_manage_token(r.manage_token());
  auto got = registry()->Get(get);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->pdq_count(), 2);

  Reopen();  // regions come back from the sealed record
  EXPECT_THAT(CheckPdq(window).match_ids(), ElementsAre(a_id));
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(r.opt_out_id());
  revoke.set_manage_token(r.manage_token());
  ASSERT_THAT(registry()->Revoke(revoke), IsOk());
  EXPECT_FALSE(CheckPdq(window).matched());
}

TEST_F(RegistryTest, RegionsBeyondTheLimitsAreRefusedNamingTheField) {
  v1::RegisterRequest request;
  AddPdq(&request, RandomPdq(50));
  for (int i = 0; i < 64; ++i) request.mutable_pdq(0)->add_regions(RandomPdq(100 + i));
  EXPECT_THAT(registry()->Register(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pdq[0].regions")));

  v1::RegisterRequest late;
  for (int i = 0; i < 513; ++i) AddPdq(&late, RandomPdq(1000 + i));
  late.mutable_pdq(512)->add_regions(RandomPdq(51));
  EXPECT_THAT(registry()->Register(late),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pdq[512].regions")));

  v1::CheckItem item;
  item.mutable_pdq()->set_hash(RandomPdq(52));
  item.mutable_pdq()->add_regions(std::string(32, '\0'));
  v1::CheckRequest check;
  *check.add_items() = item;
  v1::CheckResponse response;
  EXPECT_THAT(registry()->Check(check, &response),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("regions[0]")));
}

TEST_F(RegistryTest, FileDigestsMatchByEqualityAndKind) {
  const std::string sha(32, 'S');
  const std::string md5(16, 'M');
  v1::RegisterRequest request;
  request.add_sha256(sha);
  request.add_md5(md5);
  MustRegister(request);
  v1::CheckItem s, m, other;
  s.set_sha256(sha);
  m.set_md5(md5);
  other.set_sha256(std::string(32, 'T'));
  EXPECT_EQ(CheckOne(s).kind(), v1::MATCH_KIND_SHA256);
  EXPECT_EQ(CheckOne(m).kind(), v1::MATCH_KIND_MD5);
  EXPECT_FALSE(CheckOne(other).matched());
}

// 40 scopes and 40 exact URLs share the key of "hot.example/". A check
// reads at most 16 values of the accepted kinds per key, so the URLs must
// neither hide the scopes from a check below the scope nor outrank them
// anywhere but on the exact URL.
TEST_F(RegistryTest, HotKeyAnswersSixteenIdsOfTheStrongestAcceptedKind) {
  std::set<std::string> scope_ids;
  std::set<std::string> url_ids;
  for (int i = 0; i < 40; ++i) {
    v1::RegisterRequest scope;
    scope.add_scopes("https://hot.example/");
    scope_ids.insert(MustRegister(scope).items(0).match_id());
  }
  for (int i = 0; i < 40; ++i) {
    v1::RegisterRequest url;
    url.add_urls("https://hot.example/");
    url_ids.insert(MustRegister(url).items(0).match_id());
  }
  for (bool reopened : {false, true}) {  // as registered, then as loaded at start
    SCOPED_TRACE(reopened);
    if (reopened) Reopen();
    const v1::ItemResult below = CheckUrl("https://hot.example/a.jpg");
    EXPECT_EQ(below.kind(), v1::MATCH_KIND_SCOPE);
    ASSERT_EQ(below.match_ids_size(), 16);
    for (const std::string& id : below.match_ids()) EXPECT_TRUE(scope_ids.count(id)) << id;
    const v1::ItemResult exact = CheckUrl("https://hot.example/");
    EXPECT_EQ(exact.kind(), v1::MATCH_KIND_URL);
    ASSERT_EQ(exact.match_ids_size(), 16);
    for (const std::string& id : exact.match_ids()) EXPECT_TRUE(url_ids.count(id)) << id;
  }
}

// Issue 10: answers name the matched item, not the opt-out, so a checker
// cannot join one person's URL with her photo; each item's id is stable
// (across restarts) and the owner sees the same ids in Register and Get.
TEST_F(RegistryTest, UrlAndImageOfOneOptOutAnswerWithTheirOwnStableMatchIds) {
  v1::RegisterRequest request;
  request.add_urls("https://linked.example/me.jpg");
  request.add_urls("HTTPS://linked.example/me.jpg");  // the same item, spelled again
  const std::string hash = RandomPdq(7);
  AddPdq(&request, hash);
  const std::string sha256(32, 's');
  request.add_sha256(sha256);
  const v1::RegisterResponse registered = MustRegister(request);
  ASSERT_EQ(registered.items_size(), 4);
  EXPECT_EQ(registered.items(0).kind(), v1::MATCH_KIND_URL);
  EXPECT_EQ(registered.items(1).index(), 1);
  EXPECT_EQ(registered.items(0).match_id(), registered.items(1).match_id());
  EXPECT_EQ(registered.items(2).kind(), v1::MATCH_KIND_PDQ);
  EXPECT_EQ(registered.items(3).kind(), v1::MATCH_KIND_SHA256);
  const std::string url_id = registered.items(0).match_id();
  const std::string pdq_id = registered.items(2).match_id();
  const std::string sha_id = registered.items(3).match_id();
  EXPECT_EQ(url_id.size(), 32u);
  EXPECT_NE(url_id, pdq_id);
  EXPECT_NE(pdq_id, sha_id);
  EXPECT_NE(url_id, registered.opt_out_id());

  v1::CheckItem sha_item;
  sha_item.set_sha256(sha256);
  for (bool reopened : {false, true}) {
    SCOPED_TRACE(reopened);
    if (reopened) Reopen();
    const v1::ItemResult by_url = CheckUrl("https://linked.example/me.jpg");
    const v1::ItemResult by_image = CheckPdq(FlipBits(hash, 3));
    EXPECT_THAT(by_url.match_ids(), ElementsAre(url_id));
    EXPECT_THAT(by_image.match_ids(), ElementsAre(pdq_id));
    EXPECT_THAT(CheckOne(sha_item).match_ids(), ElementsAre(sha_id));
  }

  v1::GetRequest get;
  get.set_opt_out_id(registered.opt_out_id());
  get.set_manage_token(registered.manage_token());
  auto got = registry()->Get(get);
  ASSERT_THAT(got, IsOk());
  std::set<std::string> got_ids;
  for (const v1::RegisteredItem& item : got->items()) got_ids.insert(item.match_id());
  EXPECT_EQ(got_ids, (std::set<std::string>{url_id, pdq_id, sha_id}));
  // A retry answers with the same ids.
  request.set_request_id("7c1e2d3c4b5a69788796a5b4c3d2e1f9");
  const v1::RegisterResponse first = MustRegister(request);
  const v1::RegisterResponse retried = MustRegister(request);
  ASSERT_EQ(retried.items_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(retried.items(i).match_id(), first.items(i).match_id());
  EXPECT_NE(first.items(0).match_id(), url_id);  // another opt-out of the same URL
}

TEST_F(RegistryTest, RetryWithSameRequestIdReturnsSameOptOutAndToken) {
  v1::RegisterRequest request;
  request.set_request_id("0f1e2d3c4b5a69788796a5b4c3d2e1f0");  // 128 bits, hex
  request.add_urls("https://a.example/1.jpg");
  v1::RegisterResponse first = MustRegister(request);
  v1::RegisterResponse second = MustRegister(request);
  EXPECT_EQ(first.opt_out_id(), second.opt_out_id());
  EXPECT_EQ(first.manage_token(), second.manage_token());
  EXPECT_EQ(registry()->opt_out_count(), 1u);

  request.set_urls(0, "https://a.example/2.jpg");
  EXPECT_THAT(registry()->Register(request), StatusIs(absl::StatusCode::kAlreadyExists, _));
}

TEST_F(RegistryTest, SealedTokenCopyIsErasedAfterTheRetryWindow) {
  v1::RegisterRequest request;
  request.set_request_id("0123456789abcdef0123456789abcdef");
  request.add_urls("https://a.example/1.jpg");
  const v1::RegisterResponse first = MustRegister(request);
  v1::RegisterRequest other;  // registered before a restart: queued at load
  other.add_urls("https://a.example/2.jpg");
  const v1::RegisterResponse second = MustRegister(other);
  Reopen();

  const absl::Time now = absl::Now();
  EXPECT_THAT(registry()->EraseExpiredTokens(now + absl::Hours(23)), IsOkAndHolds(0));
  EXPECT_EQ(MustRegister(request).manage_token(), first.manage_token()) << "inside the window";

  EXPECT_THAT(registry()->EraseExpiredTokens(now + absl::Hours(25)), IsOkAndHolds(2));
  // The stored record no longer holds the token, even sealed.
  SecretBytes secret{};
  secret.fill(7);
  const Keyring keyring = *Keyring::Derive(secret);
  for (const auto& registered : {first, second}) {
    const std::string id = *digest::FromHex(registered.opt_out_id(), 16);
    auto bytes = db_.store()->GetRecord(id);
    ASSERT_TRUE(bytes.ok() && bytes->has_value());
    internal::OptOutRecord record;
    ASSERT_TRUE(record.ParseFromString(**bytes));
    EXPECT_TRUE(record.token_erased());
    auto sealed = OpenSealed(keyring, id, record);
    ASSERT_THAT(sealed.status(), optout::testing::IsOk());
    EXPECT_TRUE(sealed->manage_token().empty());
    EXPECT_EQ(sealed->url_digests_size(), 1) << "the rest of the sealed part is kept";
  }
  // A late retry is refused, not registered twice; the token still works.
  EXPECT_THAT(registry()->Register(request).status(),
              optout::testing::StatusIs(absl::StatusCode::kAlreadyExists,
                                        HasSubstr("manage token is kept for retries only")));
  EXPECT_EQ(registry()->opt_out_count(), 2u);
  v1::GetRequest get;
  get.set_opt_out_id(first.opt_out_id());
  get.set_manage_token(first.manage_token());
  EXPECT_THAT(registry()->Get(get).status(), optout::testing::IsOk());
  Reopen();
  EXPECT_THAT(registry()->EraseExpiredTokens(now + absl::Hours(48)), IsOkAndHolds(0));
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(second.opt_out_id());
  revoke.set_manage_token(second.manage_token());
  EXPECT_THAT(registry()->Revoke(revoke), optout::testing::IsOk());
}

TEST_F(RegistryTest, GetNeedsTheRightTokenAndReportsCounts) {
  v1::RegisterRequest request;
  request.add_urls("https://a.example/1.jpg");
  request.add_scopes("https://a.example/dir/");
  AddPdq(&request, RandomPdq(4));
  v1::RegisterResponse r = MustRegister(request);

  v1::GetRequest get;
  get.set_opt_out_id(r.opt_out_id());
  get.set_manage_token(r.manage_token());
  auto got = registry()->Get(get);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->url_count(), 1);
  EXPECT_EQ(got->scope_count(), 1);
  EXPECT_EQ(got->pdq_count(), 1);
  EXPECT_GT(got->created_unix_seconds(), 0);

  get.set_manage_token(std::string(64, '0'));
  EXPECT_THAT(registry()->Get(get), StatusIs(absl::StatusCode::kPermissionDenied, _));
  get.set_manage_token("not hex");
  EXPECT_THAT(registry()->Get(get), StatusIs(absl::StatusCode::kInvalidArgument, _));
}

TEST_F(RegistryTest, RevokeRemovesEveryMatchAndNeedsTheToken) {
  const std::string hash = RandomPdq(5);
  v1::RegisterRequest request;
  request.add_urls("https://a.example/1.jpg");
  AddPdq(&request, hash);
  v1::RegisterResponse r = MustRegister(request);

  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(r.opt_out_id());
  revoke.set_manage_token(std::string(64, 'a'));
  EXPECT_THAT(registry()->Revoke(revoke), StatusIs(absl::StatusCode::kPermissionDenied, _));
  EXPECT_TRUE(CheckUrl("https://a.example/1.jpg").matched());

  revoke.set_manage_token(r.manage_token());
  ASSERT_THAT(registry()->Revoke(revoke), IsOk());
  EXPECT_FALSE(CheckUrl("https://a.example/1.jpg").matched());
  EXPECT_FALSE(CheckPdq(hash).matched());
  EXPECT_THAT(registry()->Revoke(revoke), StatusIs(absl::StatusCode::kFailedPrecondition, _));
  Reopen();
  EXPECT_FALSE(CheckUrl("https://a.example/1.jpg").matched());
}

TEST_F(RegistryTest, IdenticalItemsOfOneRegistrationAreStoredOnce) {
  const std::string hash = RandomPdq(17);
  v1::RegisterRequest request;
  request.add_urls("https://A.example/same.jpg");
  request.add_urls("https://a.example/same.jpg");  // the same after canonicalization
  request.add_scopes("https://b.example/");
  request.add_scopes("https://b.example/");
  AddPdq(&request, hash);
  AddPdq(&request, hash);
  request.add_sha256(std::string(32, 's'));
  request.add_sha256(std::string(32, 's'));
  request.add_md5(std::string(16, 'm'));
  request.add_md5(std::string(16, 'm'));
  v1::RegisterResponse r = MustRegister(request);
  v1::GetRequest get;
  get.set_opt_out_id(r.opt_out_id());
  get.set_manage_token(r.manage_token());
  auto got = registry()->Get(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->url_count(), 1);
  EXPECT_EQ(got->scope_count(), 1);
  EXPECT_EQ(got->pdq_count(), 1);
  EXPECT_EQ(got->sha256_count(), 1);
  EXPECT_EQ(got->md5_count(), 1);
}

TEST_F(RegistryTest, SecondRevokeSaysAlreadyRevokedOnTheDayAndATypoSaysNotFound) {
  v1::RegisterRequest request;
  request.add_urls("https://a.example/twice.jpg");
  v1::RegisterResponse r = MustRegister(request);
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(r.opt_out_id());
  revoke.set_manage_token(r.manage_token());
  ASSERT_TRUE(registry()->Revoke(revoke).ok());

  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  absl::Status again = registry()->Revoke(revoke);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(), "opt_out_id: already revoked on " + today);
  v1::GetRequest get;
  get.set_opt_out_id(r.opt_out_id());
  get.set_manage_token(r.manage_token());
  EXPECT_EQ(registry()->Get(get).status().code(), absl::StatusCode::kFailedPrecondition);
  Reopen();  // the tombstone is durable
  EXPECT_EQ(registry()->Revoke(revoke).message(), again.message());

  std::string typo = r.opt_out_id();
  typo[0] = typo[0] == '0' ? '1' : '0';
  revoke.set_opt_out_id(typo);
  EXPECT_EQ(registry()->Revoke(revoke).code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, OptOutsSurviveReopen) {
  const std::string hash = RandomPdq(6);
  v1::RegisterRequest request;
  request.add_urls("https://a.example/1.jpg");
  AddPdq(&request, hash);
  MustRegister(request);
  Reopen();
  EXPECT_TRUE(CheckUrl("https://a.example/1.jpg").matched());
  EXPECT_TRUE(CheckPdq(FlipBits(hash, 3)).matched());
}

TEST_F(RegistryTest, PackedUrlDigestsAnswerLikeTypedUrls) {
  v1::RegisterRequest request;
  request.add_urls("https://a.example/1.jpg");
  request.add_scopes("https://b.example/");
  const v1::RegisterResponse registered = MustRegister(request);
  ASSERT_EQ(registered.items_size(), 2);
  const std::string url_id = registered.items(0).match_id();
  const std::string scope_id = registered.items(1).match_id();

  auto sha = [](const std::string& s) {
    auto d = digest::Sha256(s);
    return std::string(d.begin(), d.end());
  };
  v1::CheckRequest check;
  auto* packed = check.add_packed();
  packed->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  // item 0: a.example/1.jpg (exact + a.example/), item 1: unrelated,
  // item 2: x.b.example/p.jpg with its expressions.
  packed->set_data(sha("a.example/1.jpg") + sha("a.example/") + sha("c.example/z.jpg") +
                   sha("x.b.example/p.jpg") + sha("x.b.example/") + sha("b.example/p.jpg") +
                   sha("b.example/"));
  packed->add_counts(2);
  packed->add_counts(1);
  packed->add_counts(4);
  v1::CheckResponse response = MustCheck(check);
  ASSERT_EQ(response.packed_verdicts_size(), 1);
  const auto& verdict = response.packed_verdicts(0);
  EXPECT_EQ(verdict.matched_bitmap(), std::string(1, '\x05'));
  ASSERT_EQ(verdict.matches_size(), 2);
  EXPECT_EQ(verdict.matches(0).index(), 0u);
  EXPECT_EQ(verdict.matches(0).kind(), v1::MATCH_KIND_URL);
  EXPECT_THAT(verdict.matches(0).match_ids(), ElementsAre(url_id));
  EXPECT_EQ(verdict.matches(1).index(), 2u);
  EXPECT_EQ(verdict.matches(1).kind(), v1::MATCH_KIND_SCOPE);
  EXPECT_THAT(verdict.matches(1).match_ids(), ElementsAre(scope_id));
}

// The server digests registered URLs and scopes, and the URLs of typed
// items; clients send digests they computed themselves. Every URL must get
// the same answer whichever side digested it.
TEST_F(RegistryTest, ClientComputedDigestsAnswerLikeServerDigestedUrls) {
  v1::RegisterRequest request;
  request.add_urls("https://IMG.Example.com:443/a/./b%7e/c.jpg?q=1&r=%41");
  request.add_urls("http://b\xC3\xBC" "cher.example/\xC3\xA4.png");
  request.add_urls("http://[2001:DB8::1]/x.png");
  request.add_scopes("https://photos.example.co.uk/users/me/");
  request.add_scopes("http://192.168.0.1/");
  request.add_url_any_query("https://cdn.example/p/x.jpg?name=large");
  const v1::RegisterResponse registered = MustRegister(request);
  // Items answer in request order per kind: urls[0..2], scopes[0..1], then
  // url_any_query[0] (items 0..5).
  ASSERT_EQ(registered.items_size(), 6);
  // The item each checked URL below is expected to name.
  const int expected_item[] = {5, 5, -1, 0, 1, 2, 3, 4, -1, -1};

  const std::vector<std::string> urls = {
      "https://cdn.example/p/x.jpg?w=1&name=small",           // the any-query URL
      "https://cdn.example/p/x.jpg",                          // the same without a query
      "https://cdn.example/p/y.jpg?name=large",               // no match
      "http://img.example.com/a/b~/c.jpg?q=1&r=A#frag",  // the first URL
      "https://xn--bcher-kva.example/%C3%A4.png",          // the second, IDNA and escaped
      "https://[2001:db8:0::1]:443/x.png",                  // the third
      "http://cdn.photos.example.co.uk/users/me/2024/x.jpg",  // in the first scope
      "http://192.168.0.1/any/thing.jpg",                     // in the second scope
      "https://img.example.com/a/b~/c.jpg?q=2",               // no match
      "http://example.co.uk/users/me/x.jpg"};                 // no match
  protocol::UrlDigests digests;
  v1::CheckRequest typed, client_digested;
  v1::PackedItems* packed = client_digested.add_packed();
  packed->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  for (const std::string& url : urls) {
    typed.add_items()->set_url(url);
    ASSERT_THAT(protocol::ComputeUrlDigests(url, db_.psl(), &digests), IsOk()) << url;
    v1::UrlDigests* item = client_digested.add_items()->mutable_url_digests();
    item->set_exact(std::string(digests.digest(0)));
    for (size_t j = 1; j < digests.size(); ++j) item->add_expressions(std::string(digests.digest(j)));
    packed->mutable_data()->append(digests.packed().data(), digests.packed().size());
    packed->add_counts(static_cast<uint32_t>(digests.size()));
  }
  const v1::CheckResponse server = MustCheck(typed);
  const v1::CheckResponse client = MustCheck(client_digested);
  ASSERT_EQ(server.results_size(), static_cast<int>(urls.size()));
  ASSERT_EQ(client.results_size(), static_cast<int>(urls.size()));
  ASSERT_EQ(client.packed_verdicts_size(), 1);
  const v1::MatchKind expected[] = {v1::MATCH_KIND_URL_ANY_QUERY, v1::MATCH_KIND_URL_ANY_QUERY,
                                    v1::MATCH_KIND_NONE,
                                    v1::MATCH_KIND_URL,   v1::MATCH_KIND_URL,
                                    v1::MATCH_KIND_URL,   v1::MATCH_KIND_SCOPE,
                                    v1::MATCH_KIND_SCOPE, v1::MATCH_KIND_NONE,
                                    v1::MATCH_KIND_NONE};
  int packed_match = 0;
  for (size_t i = 0; i < urls.size(); ++i) {
    SCOPED_TRACE(urls[i]);
    EXPECT_EQ(server.results(i).kind(), expected[i]);
    EXPECT_EQ(client.results(i).kind(), expected[i]);
    if (expected[i] == v1::MATCH_KIND_NONE) continue;
    const std::string& id = registered.items(expected_item[i]).match_id();
    EXPECT_THAT(server.results(i).match_ids(), ElementsAre(id));
    EXPECT_THAT(client.results(i).match_ids(), ElementsAre(id));
    ASSERT_LT(packed_match, client.packed_verdicts(0).matches_size());
    const v1::PackedMatch& m = client.packed_verdicts(0).matches(packed_match++);
    EXPECT_EQ(m.index(), i);
    EXPECT_EQ(m.kind(), expected[i]);
  }
  EXPECT_EQ(packed_match, client.packed_verdicts(0).matches_size());
}

// A packed group's repeated digests are keyed and looked up once each
// (checker.cc: DistinctDigests, PresentKeys); every row that carries a
// registered one is still answered, at whatever position its digest
// stands, and no other row is.
TEST_F(RegistryTest, EveryRowSharingARegisteredDigestOfAPackedGroupMatches) {
  v1::RegisterRequest request;
  request.add_scopes("https://shared.example/dir/");
  request.add_urls("https://img.shared.example/dir/7.jpg");
  const v1::RegisterResponse registered = MustRegister(request);
  // Items answer URLs first, then scopes.
  ASSERT_EQ(registered.items_size(), 2);
  const std::string& url_id = registered.items(0).match_id();
  const std::string& scope_id = registered.items(1).match_id();
  v1::CheckRequest check;
  v1::PackedItems* packed = check.add_packed();
  packed->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
  protocol::UrlDigests digests;
  for (int r = 0; r < 300; ++r) {
    // Rows alternate between the scope's directory and another one.
    const std::string url = absl::StrCat("https://img.shared.example/", r % 2 ? "dir" : "other",
                                         "/", r, ".jpg");
    ASSERT_THAT(protocol::ComputeUrlDigests(url, db_.psl(), &digests), IsOk()) << url;
    packed->mutable_data()->append(digests.packed().data(), digests.packed().size());
    packed->add_counts(static_cast<uint32_t>(digests.size()));
  }
  const v1::CheckResponse response = MustCheck(check);
  ASSERT_EQ(response.packed_verdicts_size(), 1);
  const v1::PackedVerdict& verdict = response.packed_verdicts(0);
  ASSERT_EQ(verdict.matches_size(), 150);
  for (int m = 0; m < verdict.matches_size(); ++m) {
    const int row = 2 * m + 1;
    SCOPED_TRACE(row);
    EXPECT_EQ(verdict.matches(m).index(), static_cast<uint32_t>(row));
    if (row == 7) {
      EXPECT_EQ(verdict.matches(m).kind(), v1::MATCH_KIND_URL);
      // One registration: one id, its strongest matching item's.
      EXPECT_THAT(verdict.matches(m).match_ids(), ElementsAre(url_id));
    } else {
      EXPECT_EQ(verdict.matches(m).kind(), v1::MATCH_KIND_SCOPE);
      EXPECT_THAT(verdict.matches(m).match_ids(), ElementsAre(scope_id));
    }
  }
}

TEST_F(RegistryTest, MalformedCheckUrlRejectsTheBatchNamingTheItem) {
  v1::CheckRequest check;
  check.add_items()->set_url("https://a.example/ok.jpg");
  check.add_items()->set_url("gopher://x/");
  v1::CheckResponse response;
  absl::Status s = registry()->Check(check, &response);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("items[1].url"), HasSubstr("UNSUPPORTED_SCHEME"))));
}

}  // namespace
}  // namespace optout::service

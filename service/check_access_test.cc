#include "service/check_access.h"

#include <memory>
#include <string>

#include "client/common/base/testing/status_matchers.h"
#include "google/rpc/error_details.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"

namespace optout::service {
namespace {

using ::optout::testing::IsOk;
using ::optout::testing::StatusIs;
using ::testing::HasSubstr;

// Seconds of the RetryInfo payload; -1 when there is none.
int64_t RetrySeconds(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoTypeUrl);
  google::rpc::RetryInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return -1;
  return info.retry_delay().seconds();
}

class CheckAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    Reopen();
  }

  void Reopen() {
    keys_.reset();
    store_.reset();
    storage::StoreOptions options;
    options.env = env_.get();
    auto store = storage::OptOutStore::Open("/mem/db", options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    SecretBytes secret{};
    secret.fill(7);
    auto keys = ApiKeys::Open(store_.get(), *Keyring::Derive(secret));
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(*keys);
  }

  std::string MustCreate(const std::string& name, int64_t per_minute, int64_t per_day,
                         int64_t pdq_per_day, std::vector<std::string> methods = {}) {
    admin::v1::CreateKeyRequest request;
    request.set_name(name);
    request.mutable_limits()->set_items_per_minute(per_minute);
    request.mutable_limits()->set_items_per_day(per_day);
    request.mutable_limits()->set_pdq_per_day(pdq_per_day);
    for (auto& m : methods) request.mutable_limits()->add_methods(m);
    auto created = keys_->Create(request, now_);
    EXPECT_THAT(created, IsOk());
    return created.ok() ? created->key() : "";
  }

  CheckAccess Access(int anonymous_per_minute) {
    return CheckAccess(keys_.get(), anonymous_per_minute, nullptr, [this] { return now_; });
  }

  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<storage::OptOutStore> store_;
  std::unique_ptr<ApiKeys> keys_;
};

TEST_F(CheckAccessTest, KeysAreStoredAsHashesAndSurviveReopenUntilRevoked) {
  const std::string key = MustCreate("crawler-1", 0, 0, 0);
  EXPECT_THAT(key, ::testing::StartsWith("ok_"));
  EXPECT_GE(key.size(), 40u);
  EXPECT_NE(keys_->Find(key), nullptr);
  EXPECT_EQ(keys_->Find(key + "x"), nullptr);
  ASSERT_THAT(store_->ForEachApiKey([&](absl::string_view name, absl::string_view record) {
    EXPECT_EQ(name, "crawler-1");
    EXPECT_EQ(record.find(key), absl::string_view::npos);
    EXPECT_EQ(record.find("crawler-1"), absl::string_view::npos);  // sealed
    return absl::OkStatus();
  }), IsOk());

  Reopen();
  EXPECT_NE(keys_->Find(key), nullptr);
  ASSERT_EQ(keys_->List().keys_size(), 1);
  EXPECT_EQ(keys_->List().keys(0).name(), "crawler-1");
  ASSERT_THAT(keys_->Revoke("crawler-1"), IsOk());
  EXPECT_EQ(keys_->Find(key), nullptr);
  Reopen();
  EXPECT_EQ(keys_->Find(key), nullptr);
  EXPECT_THAT(keys_->Revoke("crawler-1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("crawler-1")));
}

TEST_F(CheckAccessTest, CreateRefusesBadNamesLimitsMethodsAndDuplicates) {
  MustCreate("dup", 1, 1, 1);
  admin::v1::CreateKeyRequest request;
  request.set_name("dup");
  EXPECT_THAT(keys_->Create(request, now_), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("name")));
  request.set_name("bad name");
  EXPECT_THAT(keys_->Create(request, now_), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  request.set_name("ok");
  request.mutable_limits()->set_items_per_day(-1);
  EXPECT_THAT(keys_->Create(request, now_), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limits")));
  request.mutable_limits()->clear_items_per_day();
  request.mutable_limits()->add_methods("register");
  EXPECT_THAT(keys_->Create(request, now_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limits.methods")));
  request.mutable_limits()->clear_methods();
  auto created = keys_->Create(request, now_);
  ASSERT_THAT(created, IsOk());
  // Unset limits get the defaults; PDQ's is the smallest.
  EXPECT_EQ(created->info().limits().items_per_minute(), 60000);
  EXPECT_EQ(created->info().limits().pdq_per_day(), 10000);
}

TEST_F(CheckAccessTest, KeyBudgetsCountItemsAndAskToWait) {
  const std::string key = MustCreate("small", 100, 1000, 10);
  CheckAccess access = Access(600);
  EXPECT_THAT(access.Admit(key, "ipv4:10.0.0.1:1", {60, 0}), IsOk());
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> over = access.Admit(key, "ipv4:10.0.0.1:1", {60, 0});
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("100 items per minute")));
  // 20 more tokens are needed at 100 per minute: 12 s.
  EXPECT_EQ(RetrySeconds(over.status()), 12);
  now_ += absl::Seconds(12);
  EXPECT_THAT(access.Admit(key, "ipv4:10.0.0.1:1", {60, 0}), IsOk());
  // A batch larger than the whole budget can never pass: no retry delay.
  over = access.Admit(key, "ipv4:10.0.0.1:1", {101, 0});
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("smaller batches")));
  EXPECT_EQ(RetrySeconds(over.status()), -1);
  // PDQ has its own budget (the minute's budget is full again).
  now_ += absl::Minutes(1);
  EXPECT_THAT(access.Admit(key, "ipv4:10.0.0.1:1", {11, 11}),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("PDQ items per day")));
  EXPECT_THAT(access.Admit(key, "ipv4:10.0.0.1:1", {10, 10}), IsOk());

  auto usage = keys_->Usage("small");
  ASSERT_THAT(usage, IsOk());
  EXPECT_EQ(usage->usage(0).items(), 130);
  EXPECT_EQ(usage->usage(0).pdq_items(), 10);
  EXPECT_EQ(usage->usage(0).rejections(), 3);
  EXPECT_EQ(usage->usage(0).calls(), 6);
}

TEST_F(CheckAccessTest, MethodClassesAndUnknownKeys) {
  const std::string key = MustCreate("urls-only", 0, 0, 0, {"check"});
  CheckAccess access = Access(600);
  EXPECT_THAT(access.Admit(key, "ipv4:10.0.0.9:1", {5, 0}), IsOk());
  EXPECT_THAT(access.Admit(key, "ipv4:10.0.0.9:1", {5, 1}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("check_pdq")));
  EXPECT_THAT(access.Admit("ok_nonsense", "ipv4:10.0.0.9:1", {1, 0}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("API key")));
}

TEST_F(CheckAccessTest, AnonymousBudgetIsPerPeerAndZeroTurnsItOff) {
  CheckAccess access = Access(600);
  EXPECT_THAT(access.Admit("", "ipv4:10.0.0.1:1", {600, 0}), IsOk());
  absl::StatusOr<std::shared_ptr<ApiKeys::Key>> over = access.Admit("", "ipv4:10.0.0.1:1", {1, 0});
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted,
                             HasSubstr("--anonymous_items_per_minute")));
  EXPECT_EQ(RetrySeconds(over.status()), 1);
  EXPECT_THAT(access.Admit("", "ipv4:10.0.0.2:1", {600, 0}), IsOk());
  now_ += absl::Seconds(1);
  EXPECT_THAT(access.Admit("", "ipv4:10.0.0.1:1", {10, 0}), IsOk());

  CheckAccess closed = Access(0);
  EXPECT_THAT(closed.Admit("", "ipv4:10.0.0.3:1", {1, 0}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("API key")));
}

TEST_F(CheckAccessTest, AnAnonymousBodyIsPaidForBySizeBeforeParsingAndDeductedAfter) {
  CheckAccess access = Access(600);
  Caller anonymous;
  anonymous.peer = "ipv4:10.0.0.1:1";
  constexpr size_t kPerItem = CheckAccess::kAnonymousBodyBytesPerItem;
  // 100 items' worth of body, then a request of 150 items: 50 more are owed.
  absl::StatusOr<int64_t> prepaid = access.PrepayAnonymousBody(anonymous, "Check", 99 * kPerItem + 1);
  ASSERT_THAT(prepaid, IsOk());
  EXPECT_EQ(*prepaid, 100);
  v1::CheckRequest request;
  for (int i = 0; i < 150; ++i) request.add_items()->set_url("https://example.com/a.jpg");
  EXPECT_THAT(access.AdmitCheck(anonymous, "Check", request, 100), IsOk());
  // 600 - 150 left: 450 items' worth of body passes, one byte more does not.
  EXPECT_THAT(access.PrepayAnonymousBody(anonymous, "Check", 450 * kPerItem), IsOk());
  absl::StatusOr<int64_t> over = access.PrepayAnonymousBody(anonymous, "Check", 1);
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted,
                             HasSubstr("body of 1 bytes counts as 1 items")));
  EXPECT_EQ(RetrySeconds(over.status()), 1);
  // A body larger than a whole minute's budget is never read.
  Caller other;
  other.peer = "ipv4:10.0.0.2:1";
  EXPECT_THAT(access.PrepayAnonymousBody(other, "Check", 601 * kPerItem),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("601 items")));
  // Callers with a key are charged by their items after parsing only.
  Caller keyed = other;
  keyed.bearer = MustCreate("keyed", 0, 0, 0);
  prepaid = access.PrepayAnonymousBody(keyed, "Check", 10 << 20);
  ASSERT_THAT(prepaid, IsOk());
  EXPECT_EQ(*prepaid, 0);
  // An unknown key is refused before its body is read.
  Caller unknown = other;
  unknown.bearer = "ok_not-a-key";
  EXPECT_THAT(access.PrepayAnonymousBody(unknown, "Check", 10),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("unknown")));
  // With anonymous checks off, the refusal comes before the body is read.
  CheckAccess closed = Access(0);
  EXPECT_THAT(closed.PrepayAnonymousBody(anonymous, "Check", 10),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("anonymous checks are off")));
}

TEST_F(CheckAccessTest, UsageCountsMatchesByKindAndCostCountsPackedItems) {
  const std::string key = MustCreate("counted", 0, 0, 0);
  std::shared_ptr<ApiKeys::Key> found = keys_->Find(key);
  v1::CheckResponse response;
  auto* hit = response.add_results();
  hit->set_matched(true);
  hit->set_kind(v1::MATCH_KIND_URL);
  response.add_results();  // no match
  response.add_packed_verdicts()->add_matches()->set_kind(v1::MATCH_KIND_PDQ);
  response.add_packed_verdicts()->add_matches()->set_kind(v1::MATCH_KIND_URL_ANY_QUERY);
  CheckAccess::Record(found.get(), response);
  auto usage = keys_->Usage("");
  ASSERT_THAT(usage, IsOk());
  EXPECT_EQ(usage->usage(0).matches_by_kind().at("MATCH_KIND_URL"), 1);
  EXPECT_EQ(usage->usage(0).matches_by_kind().at("MATCH_KIND_URL_ANY_QUERY"), 1);
  EXPECT_EQ(usage->usage(0).matches_by_kind().at("MATCH_KIND_PDQ"), 1);
  EXPECT_EQ(usage->usage(0).matches_by_kind().count("MATCH_KIND_SCOPE"), 0u);

  v1::CheckRequest request;
  request.add_items()->set_url("https://example.com/a.jpg");
  request.add_items()->mutable_pdq()->set_hash(std::string(32, 'a'));
  auto* packed = request.add_packed();
  packed->set_kind(v1::PackedItems::KIND_PDQ);
  packed->set_pdq_dihedral(true);
  packed->set_data(std::string(2 * 9 * 32, 'b'));
  auto* md5 = request.add_packed();
  md5->set_kind(v1::PackedItems::KIND_MD5);
  md5->set_data(std::string(3 * 16, 'c'));
  const CheckCost cost = CostOf(request);
  EXPECT_EQ(cost.items, 2 + 2 + 3);
  EXPECT_EQ(cost.pdq_items, 1 + 2);

  // An image with its region hashes is one item, in a packed group (counts)
  // as on a CheckItem (issue 12: windows of one image count as one item).
  request.mutable_items(1)->mutable_pdq()->add_regions(std::string(32, 'r'));
  packed->mutable_data()->append(std::string(3 * 32, 'r'));
  packed->add_counts(3);
  packed->add_counts(0);
  const CheckCost with_regions = CostOf(request);
  EXPECT_EQ(with_regions.items, 2 + 2 + 3);
  EXPECT_EQ(with_regions.pdq_items, 1 + 2);
}

TEST_F(CheckAccessTest, AVerifiedCertificateSubjectStandsForItsKey) {
  admin::v1::CreateKeyRequest request;
  request.set_name("acme");
  request.mutable_limits()->set_items_per_minute(5);
  request.set_cert_subject("CN=crawler,O=Acme");
  ASSERT_THAT(keys_->Create(request, now_), IsOk());
  request.set_name("acme-2");
  EXPECT_THAT(keys_->Create(request, now_),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("cert_subject")));
  request.set_cert_subject("CN=crawler\nO=Acme");
  EXPECT_THAT(keys_->Create(request, now_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert_subject")));
  Reopen();  // the subject is stored with the key
  ASSERT_EQ(keys_->List().keys_size(), 1);
  EXPECT_EQ(keys_->List().keys(0).cert_subject(), "CN=crawler,O=Acme");

  CheckAccess access = Access(1);
  v1::CheckRequest check;
  for (int i = 0; i < 5; ++i) check.add_items()->set_url("https://example.com/a.jpg");
  Caller caller;
  caller.peer = "ipv4:10.0.0.1:1";
  caller.cert_subject = "CN=crawler,O=Acme";
  absl::StatusOr<CheckAdmission> admitted = access.AdmitCheck(caller, "Check", check);
  ASSERT_THAT(admitted, IsOk());
  ASSERT_NE(admitted->key, nullptr);
  EXPECT_EQ(ApiKeys::NameOf(*admitted->key), "acme");
  EXPECT_THAT(access.AdmitCheck(caller, "Check", check),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("API key acme")));
  // Another subject is anonymous (1 item per minute here).
  caller.cert_subject = "CN=crawler,O=Other";
  EXPECT_THAT(access.AdmitCheck(caller, "Check", check),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("--anonymous_items_per_minute")));

  ASSERT_THAT(keys_->Revoke("acme"), IsOk());
  EXPECT_EQ(keys_->FindByCertSubject("CN=crawler,O=Acme"), nullptr);
}

// A key paused for PDQ probing sees its refusals in `keys usage`, like
// refusals for its budgets: the operator looking at one key sees all of them.
TEST_F(CheckAccessTest, ProbingRefusalsCountAmongTheKeysRejections) {
  const std::string key = MustCreate("walker", 0, 0, 0);
  PdqProbeOptions options;
  options.limit = 4;
  PdqProbeGuard probes(options);
  CheckAccess access(keys_.get(), 0, nullptr, [this] { return now_; }, &probes);
  Caller caller;
  caller.bearer = key;
  caller.peer = "ipv4:10.0.0.1:1";
  // A bit-by-bit walk away from one hash, one query per call.
  std::string hash(32, '\x5a');
  int refused = 0;
  for (int bit = 0; bit < 8; ++bit) {
    hash[bit / 8] = static_cast<char>(hash[bit / 8] ^ (1 << (bit % 8)));
    v1::CheckRequest request;
    request.add_items()->mutable_pdq()->set_hash(hash);
    if (!access.AdmitCheck(caller, "Check", request).ok()) ++refused;
  }
  ASSERT_GE(refused, 2) << "the walk must trip the guard and then be throttled";
  auto usage = keys_->Usage("walker");
  ASSERT_THAT(usage, IsOk());
  EXPECT_EQ(usage->usage(0).calls(), 8);
  EXPECT_EQ(usage->usage(0).rejections(), refused);
}

}  // namespace
}  // namespace optout::service

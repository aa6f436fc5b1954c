#include "service/api_keys.h"

#include <openssl/rand.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/common/protocol/packed_items.h"
#include "absl/strings/str_join.h"
#include "client/common/base/status_macros.h"
#include "client/common/protocol/match_kind.h"
#include "optout/internal/record.pb.h"

namespace optout::service {
namespace {

constexpr int64_t kDefaultItemsPerMinute = 60000;
constexpr int64_t kDefaultItemsPerDay = 10000000;
constexpr int64_t kDefaultPdqPerDay = 10000;
constexpr char kMethodCheck[] = "check";
constexpr char kMethodCheckPdq[] = "check_pdq";
constexpr int kMatchKinds = protocol::kMatchKindCount;  // optout.v1.MatchKind values

std::string SealAad(absl::string_view name) { return absl::StrCat("api-key:", name); }

absl::Status ValidateName(absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError("name: must be 1..64 characters");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError("name: only letters, digits, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

// A subject as RFC 2253 prints it: printable, one line, bounded.
absl::Status ValidateCertSubject(absl::string_view subject) {
  if (subject.size() > 1024) {
    return absl::InvalidArgumentError("cert_subject: at most 1024 characters");
  }
  if (!subject.empty() && subject.find('=') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "cert_subject: expected an RFC 2253 subject such as CN=crawler,O=Acme");
  }
  for (char c : subject) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("cert_subject: no control characters");
    }
  }
  return absl::OkStatus();
}

void FillInfo(const internal::ApiKeyRecord& r, admin::v1::KeyInfo* info) {
  info->set_name(r.name());
  info->set_created_unix_seconds(r.created_unix_seconds());
  info->mutable_limits()->set_items_per_minute(r.items_per_minute());
  info->mutable_limits()->set_items_per_day(r.items_per_day());
  info->mutable_limits()->set_pdq_per_day(r.pdq_per_day());
  *info->mutable_limits()->mutable_methods() = r.methods();
  info->set_cert_subject(r.cert_subject());
}

}  // namespace

class ApiKeys::Key {
 public:
  Key(internal::ApiKeyRecord record, absl::Time now) : record_(std::move(record)) {
    auto bucket = [&](int64_t limit, absl::Duration period) {
      return limit > 0 ? std::optional<TokenBucket>(TokenBucket(limit, period, now)) : std::nullopt;
    };
    per_minute_ = bucket(record_.items_per_minute(), absl::Minutes(1));
    per_day_ = bucket(record_.items_per_day(), absl::Hours(24));
    pdq_per_day_ = bucket(record_.pdq_per_day(), absl::Hours(24));
    for (const auto& method : record_.methods()) {
      allow_check_ |= method == kMethodCheck;
      allow_pdq_ |= method == kMethodCheckPdq;
    }
    if (record_.methods().empty()) allow_check_ = allow_pdq_ = true;
  }

  const internal::ApiKeyRecord& record() const { return record_; }

  absl::Status Charge(const CheckCost& cost, absl::Time now) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if ((cost.items > cost.pdq_items && !allow_check_) || (cost.pdq_items > 0 && !allow_pdq_)) {
      ++rejections_;
      return absl::PermissionDeniedError(absl::StrCat(
          "API key ", record_.name(), " may not call ",
          cost.pdq_items > 0 && !allow_pdq_ ? kMethodCheckPdq : kMethodCheck));
    }
    struct Need {
      std::optional<TokenBucket>* bucket;
      int64_t n;
      const char* what;
    };
    const Need needs[] = {{&per_minute_, cost.items, "items per minute"},
                          {&per_day_, cost.items, "items per day"},
                          {&pdq_per_day_, cost.pdq_items, "PDQ items per day"}};
    for (const Need& need : needs) {
      if (!need.bucket->has_value() || need.n == 0) continue;
      const absl::Duration wait = (*need.bucket)->WaitFor(need.n, now);
      if (wait == absl::ZeroDuration()) continue;
      ++rejections_;
      const auto limit = static_cast<int64_t>((*need.bucket)->capacity());
      if (wait == absl::InfiniteDuration()) {
        return absl::ResourceExhaustedError(
            absl::StrCat("a check of ", need.n, " items exceeds API key ", record_.name(),
                         "'s whole budget of ", limit, " ", need.what, "; send smaller batches"));
      }
      return OverBudgetError(absl::StrCat("API key ", record_.name(), " is over its budget of ",
                                          limit, " ", need.what),
                             wait);
    }
    for (const Need& need : needs) {
      if (need.bucket->has_value()) (*need.bucket)->Take(need.n);
    }
    items_ += cost.items;
    pdq_items_ += cost.pdq_items;
    return absl::OkStatus();
  }

  void CountRefusal(bool charged) {
    absl::MutexLock lock(&mu_);
    if (!charged) ++calls_;
    ++rejections_;
  }

  void Record(const v1::CheckResponse& response) {
    int64_t matches[kMatchKinds] = {};
    auto count = [&](int kind) {
      if (kind > 0 && kind < kMatchKinds) ++matches[kind];
    };
    for (const auto& result : response.results()) {
      if (result.matched()) count(result.kind());
    }
    for (const auto& verdict : response.packed_verdicts()) {
      for (const auto& match : verdict.matches()) count(match.kind());
    }
    absl::MutexLock lock(&mu_);
    for (int k = 1; k < kMatchKinds; ++k) matches_[k] += matches[k];
  }

  admin::v1::KeyUsage Usage() const {
    admin::v1::KeyUsage usage;
    usage.set_name(record_.name());
    absl::MutexLock lock(&mu_);
    usage.set_calls(calls_);
    usage.set_items(items_);
    usage.set_pdq_items(pdq_items_);
    usage.set_rejections(rejections_);
    for (int k = 1; k < kMatchKinds; ++k) {
      if (matches_[k] > 0) {
        (*usage.mutable_matches_by_kind())[v1::MatchKind_Name(static_cast<v1::MatchKind>(k))] =
            matches_[k];
      }
    }
    return usage;
  }

 private:
  const internal::ApiKeyRecord record_;
  bool allow_check_ = false;
  bool allow_pdq_ = false;
  mutable absl::Mutex mu_;
  std::optional<TokenBucket> per_minute_ ABSL_GUARDED_BY(mu_);
  std::optional<TokenBucket> per_day_ ABSL_GUARDED_BY(mu_);
  std::optional<TokenBucket> pdq_per_day_ ABSL_GUARDED_BY(mu_);
  int64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t items_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t pdq_items_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rejections_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t matches_[kMatchKinds] ABSL_GUARDED_BY(mu_) = {};
};

CheckCost CostOf(const v1::CheckRequest& request) {
  CheckCost cost;
  cost.items = request.items_size();
  for (const auto& item : request.items()) {
    if (item.kind_case() == v1::CheckItem::kPdq) ++cost.pdq_items;
  }
  for (const auto& packed : request.packed()) {
    const int64_t bytes = static_cast<int64_t>(packed.data().size());
    switch (packed.kind()) {
      case v1::PackedItems::KIND_URL_DIGESTS:
        cost.items += packed.counts_size() > 0 ? packed.counts_size() : bytes / 32;
        break;
      case v1::PackedItems::KIND_MD5:
        cost.items += bytes / 16;
        break;
      case v1::PackedItems::KIND_PDQ: {
        // An image with its regions (counts) is one item, like a CheckItem.
        const int64_t n = static_cast<int64_t>(protocol::PackedItemCount(packed));
        cost.items += n;
        cost.pdq_items += n;
        break;
      }
      default:
        cost.items += bytes / 32;
    }
  }
  return cost;
}

ApiKeys::ApiKeys(storage::OptOutStore* store, const Keyring& keyring)
    : store_(store), keyring_(keyring) {}
ApiKeys::~ApiKeys() = default;

std::string ApiKeys::HashOf(absl::string_view bearer) const {
  const Mac32 mac = keyring_.api_key_key().Mac(bearer);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

absl::StatusOr<std::unique_ptr<ApiKeys>> ApiKeys::Open(storage::OptOutStore* store,
                                                       const Keyring& keyring) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(store, keyring));
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&keys->mu_);
  OPTOUT_RETURN_IF_ERROR(store->ForEachApiKey([&](absl::string_view name,
                                                  absl::string_view sealed) -> absl::Status {
    OPTOUT_ASSIGN_OR_RETURN(std::string bytes,
                            keyring.record_cipher().Open(sealed, SealAad(name)));
    internal::ApiKeyRecord record;
    if (!record.ParseFromString(bytes) || record.name() != name) {
      return absl::DataLossError("an API key record does not parse");
    }
    auto key = std::make_shared<Key>(std::move(record), now);
    keys->by_hash_[key->record().key_hash()] = key;
    if (!key->record().cert_subject().empty()) {
      keys->by_cert_subject_[key->record().cert_subject()] = key;
    }
    keys->by_name_[std::string(name)] = std::move(key);
    return absl::OkStatus();
  }));
  return keys;
}

absl::StatusOr<admin::v1::CreateKeyResponse> ApiKeys::Create(
    const admin::v1::CreateKeyRequest& request, absl::Time now) {
  OPTOUT_RETURN_IF_ERROR(ValidateName(request.name()));
  OPTOUT_RETURN_IF_ERROR(ValidateCertSubject(request.cert_subject()));
  const admin::v1::KeyLimits& limits = request.limits();
  internal::ApiKeyRecord record;
  record.set_name(request.name());
  record.set_created_unix_seconds(absl::ToUnixSeconds(now));
  record.set_items_per_minute(limits.has_items_per_minute() ? limits.items_per_minute()
                                                            : kDefaultItemsPerMinute);
  record.set_items_per_day(limits.has_items_per_day() ? limits.items_per_day()
                                                      : kDefaultItemsPerDay);
  record.set_pdq_per_day(limits.has_pdq_per_day() ? limits.pdq_per_day() : kDefaultPdqPerDay);
  if (record.items_per_minute() < 0 || record.items_per_day() < 0 || record.pdq_per_day() < 0) {
    return absl::InvalidArgumentError("limits: must be >= 0 (0: no limit)");
  }
  for (const std::string& method : limits.methods()) {
    if (method != kMethodCheck && method != kMethodCheckPdq) {
      return absl::InvalidArgumentError(absl::StrCat(
          "limits.methods: unknown method class '", method, "' (check, check_pdq)"));
    }
    record.add_methods(method);
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return absl::InternalError("no randomness for a key");
  std::string key_text = absl::StrCat(
      "ok_", absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(raw), sizeof(raw))));
  record.set_key_hash(HashOf(key_text));
  record.set_cert_subject(request.cert_subject());

  {
    // Refused early here; the apply decides for good (two nodes may create
    // the same name at once, the stream orders them).
    absl::MutexLock lock(&mu_);
    OPTOUT_RETURN_IF_ERROR(CheckUnique(record));
  }
  internal::Mutation mutation;
  OPTOUT_ASSIGN_OR_RETURN(*mutation.mutable_mutation_id(), NewMutationId());
  internal::PutApiKey* put = mutation.mutable_put_api_key();
  put->set_name(record.name());
  OPTOUT_ASSIGN_OR_RETURN(*put->mutable_sealed_record(),
                          keyring_.record_cipher().Seal(record.SerializeAsString(),
                                                        SealAad(record.name())));
  OPTOUT_ASSIGN_OR_RETURN(Committed committed, Commit(mutation));
  if (committed.outcome == ApplyOutcome::kSkipped) {
    absl::MutexLock lock(&mu_);
    OPTOUT_RETURN_IF_ERROR(CheckUnique(record));
    return absl::AlreadyExistsError(absl::StrCat("name: an API key named ", request.name(),
                                                 " was created at the same time"));
  }

  admin::v1::CreateKeyResponse response;
  response.set_key(std::move(key_text));
  FillInfo(record, response.mutable_info());
  return response;
}

admin::v1::ListKeysResponse ApiKeys::List() const {
  admin::v1::ListKeysResponse response;
  absl::MutexLock lock(&mu_);
  std::vector<const Key*> keys;
  for (const auto& [name, key] : by_name_) keys.push_back(key.get());
  std::sort(keys.begin(), keys.end(),
            [](const Key* a, const Key* b) { return a->record().name() < b->record().name(); });
  for (const Key* key : keys) FillInfo(key->record(), response.add_keys());
  return response;
}

absl::Status ApiKeys::Revoke(absl::string_view name) {
  {
    absl::MutexLock lock(&mu_);
    if (!by_name_.contains(name)) {
      return absl::NotFoundError(absl::StrCat("name: no API key named ", name));
    }
  }
  internal::Mutation mutation;
  OPTOUT_ASSIGN_OR_RETURN(*mutation.mutable_mutation_id(), NewMutationId());
  mutation.mutable_delete_api_key()->set_name(std::string(name));
  OPTOUT_ASSIGN_OR_RETURN(Committed committed, Commit(mutation));
  if (committed.outcome == ApplyOutcome::kSkipped) {
    return absl::NotFoundError(absl::StrCat("name: no API key named ", name));
  }
  return absl::OkStatus();
}

void ApiKeys::UseCommitter(Committer commit) { commit_ = std::move(commit); }

absl::StatusOr<Committed> ApiKeys::Commit(const internal::Mutation& mutation) {
  if (commit_) return commit_(mutation);
  OPTOUT_ASSIGN_OR_RETURN(ApplyOutcome outcome, Apply(mutation, nullptr));
  return Committed{store_->LatestSequence(), outcome};
}

absl::Status ApiKeys::CheckUnique(const internal::ApiKeyRecord& record) const {
  if (by_name_.contains(record.name())) {
    return absl::AlreadyExistsError(absl::StrCat("name: an API key named ", record.name(),
                                                 " exists"));
  }
  if (!record.cert_subject().empty()) {
    auto taken = by_cert_subject_.find(record.cert_subject());
    if (taken != by_cert_subject_.end()) {
      return absl::AlreadyExistsError(absl::StrCat("cert_subject: API key ",
                                                   taken->second->record().name(),
                                                   " has this certificate subject"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyOutcome> ApiKeys::Apply(const internal::Mutation& mutation,
                                            const storage::ProgressMark* mark) {
  switch (mutation.change_case()) {
    case internal::Mutation::kPutApiKey: return ApplyPut(mutation.put_api_key(), mark);
    case internal::Mutation::kDeleteApiKey: return ApplyDelete(mutation.delete_api_key(), mark);
    default: break;
  }
  if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
  return ApplyOutcome::kSkipped;
}

absl::StatusOr<ApplyOutcome> ApiKeys::ApplyPut(const internal::PutApiKey& put,
                                               const storage::ProgressMark* mark) {
  // Opened before the write, so a record this node cannot open changes nothing.
  OPTOUT_ASSIGN_OR_RETURN(std::string bytes,
                          keyring_.record_cipher().Open(put.sealed_record(), SealAad(put.name())));
  internal::ApiKeyRecord record;
  if (!record.ParseFromString(bytes) || record.name() != put.name()) {
    return absl::DataLossError("an API key mutation does not parse");
  }
  absl::MutexLock lock(&mu_);
  if (!CheckUnique(record).ok()) {
    if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
    return ApplyOutcome::kSkipped;
  }
  OPTOUT_RETURN_IF_ERROR(store_->PutApiKey(record.name(), put.sealed_record(), mark));
  // Budgets start full at the creation time the record carries, the same on
  // every node that applies it.
  const absl::Time created = absl::FromUnixSeconds(record.created_unix_seconds());
  auto key = std::make_shared<Key>(record, created);
  by_hash_[record.key_hash()] = key;
  if (!record.cert_subject().empty()) by_cert_subject_[record.cert_subject()] = key;
  by_name_[record.name()] = std::move(key);
  return ApplyOutcome::kApplied;
}

absl::StatusOr<ApplyOutcome> ApiKeys::ApplyDelete(const internal::DeleteApiKey& del,
                                                  const storage::ProgressMark* mark) {
  absl::MutexLock lock(&mu_);
  auto it = by_name_.find(del.name());
  if (it == by_name_.end()) {
    if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
    return ApplyOutcome::kSkipped;
  }
  OPTOUT_RETURN_IF_ERROR(store_->DeleteApiKey(del.name(), mark));
  by_hash_.erase(it->second->record().key_hash());
  if (!it->second->record().cert_subject().empty()) {
    by_cert_subject_.erase(it->second->record().cert_subject());
  }
  by_name_.erase(it);
  return ApplyOutcome::kApplied;
}

absl::StatusOr<admin::v1::GetKeyUsageResponse> ApiKeys::Usage(absl::string_view name) const {
  admin::v1::GetKeyUsageResponse response;
  absl::MutexLock lock(&mu_);
  if (!name.empty()) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      return absl::NotFoundError(absl::StrCat("name: no API key named ", name));
    }
    *response.add_usage() = it->second->Usage();
    return response;
  }
  std::vector<const Key*> keys;
  for (const auto& [key_name, key] : by_name_) keys.push_back(key.get());
  std::sort(keys.begin(), keys.end(),
            [](const Key* a, const Key* b) { return a->record().name() < b->record().name(); });
  for (const Key* key : keys) *response.add_usage() = key->Usage();
  return response;
}

std::shared_ptr<ApiKeys::Key> ApiKeys::Find(absl::string_view bearer) const {
  const std::string hash = HashOf(bearer);
  absl::MutexLock lock(&mu_);
  auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? nullptr : it->second;
}

std::shared_ptr<ApiKeys::Key> ApiKeys::FindByCertSubject(absl::string_view subject) const {
  absl::MutexLock lock(&mu_);
  auto it = by_cert_subject_.find(subject);
  return it == by_cert_subject_.end() ? nullptr : it->second;
}

absl::Status ApiKeys::Charge(Key& key, const CheckCost& cost, absl::Time now) {
  return key.Charge(cost, now);
}

void ApiKeys::Record(Key& key, const v1::CheckResponse& response) { key.Record(response); }

void ApiKeys::CountRefusal(Key& key, bool charged) { key.CountRefusal(charged); }

const std::string& ApiKeys::NameOf(const Key& key) { return key.record().name(); }

}  // namespace optout::service

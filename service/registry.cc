#include "service/registry.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/unknown_field_set.h"
#include "client/common/digest/digest.h"
#include "optout/internal/record.pb.h"
#include "service/local_mutation_log.h"
#include "service/log.h"
#include "service/match_id.h"
#include "service/opt_out_codec.h"
#include "service/record_rekey.h"
#include "service/scope_proofs.h"
#include "client/common/base/status_macros.h"
#include "client/common/base/version.h"
#include "service/validation.h"

namespace optout::service {
namespace {

constexpr size_t kIdBytes = 16;
constexpr size_t kTokenBytes = 32;
// A revoked request key is held at least this long (longer with a longer
// --token_retry_hours). A late copy of a registration lands on the stream
// within its node's commit timeout (seconds); the hour is for node clocks
// that disagree (the revoking node dates the key, another may expire it).
constexpr int64_t kMinRevokedRequestHoldSeconds = 3600;

// "YYYY-MM-DD" of a serialized Tombstone; "" when it does not parse.
std::string RevokedDay(absl::string_view tombstone_bytes) {
  internal::Tombstone tombstone;
  if (!tombstone.ParseFromArray(tombstone_bytes.data(), static_cast<int>(tombstone_bytes.size()))) {
    return "";
  }
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(tombstone.revoked_unix_day_seconds()),
                          absl::UTCTimeZone());
}

// Parses the hex id and token of Get/Revoke. InvalidArgument names the field.
absl::Status ParseCredentials(const std::string& id_hex, const std::string& token_hex,
                              std::string* id, std::string* token) {
  auto id_bytes = digest::FromHex(id_hex, kIdBytes);
  if (!id_bytes.ok()) return WithField("opt_out_id", id_bytes.status());
  auto token_bytes = digest::FromHex(token_hex, kTokenBytes);
  if (!token_bytes.ok()) return WithField("manage_token", token_bytes.status());
  *id = std::move(*id_bytes);
  *token = std::move(*token_bytes);
  return absl::OkStatus();
}

}  // namespace

Registry::Registry(storage::OptOutStore* store, KeySet keys, const url::PublicSuffixList* psl,
                   const RegistryOptions& options)
    : store_(store),
      keys_(std::make_shared<const KeySet>(std::move(keys))),
      psl_(psl),
      options_(options),
      checker_(*psl_, index_, options_),
      catch_up_queries_(
          [this](absl::Time deadline) { return log_->OrderedVersion(deadline); },
          kCatchUpQueryInterval, absl::Seconds(1)) {}

absl::StatusOr<std::unique_ptr<Registry>> Registry::Open(storage::OptOutStore* store,
                                                         Keyring keyring,
                                                         const url::PublicSuffixList* psl,
                                                         const RegistryOptions& options) {
  KeySet keys;
  keys.current = std::make_shared<const Keyring>(std::move(keyring));
  return Open(store, std::move(keys), psl, options);
}

absl::StatusOr<std::unique_ptr<Registry>> Registry::Open(storage::OptOutStore* store,
                                                         KeySet keys,
                                                         const url::PublicSuffixList* psl,
                                                         const RegistryOptions& options) {
  if (keys.current == nullptr) return absl::InvalidArgumentError("no current keyring");
  std::unique_ptr<Registry> registry(new Registry(store, std::move(keys), psl, options));
  OPTOUT_RETURN_IF_ERROR(registry->LoadAll());
  registry->log_ = std::make_unique<LocalMutationLog>(registry.get(), store);
  return registry;
}

absl::StatusOr<const Keyring*> Registry::KeyringOf(const internal::OptOutRecord& record,
                                                   std::shared_ptr<const KeySet>* keys) const {
  const Keyring* keyring = (*keys)->ForVersion(record.key_version());
  if (keyring == nullptr) {
    *keys = key_set();
    keyring = (*keys)->ForVersion(record.key_version());
  }
  if (keyring == nullptr) {
    return absl::DataLossError(absl::StrCat("stored record of key version ", record.key_version(),
                                            ", which this registry does not hold"));
  }
  return keyring;
}

namespace {

// What one thread decoded from one range of record ids.
struct LoadedRange {
  std::vector<IndexedOptOut> opt_outs;
  std::vector<std::pair<int64_t, std::array<char, 16>>> tokens;  // (created, id) not yet erased
  std::vector<std::string> scoped;  // ids with a scope not yet expired
  absl::Status status;
};

// Whether maintenance may still have to act on a scope of the record.
bool HasLiveScope(const internal::OptOutRecord& record) {
  const int n = ScopeEntryCount(record);
  for (int k = 0; k < n; ++k) {
    if (k >= record.scope_proofs_size() ||
        record.scope_proofs(k).state() != v1::SCOPE_STATE_EXPIRED) {
      return true;
    }
  }
  return false;
}

// Ids are random bytes, so splitting on the first byte gives even ranges.
std::vector<std::string> RangeBounds(int ranges) {
  std::vector<std::string> bounds;
  for (int i = 0; i <= ranges; ++i) {
    bounds.push_back(i == 0 || i == ranges ? std::string()
                                           : std::string(1, static_cast<char>(i * 256 / ranges)));
  }
  return bounds;
}

}  // namespace

absl::Status Registry::LoadAll() {
  // Decoding is half of the start-up time (issue 9 asks for 10M opt-outs
  // within 30 s), so each core scans its own range of ids.
  const int ranges = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  const size_t per_range = store_->EstimatedRecordCount() / ranges + 1;
  const std::vector<std::string> bounds = RangeBounds(ranges);
  std::vector<LoadedRange> loaded(ranges);
  const std::shared_ptr<const KeySet> keys = key_set();
  auto scan = [&](int r) {
    LoadedRange& out = loaded[r];
    out.opt_outs.reserve(per_range);
    internal::OptOutRecord record;  // reused: parsing keeps its buffers
    out.status = store_->ForEachRecord(
        [&](absl::string_view id, absl::string_view bytes) {
          if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            return absl::DataLossError("stored opt-out record does not parse");
          }
          const Keyring* keyring = keys->ForVersion(record.key_version());
          if (keyring == nullptr) {
            return absl::DataLossError(absl::StrCat("stored record of key version ",
                                                    record.key_version(), "; this registry holds ",
                                                    keys->current->version()));
          }
          OPTOUT_ASSIGN_OR_RETURN(IndexedOptOut opt_out, IndexedFromRecord(*keyring, id, record));
          out.opt_outs.push_back(std::move(opt_out));
          if (!record.token_erased()) {
            out.tokens.push_back(TokenEntryOf(record.created_unix_seconds(), id));
          }
          if (HasLiveScope(record)) out.scoped.emplace_back(id);
          return absl::OkStatus();
        },
        bounds[r], bounds[r + 1]);
  };
  const absl::Time scan_start = absl::Now();
  std::vector<std::thread> threads;
  for (int r = 1; r < ranges; ++r) threads.emplace_back(scan, r);
  scan(0);
  for (std::thread& thread : threads) thread.join();
  const absl::Time scan_end = absl::Now();

  size_t total = 0;
  for (const LoadedRange& range : loaded) {
    OPTOUT_RETURN_IF_ERROR(range.status);
    total += range.opt_outs.size();
  }
  std::vector<std::vector<IndexedOptOut>> opt_outs;
  for (LoadedRange& range : loaded) opt_outs.push_back(std::move(range.opt_outs));
  // The maintenance queues do not touch the index: filled meanwhile.
  std::thread queues([&] {
    std::vector<TokenEntry> tokens;
    size_t token_count = 0;
    for (const LoadedRange& range : loaded) token_count += range.tokens.size();
    tokens.reserve(token_count);
    for (const LoadedRange& range : loaded) {
      tokens.insert(tokens.end(), range.tokens.begin(), range.tokens.end());
    }
    // Erasure order needs only the creation time.
    std::sort(tokens.begin(), tokens.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    {
      absl::MutexLock lock(&tokens_mu_);
      tokens_to_erase_.assign(tokens.begin(), tokens.end());
    }
    absl::MutexLock lock(&scopes_mu_);
    for (const LoadedRange& range : loaded) scoped_ids_.insert(range.scoped.begin(), range.scoped.end());
  });
  // In range order, so the index sees ids in store order.
  index_.Load(std::move(opt_outs));
  const absl::Time index_end = absl::Now();
  queues.join();
  // Start-up time is an operating target (issue 9); the split shows which
  // half to look at when it grows.
  Log(LogLevel::kInfo,
      absl::StrCat("start-up load: ", total, " records read and opened in ",
                   absl::FormatDuration(scan_end - scan_start), " on ", ranges,
                   " threads; index built in ", absl::FormatDuration(index_end - scan_end),
                   "; rest ", absl::FormatDuration(absl::Now() - index_end)));
  return absl::OkStatus();
}

void Registry::LockRequestKey(const std::string& key) {
  absl::MutexLock lock(&requests_mu_);
  while (requests_in_flight_.contains(key)) requests_done_.Wait(&requests_mu_);
  requests_in_flight_.insert(key);
}

void Registry::UnlockRequestKey(const std::string& key) {
  absl::MutexLock lock(&requests_mu_);
  requests_in_flight_.erase(key);
  requests_done_.SignalAll();
}

namespace {

// The match id of every request item, in request order per kind (`id` raw).
void AddRequestItems(const Keyring& keyring, absl::string_view id,
                     const internal::SealedPart& content, const ItemPositions& positions,
                     v1::RegisterResponse* response) {
  auto add = [&](v1::MatchKind kind, const std::vector<int>& stored, const HmacSha256& index_key,
                 const google::protobuf::RepeatedPtrField<std::string>& digests) {
    for (size_t i = 0; i < stored.size(); ++i) {
      const Mac32 key = index_key.Mac(digests.Get(stored[i]));
      v1::RegisteredItem* item = response->add_items();
      item->set_kind(kind);
      item->set_index(static_cast<int32_t>(i));
      item->set_match_id(MatchId(keyring.match_id_key(), id, kind,
                                 absl::string_view(reinterpret_cast<const char*>(key.data()),
                                                   key.size())));
    }
  };
  add(v1::MATCH_KIND_URL, positions.urls, keyring.url_key(), content.url_digests());
  add(v1::MATCH_KIND_SCOPE, positions.scopes, keyring.url_key(), content.scope_digests());
  for (size_t i = 0; i < positions.pdq.size(); ++i) {
    v1::RegisteredItem* item = response->add_items();
    item->set_kind(v1::MATCH_KIND_PDQ);
    item->set_index(static_cast<int32_t>(i));
    item->set_match_id(PdqMatchId(keyring.match_id_key(), id,
                                  static_cast<uint32_t>(positions.pdq[i])));
  }
  add(v1::MATCH_KIND_SHA256, positions.sha256, keyring.file_key(), content.sha256());
  add(v1::MATCH_KIND_MD5, positions.md5, keyring.file_key(), content.md5());
  add(v1::MATCH_KIND_URL_ANY_QUERY, positions.url_any_query, keyring.url_key(),
      content.url_any_query_digests());
}

}  // namespace

absl::StatusOr<v1::RegisterResponse> Registry::Register(const v1::RegisterRequest& request) {
  OPTOUT_RETURN_IF_ERROR(ValidateRegisterRequest(request, options_));
  // Shared: a key rotation's switch of versions waits for the registrations
  // that took the old set (SwitchKeySet).
  absl::ReaderMutexLock writing(&write_barrier_);
  const std::shared_ptr<const KeySet> keys = key_set();
  if (request.request_id().empty()) return RegisterNew(request, *keys, "");
  const std::string request_key = RequestKey(*keys->current, request.request_id());
  LockRequestKey(request_key);
  auto result = RegisterNew(request, *keys, request_key);
  UnlockRequestKey(request_key);
  return result;
}

absl::StatusOr<v1::RegisterResponse> Registry::RegisterNew(const v1::RegisterRequest& request,
                                                           const KeySet& keys,
                                                           const std::string& request_key) {
  const Keyring& keyring = *keys.current;
  ItemPositions positions;
  OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart content,
                          SaltableContent(request, *psl_, &positions, options_.min_pdq_quality));

  // Twice at most: in a cluster another node may register the same request
  // id at the same moment; the stream orders the two, the later one is
  // skipped everywhere, and the second pass answers with the earlier one.
  for (int pass = 0; pass < 2; ++pass) {
    OPTOUT_ASSIGN_OR_RETURN(std::optional<v1::RegisterResponse> earlier,
                            EarlierRegistration(request, keys, request_key, content, positions));
    if (earlier.has_value()) return *std::move(earlier);

    // One draw for all three: each RAND_bytes call takes the DRBG's lock
    // (three calls were ~6 % of node 0's CPU in cluster_bench at 2,000/s, perf).
    unsigned char random[2 * kIdBytes + kTokenBytes];
    if (RAND_bytes(random, sizeof(random)) != 1) {
      return absl::InternalError("no randomness for a new opt-out");
    }
    const char* drawn = reinterpret_cast<const char*>(random);
    std::string id(drawn, kIdBytes);
    std::string token(drawn + kIdBytes, kTokenBytes);
    std::string mutation_id(drawn + kIdBytes + kTokenBytes, kIdBytes);
    OPENSSL_cleanse(random, sizeof(random));
    const std::string fingerprint = Fingerprint(keyring, content);
    content.set_manage_token(token);
    // Sealed so that a key rotation can re-derive the request key.
    content.set_request_id(request.request_id());
    if (content.scope_digests_size() > 0 && content.challenge_token().empty()) {
      OPTOUT_ASSIGN_OR_RETURN(std::string challenge, NewChallengeToken());
      content.set_challenge_token(std::move(challenge));
    }
    OPTOUT_ASSIGN_OR_RETURN(internal::OptOutRecord record,
                            BuildRecord(keyring, id, content, request_key, fingerprint,
                                        absl::ToUnixSeconds(absl::Now())));
    internal::Mutation mutation;
    mutation.set_mutation_id(std::move(mutation_id));
    internal::InsertRecord* insert = mutation.mutable_insert();
    insert->set_id(id);
    insert->set_record(record.SerializeAsString());
    insert->set_request_key(request_key);
    OPTOUT_ASSIGN_OR_RETURN(Committed committed, log_->Commit(mutation));
    if (committed.outcome == ApplyOutcome::kSkipped) {
      if (key_set()->ForVersion(keyring.version()) == nullptr) {
        // Sealed under a version a cluster key rotation finished with
        // before the stream reached it: skipped on every node (StageInsert).
        return absl::UnavailableError(
            "a key rotation ended while this registration was on its way; retry with the same "
            "request_id");
      }
      continue;
    }

    v1::RegisterResponse response;
    response.set_opt_out_id(digest::ToHex(id));
    response.set_manage_token(digest::ToHex(token));
    AddRequestItems(keyring, id, content, positions, &response);
    response.set_version(committed.version);
    if (content.scope_digests_size() > 0) {
      response.set_challenge_token(content.challenge_token());
      AddScopeStatuses(record, content, record.created_unix_seconds(),
                       options_.pending_scope_seconds, response.mutable_scopes());
    }
    return response;
  }
  return absl::UnavailableError("registration raced with another of the same request_id; retry");
}

absl::StatusOr<std::optional<v1::RegisterResponse>> Registry::EarlierRegistration(
    const v1::RegisterRequest& request, const KeySet& keys, const std::string& request_key,
    const internal::SealedPart& content, const ItemPositions& positions) const {
  if (request_key.empty()) return std::nullopt;
  // During a rotation the first registration may still be of the previous
  // version; asked first, since a rotation moves request keys from there
  // to the current one, never back.
  std::optional<std::string> existing;
  if (keys.previous != nullptr) {
    OPTOUT_ASSIGN_OR_RETURN(existing,
                            store_->GetRequest(RequestKey(*keys.previous, request.request_id())));
  }
  if (!existing.has_value()) {
    OPTOUT_ASSIGN_OR_RETURN(existing, store_->GetRequest(request_key));
  }
  if (!existing.has_value()) {
    // A retry of a registration revoked since: registering it again would
    // bring back what its owner revoked (ApplyInsert skips it anyway).
    std::optional<std::string> revoked;
    if (keys.previous != nullptr) {
      OPTOUT_ASSIGN_OR_RETURN(
          revoked, store_->GetRevokedRequest(RequestKey(*keys.previous, request.request_id())));
    }
    if (!revoked.has_value()) {
      OPTOUT_ASSIGN_OR_RETURN(revoked, store_->GetRevokedRequest(request_key));
    }
    if (revoked.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("request_id: its opt-out was revoked on ", RevokedDay(*revoked),
                       "; a new registration needs a new request_id"));
    }
    return std::nullopt;
  }
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetRecord(*existing));
  internal::OptOutRecord record;
  const Keyring* record_keys = nullptr;
  if (bytes.has_value() && record.ParseFromString(*bytes)) {
    record_keys = keys.ForVersion(record.key_version());
    if (record_keys == nullptr) return absl::DataLossError("stored record of unknown key version");
  }
  if (record_keys == nullptr) return std::nullopt;
  if (record.request_fingerprint() != Fingerprint(*record_keys, content)) {
    return absl::AlreadyExistsError(
        "request_id: already used for a registration with other content");
  }
  OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(*record_keys, *existing, record));
  if (record.token_erased()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request_id: registered more than ", options_.token_retry_seconds / 3600,
        " h ago; the manage token is kept for retries only that long (see your receipt)"));
  }
  v1::RegisterResponse response;
  response.set_opt_out_id(digest::ToHex(*existing));
  response.set_manage_token(digest::ToHex(sealed.manage_token()));
  AddRequestItems(*record_keys, *existing, content, positions, &response);
  response.set_version(log_->Progress().applied_version);
  if (sealed.scope_hosts_size() > 0) {
    response.set_challenge_token(sealed.challenge_token());
    AddScopeStatuses(record, sealed, absl::ToUnixSeconds(absl::Now()),
                     options_.pending_scope_seconds, response.mutable_scopes());
  }
  return response;
}

namespace {

// A mutation of a kind this build does not know: written by a newer optoutd
// in a cluster that is being upgraded one node at a time. Skipping it would
// leave this node without that change while its progress said it had it (a
// silent divergence, found only by the digest exchange), so the node stops
// applying at this message until it runs a build that knows the kind: its
// lag grows and GetInfo shows it; the message is applied after the upgrade.
absl::Status UnknownMutationKind(const internal::Mutation& mutation) {
  std::string fields;
  const google::protobuf::UnknownFieldSet& unknown =
      mutation.GetReflection()->GetUnknownFields(mutation);
  for (int i = 0; i < unknown.field_count(); ++i) {
    absl::StrAppend(&fields, fields.empty() ? "" : ", ", unknown.field(i).number());
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "mutation ", digest::ToHex(mutation.mutation_id()), " is of a kind this optoutd (",
      kVersion, ") does not know (field ", fields.empty() ? "none" : fields,
      "): written by a newer optoutd; upgrade this node, it applies nothing further until then"));
}

}  // namespace

absl::StatusOr<ApplyOutcome> Registry::Apply(const internal::Mutation& mutation,
                                             const storage::ProgressMark* mark) {
  switch (mutation.change_case()) {
    case internal::Mutation::kInsert: return ApplyInsert(mutation.insert(), mark);
    case internal::Mutation::kDelete: return ApplyDelete(mutation.delete_(), mark);
    case internal::Mutation::kSetScopeProofs:
      return ApplySetScopeProofs(mutation.set_scope_proofs(), mark);
    case internal::Mutation::kExpireRevokedRequests:
      return ApplyExpireRevokedRequests(mutation.expire_revoked_requests(), mark);
    case internal::Mutation::kPutApiKey:
    case internal::Mutation::kDeleteApiKey:
      if (key_applier_ != nullptr) return key_applier_->Apply(mutation, mark);
      // No key store behind this registry: nothing to change, the progress
      // moves on.
      if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
      return ApplyOutcome::kSkipped;
    case internal::Mutation::kStartKeyRotation:
    case internal::Mutation::kFinishKeyRotation: {
      MutationApplier* rotation = rotation_applier_.load();
      if (rotation != nullptr) return rotation->Apply(mutation, mark);
      return absl::FailedPreconditionError("a key rotation mutation, and no key rotation to apply it");
    }
    default: break;
  }
  return UnknownMutationKind(mutation);
}

absl::StatusOr<ApplyOutcome> Registry::ApplyInsert(const internal::InsertRecord& insert,
                                                   const storage::ProgressMark* mark) {
  std::unique_ptr<storage::OptOutStore::Batch> batch = store_->NewBatch();
  OPTOUT_ASSIGN_OR_RETURN(StagedApply staged, StageInsert(insert, batch.get()));
  OPTOUT_RETURN_IF_ERROR(store_->Write(batch.get(), mark));
  if (staged.after_write) staged.after_write();
  return staged.outcome;
}

absl::StatusOr<std::optional<StagedApply>> Registry::Stage(const internal::Mutation& mutation,
                                                           storage::OptOutStore::Batch* batch) {
  if (mutation.change_case() != internal::Mutation::kInsert) return std::nullopt;
  OPTOUT_ASSIGN_OR_RETURN(StagedApply staged, StageInsert(mutation.insert(), batch));
  return staged;
}

absl::StatusOr<StagedApply> Registry::StageInsert(const internal::InsertRecord& insert,
                                                  storage::OptOutStore::Batch* batch) {
  StagedApply staged;
  internal::OptOutRecord record;
  if (!record.ParseFromString(insert.record())) {
    return absl::DataLossError("mutation record does not parse");
  }
  // The key set changes only as this log applies a rotation's start or end
  // (cluster mode), so every node decides the same below.
  const std::shared_ptr<const KeySet> keys = key_set();
  const Keyring* keyring = keys->ForVersion(record.key_version());
  std::optional<Keyring> older;
  if (keyring == nullptr && older_keys_ && record.key_version() < keys->current->version()) {
    // Sealed under a version a cluster key rotation finished with before
    // the stream reached it: derived again (an error is retried, never
    // skipped: this node's own trouble must not make it differ).
    absl::StatusOr<Keyring> derived = older_keys_(record.key_version());
    if (!derived.ok()) return derived.status();
    keyring = &older.emplace(*std::move(derived));
  }
  if (keyring == nullptr) {
    // Without a way to that version: skipped everywhere; its writer
    // answers UNAVAILABLE (Register).
    staged.outcome = ApplyOutcome::kSkipped;
    return staged;
  }
  // The request's key under each version a holder's may be stored under:
  // during a rotation both, the previous first, since re-keying moves keys
  // from there to the current one, never back (whatever this node's own
  // re-keying reached, the answer is the same).
  std::vector<std::string> request_keys;
  std::optional<RekeyedRecord> moved;
  if (keyring != keys->current.get()) {
    // Of the version the rotation leaves (or left): moved to the current
    // one now, as re-keying would have moved it had it been stored before
    // the start.
    OPTOUT_ASSIGN_OR_RETURN(moved, RekeyRecord(*keyring, *keys->current, insert.id(), record));
    request_keys = {insert.request_key(), moved->request_key};
  } else if (keys->previous != nullptr && !insert.request_key().empty()) {
    OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(*keyring, insert.id(), record));
    if (!sealed.request_id().empty()) {
      request_keys.push_back(RequestKey(*keys->previous, sealed.request_id()));
    }
    request_keys.push_back(insert.request_key());
  } else {
    request_keys = {insert.request_key()};
  }
  for (const std::string& key : request_keys) {
    if (key.empty()) continue;
    OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> holder, batch->GetRequest(key));
    bool skip = holder.has_value() && *holder != insert.id();
    if (!holder.has_value()) {
      // The request's opt-out was revoked: this is a late copy of a retry
      // (its node re-sent it after the client had moved on), and applying
      // it would bring back what the owner revoked. Skipped on every node
      // alike, as the revoked key is part of the ordered state.
      OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> revoked, batch->GetRevokedRequest(key));
      skip = revoked.has_value();
    }
    if (skip) {
      staged.outcome = ApplyOutcome::kSkipped;
      return staged;
    }
    if (holder.has_value()) break;  // this very insert, applied before (a re-applied message)
  }
  if (moved.has_value()) {
    keyring = keys->current.get();
    record = std::move(moved->record);
  }
  // Decoded before the write, so a record this node cannot open changes nothing.
  OPTOUT_ASSIGN_OR_RETURN(IndexedOptOut indexed, IndexedFromRecord(*keyring, insert.id(), record));
  OPTOUT_RETURN_IF_ERROR(moved.has_value()
                             ? batch->Insert(insert.id(), record.SerializeAsString(),
                                             moved->request_key)
                             : batch->Insert(insert.id(), insert.record(), insert.request_key()));
  staged.after_write = [this, indexed = std::move(indexed), id = insert.id(),
                        created = record.created_unix_seconds(),
                        scoped = ScopeEntryCount(record) > 0]() {
    index_.Add(indexed);
    QueueTokenErasure(created, id);
    if (scoped) TrackScopes(id);
  };
  return staged;
}

namespace {

absl::Status NotAppliedYet(const MutationLog& log, uint64_t version) {
  return absl::UnavailableError(absl::StrCat("min_version: this node has applied version ",
                                             log.Progress().applied_version, ", not yet ",
                                             version, "; retry (or ask another node)"));
}

}  // namespace

absl::Status Registry::AwaitVersion(uint64_t version, const CheckInterrupt& interrupt) const {
  // Polls the interrupt (deadline, cancel) between short waits.
  const absl::Time give_up = absl::Now() + kMinVersionWaitWithoutDeadline;
  while (!log_->AwaitApplied(version, absl::Now() + absl::Milliseconds(5))) {
    const bool stop = interrupt != nullptr ? !interrupt().ok() : absl::Now() > give_up;
    if (stop) return NotAppliedYet(*log_, version);
  }
  return absl::OkStatus();
}

absl::Status Registry::AwaitMinVersion(uint64_t version, const CheckInterrupt& interrupt,
                                       const CatchUpAdmission& admit,
                                       std::optional<uint64_t>* ordered) const {
  const absl::Time grace_end = absl::Now() + kMinVersionGrace;
  while (!log_->AwaitApplied(version,
                             std::min(grace_end, absl::Now() + absl::Milliseconds(5)))) {
    if (interrupt != nullptr && !interrupt().ok()) return NotAppliedYet(*log_, version);
    if (absl::Now() < grace_end) continue;
    absl::StatusOr<uint64_t> last = OrderedVersionNow(admit);
    if (!last.ok()) {
      // Refused (a per-address rate): that is the answer. Not learnt (a slow
      // or leaderless stream): the version may well be real, so wait for it
      // as before rather than fail a caller who did nothing wrong.
      if (!absl::IsUnavailable(last.status())) return last.status();
      return AwaitVersion(version, interrupt);
    }
    if (ordered != nullptr) *ordered = *last;
    if (version > *last) {
      return absl::UnavailableError(absl::StrCat(
          "min_version: ", version, " is past the last version the log holds (", *last,
          "), so no answer gave it; check the receipt, or retry"));
    }
    return AwaitVersion(version, interrupt);
  }
  return absl::OkStatus();
}

namespace {

// Tombstones are keyed by the SHA-256 of the id: the id itself is not kept
// once revoked.
std::string TombstoneKey(const std::string& id) {
  const digest::Sha256Digest d = digest::Sha256(id);
  return std::string(d.begin(), d.end());
}

// Why an id without a record has none: FailedPrecondition "already revoked on
// DATE" when its tombstone exists, NotFound (a typo, or never registered)
// otherwise.
absl::Status MissingRecordStatus(const storage::OptOutStore& store, const std::string& id) {
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.GetTombstone(TombstoneKey(id)));
  const std::string day = bytes.has_value() ? RevokedDay(*bytes) : "";
  if (day.empty()) return absl::NotFoundError("opt_out_id: no such opt-out");
  return absl::FailedPreconditionError(absl::StrCat("opt_out_id: already revoked on ", day));
}

// Loads the record of `id` and checks `token` against it in constant time.
absl::StatusOr<internal::OptOutRecord> Authorize(const storage::OptOutStore& store,
                                                 const std::string& id,
                                                 const std::string& token) {
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.GetRecord(id));
  if (!bytes.has_value()) return MissingRecordStatus(store, id);
  internal::OptOutRecord record;
  if (!record.ParseFromString(*bytes)) return absl::DataLossError("stored record does not parse");
  const digest::Sha256Digest token_hash = digest::Sha256(token);
  if (record.token_sha256().size() != token_hash.size() ||
      CRYPTO_memcmp(record.token_sha256().data(), token_hash.data(), token_hash.size()) != 0) {
    return absl::PermissionDeniedError("manage_token: does not match this opt-out");
  }
  return record;
}

}  // namespace

absl::StatusOr<v1::GetResponse> Registry::Get(const v1::GetRequest& request) const {
  std::string id, token;
  OPTOUT_RETURN_IF_ERROR(
      ParseCredentials(request.opt_out_id(), request.manage_token(), &id, &token));
  std::shared_ptr<const KeySet> keys = key_set();  // taken before the record is read
  OPTOUT_ASSIGN_OR_RETURN(internal::OptOutRecord record, Authorize(*store_, id, token));
  OPTOUT_ASSIGN_OR_RETURN(const Keyring* keyring, KeyringOf(record, &keys));
  v1::GetResponse response;
  response.set_opt_out_id(request.opt_out_id());
  response.set_created_unix_seconds(record.created_unix_seconds());
  response.set_pdq_count(record.pdq_count());
  for (const auto& entry : record.entries()) {
    switch (entry.kind()) {
      case v1::MATCH_KIND_URL: response.set_url_count(response.url_count() + 1); break;
      case v1::MATCH_KIND_SCOPE: response.set_scope_count(response.scope_count() + 1); break;
      case v1::MATCH_KIND_SHA256: response.set_sha256_count(response.sha256_count() + 1); break;
      case v1::MATCH_KIND_MD5: response.set_md5_count(response.md5_count() + 1); break;
      case v1::MATCH_KIND_URL_ANY_QUERY:
        response.set_url_any_query_count(response.url_any_query_count() + 1);
        break;
      default: break;
    }
  }
  // Match ids need the item references (and the PDQ hashes only to count
  // them); IndexedFromRecord has both.
  // Pending scopes included: the owner sees every item she registered.
  OPTOUT_ASSIGN_OR_RETURN(IndexedOptOut indexed,
                          IndexedFromRecord(*keyring, id, record, /*matching_only=*/false));
  for (v1::RegisteredItem& item : RegisteredItemsOf(keyring->match_id_key(), indexed)) {
    *response.add_items() = std::move(item);
  }
  if (response.scope_count() > 0) {
    OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(*keyring, id, record));
    response.set_challenge_token(sealed.challenge_token());
    AddScopeStatuses(record, sealed, absl::ToUnixSeconds(absl::Now()),
                     options_.pending_scope_seconds, response.mutable_scopes());
  }
  return response;
}

absl::StatusOr<v1::VerifyResponse> Registry::Verify(const v1::VerifyRequest& request) {
  std::string id, token;
  OPTOUT_RETURN_IF_ERROR(
      ParseCredentials(request.opt_out_id(), request.manage_token(), &id, &token));
  OPTOUT_ASSIGN_OR_RETURN(internal::OptOutRecord record, Authorize(*store_, id, token));
  return VerifyScopes(id, record);
}

absl::StatusOr<uint64_t> Registry::OrderedVersionNow(const CatchUpAdmission& admit) const {
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  absl::StatusOr<uint64_t> ordered;
  if (log_->OrderedVersionIsRemote()) {
    // Anyone can send revokes of random ids and versions: each costs the
    // stream's leader a request and this thread a wait unless metered and
    // shared.
    if (admit != nullptr) OPTOUT_RETURN_IF_ERROR(admit());
    ordered = catch_up_queries_.Get(deadline);
  } else {
    ordered = log_->OrderedVersion(deadline);
  }
  if (!ordered.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "this node could not learn the log's last version in time (", ordered.status().message(),
        "); retry"));
  }
  return *ordered;
}

absl::Status Registry::Revoke(const v1::RevokeRequest& request, uint64_t* version,
                              const CheckInterrupt& interrupt,
                              const CatchUpAdmission& admit_catch_up) {
  std::string id, token;
  OPTOUT_RETURN_IF_ERROR(
      ParseCredentials(request.opt_out_id(), request.manage_token(), &id, &token));
  // The log's last version, once learnt after this call came: every write
  // acknowledged before the call is at or below it.
  std::optional<uint64_t> ordered;
  if (request.min_version() != 0) {
    OPTOUT_RETURN_IF_ERROR(
        AwaitMinVersion(request.min_version(), interrupt, admit_catch_up, &ordered));
  }
  const uint64_t applied = log_->Progress().applied_version;
  absl::StatusOr<internal::OptOutRecord> found = Authorize(*store_, id, token);
  if (absl::IsNotFound(found.status())) {
    // In a cluster the registration may have been acknowledged by another
    // node a moment ago and not be applied here yet.
    if (!ordered.has_value()) {
      absl::StatusOr<uint64_t> learnt = OrderedVersionNow(admit_catch_up);
      if (absl::IsUnavailable(learnt.status())) {
        return absl::UnavailableError(absl::StrCat(
            "opt_out_id: not on this node, and whether another node took it could not be told (",
            learnt.status().message(), ")"));
      }
      OPTOUT_RETURN_IF_ERROR(learnt.status());
      ordered = *learnt;
    }
    if (*ordered > applied) {
      OPTOUT_RETURN_IF_ERROR(AwaitVersion(*ordered, interrupt));
      found = Authorize(*store_, id, token);
    }
  }
  if (!found.ok()) return found.status();
  const internal::OptOutRecord& record = *found;
  internal::Tombstone tombstone;
  constexpr int64_t kDay = 24 * 60 * 60;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  tombstone.set_revoked_unix_day_seconds(now - now % kDay);
  internal::Mutation mutation;
  OPTOUT_ASSIGN_OR_RETURN(*mutation.mutable_mutation_id(), NewMutationId());
  internal::DeleteRecord* del = mutation.mutable_delete_();
  del->set_id(id);
  del->set_request_key(record.request_key());
  del->set_tombstone_key(TombstoneKey(id));
  del->set_tombstone(tombstone.SerializeAsString());
  OPTOUT_ASSIGN_OR_RETURN(Committed committed, log_->Commit(mutation));
  // Skipped: another revoke of the same opt-out was ordered first.
  if (committed.outcome == ApplyOutcome::kSkipped) return MissingRecordStatus(*store_, id);
  if (version != nullptr) *version = committed.version;
  return absl::OkStatus();
}

absl::StatusOr<ApplyOutcome> Registry::ApplyDelete(const internal::DeleteRecord& del,
                                                   const storage::ProgressMark* mark) {
  // Serialized with token erasure and re-keying, so a rewritten copy is
  // never written back over the revocation.
  absl::MutexLock lock(&RecordMutex(del.id()));
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetRecord(del.id()));
  if (!bytes.has_value()) {
    if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
    return ApplyOutcome::kSkipped;
  }
  internal::OptOutRecord record;
  if (!record.ParseFromString(*bytes)) return absl::DataLossError("stored record does not parse");
  std::shared_ptr<const KeySet> keys = key_set();
  OPTOUT_ASSIGN_OR_RETURN(const Keyring* keyring, KeyringOf(record, &keys));
  OPTOUT_ASSIGN_OR_RETURN(IndexedOptOut indexed, IndexedFromRecord(*keyring, del.id(), record));
  // The request key stored now: a re-key may have moved it since the revoke
  // was written. It stays, revoked, until ExpireRevokedRequests; during a
  // rotation under the current version's key, as re-keying would have moved
  // it, so that every node keeps the same key whatever its own re-keying
  // reached (StageInsert asks both until the rotation ends, then only that).
  std::string revoked_key;
  if (keys->previous != nullptr && keyring == keys->previous.get() &&
      !record.request_key().empty()) {
    OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(*keyring, del.id(), record));
    if (!sealed.request_id().empty()) revoked_key = RequestKey(*keys->current, sealed.request_id());
  }
  OPTOUT_RETURN_IF_ERROR(store_->Delete(del.id(), record.request_key(), del.tombstone_key(),
                                        del.tombstone(), mark, del.tombstone(), revoked_key));
  index_.Remove(indexed);
  return ApplyOutcome::kApplied;
}

int64_t Registry::RevokedRequestHoldSeconds() const {
  return std::max(options_.token_retry_seconds, kMinRevokedRequestHoldSeconds);
}

namespace {

// Revoked request keys whose whole day of revocation lies before
// `before_unix_seconds` (only the day is kept); an unreadable date counts
// as expired, as nothing would ever expire it otherwise.
absl::StatusOr<std::vector<std::string>> RevokedRequestsBefore(const storage::OptOutStore& store,
                                                               int64_t before_unix_seconds) {
  constexpr int64_t kDay = 24 * 60 * 60;
  std::vector<std::string> due;
  internal::Tombstone tombstone;
  OPTOUT_RETURN_IF_ERROR(store.ForEachRevokedRequest(
      [&](absl::string_view key, absl::string_view value) {
        if (!tombstone.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            tombstone.revoked_unix_day_seconds() + kDay <= before_unix_seconds) {
          due.emplace_back(key);
        }
        return absl::OkStatus();
      }));
  return due;
}

}  // namespace

absl::StatusOr<int> Registry::ExpireRevokedRequests(absl::Time now) {
  const int64_t before = absl::ToUnixSeconds(now) - RevokedRequestHoldSeconds();
  OPTOUT_ASSIGN_OR_RETURN(std::vector<std::string> due, RevokedRequestsBefore(*store_, before));
  if (due.empty()) return 0;
  // Through the log, not straight to the store: every node must forget
  // them at the same place in the order (see ApplyInsert).
  internal::Mutation mutation;
  OPTOUT_ASSIGN_OR_RETURN(*mutation.mutable_mutation_id(), NewMutationId());
  mutation.mutable_expire_revoked_requests()->set_before_unix_seconds(before);
  OPTOUT_RETURN_IF_ERROR(log_->Commit(mutation).status());
  return static_cast<int>(due.size());
}

absl::StatusOr<ApplyOutcome> Registry::ApplyExpireRevokedRequests(
    const internal::ExpireRevokedRequests& expire, const storage::ProgressMark* mark) {
  OPTOUT_ASSIGN_OR_RETURN(std::vector<std::string> due,
                          RevokedRequestsBefore(*store_, expire.before_unix_seconds()));
  if (due.empty()) {
    if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
    return ApplyOutcome::kSkipped;
  }
  OPTOUT_RETURN_IF_ERROR(store_->DeleteRevokedRequests(due, mark));
  return ApplyOutcome::kApplied;
}

absl::Mutex& Registry::RecordMutex(absl::string_view id) const {
  return record_mu_[absl::HashOf(id) % (sizeof(record_mu_) / sizeof(record_mu_[0]))];
}

Registry::TokenEntry Registry::TokenEntryOf(int64_t created_unix_seconds, absl::string_view id) {
  TokenEntry entry{created_unix_seconds, {}};
  std::memcpy(entry.second.data(), id.data(), std::min(id.size(), entry.second.size()));
  return entry;
}

void Registry::QueueTokenErasure(int64_t created_unix_seconds, const std::string& id) {
  absl::MutexLock lock(&tokens_mu_);
  tokens_to_erase_.push_back(TokenEntryOf(created_unix_seconds, id));
}

absl::StatusOr<int> Registry::EraseExpiredTokens(absl::Time now) {
  const int64_t cutoff = absl::ToUnixSeconds(now) - options_.token_retry_seconds;
  int erased = 0;
  for (;;) {
    std::string id;
    {
      absl::MutexLock lock(&tokens_mu_);
      // Registrations are queued in about creation order; a clock step back
      // only delays the erasure of the few behind it.
      if (tokens_to_erase_.empty() || tokens_to_erase_.front().first > cutoff) break;
      id.assign(tokens_to_erase_.front().second.data(), tokens_to_erase_.front().second.size());
      tokens_to_erase_.pop_front();
    }
    absl::StatusOr<bool> done = EraseTokenOf(id);
    if (!done.ok()) {
      // Tried again on the next run.
      absl::MutexLock lock(&tokens_mu_);
      tokens_to_erase_.push_front(TokenEntryOf(cutoff, id));
      return done.status();
    }
    erased += *done ? 1 : 0;
  }
  return erased;
}

absl::StatusOr<bool> Registry::EraseTokenOf(const std::string& id) {
  absl::MutexLock lock(&RecordMutex(id));
  std::shared_ptr<const KeySet> keys = key_set();
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetRecord(id));
  if (!bytes.has_value()) return false;  // revoked meanwhile
  internal::OptOutRecord record;
  if (!record.ParseFromString(*bytes)) return absl::DataLossError("stored record does not parse");
  if (record.token_erased()) return false;
  // Resealed under the record's own version: a rotation moves it, not this.
  OPTOUT_ASSIGN_OR_RETURN(const Keyring* keyring, KeyringOf(record, &keys));
  OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(*keyring, id, record));
  sealed.clear_manage_token();
  OPTOUT_ASSIGN_OR_RETURN(std::string resealed,
                          keyring->record_cipher().Seal(sealed.SerializeAsString(), id));
  record.set_sealed(std::move(resealed));
  record.set_token_erased(true);
  // Rewrites the record only; its request key (if any) stays, so a late
  // retry is recognised and refused rather than registered twice.
  OPTOUT_RETURN_IF_ERROR(store_->Insert(id, record.SerializeAsString(), ""));
  return true;
}

v1::GetInfoResponse Registry::Info() const {
  v1::GetInfoResponse info;
  info.set_psl_version(psl_->version());
  info.set_psl_sha256(psl_->sha256_hex());
  info.set_pdq_threshold(options_.pdq_threshold);
  info.set_max_batch_items(options_.max_batch_items);
  info.set_min_pdq_quality(options_.min_pdq_quality);
  if (LowestPdqQuality(options_) < options_.min_pdq_quality) {
    info.set_low_quality_pdq_floor(options_.low_quality_pdq_floor);
    info.set_low_quality_pdq_distance(options_.low_quality_pdq_distance);
    info.set_pdq_region_tiers(true);
  }
  info.set_pdq_region_mirrors(true);
  info.set_server_version(kVersion);
  LogProgress progress = log_->Progress();
  info.set_applied_version(progress.applied_version);
  info.set_version_lag(progress.lag);
  info.set_applied_digest(std::move(progress.digest_hex));
  info.set_node_name(std::move(progress.node_name));
  const receipt::ReceiptSigner& signer = key_set()->current->receipt_signer();
  info.set_receipt_public_key(signer.public_key());
  info.set_receipt_key_fingerprint(signer.fingerprint());
  return info;
}

v1::GetPublicSuffixListResponse Registry::PublicSuffixListInUse() const {
  v1::GetPublicSuffixListResponse response;
  response.set_list(psl_->content());
  response.set_version(psl_->version());
  response.set_sha256(psl_->sha256_hex());
  return response;
}

}  // namespace optout::service

// File: service/registry.h
//
// Registry is the core of optoutd, below the gRPC layer: it validates and
// salts registrations, keeps them durable in the OptOutStore and live in the
// MatchIndex, verifies manage tokens, and answers checks.
//
// Durability: Register and Revoke return only after the store's synced write;
// the index is updated after that write and before the call returns, so a
// revocation holds for every check that starts after it is acknowledged.
// Every change goes through the registry's MutationLog (service/mutation_log.h):
// the local log applies it at once; a cluster log orders it on a replicated
// stream and calls Apply on every node.
//
// Errors: InvalidArgument (field path and item index in the message),
// AlreadyExists (request id reused with other content), NotFound (unknown
// opt-out id), FailedPrecondition ("already revoked on DATE": Get or Revoke of
// an opt-out revoked earlier; Register with the request id of one), PermissionDenied (wrong manage token), Unavailable / Internal
// from the store, DataLoss for a record that fails authentication.
//
// Thread-safety: all methods may be called concurrently.
#ifndef OPTOUT_SERVICE_REGISTRY_H_
#define OPTOUT_SERVICE_REGISTRY_H_

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/common/url/url.h"
#include "optout/v1/optout.pb.h"
#include "service/check_counters.h"
#include "service/checker.h"
#include "optout/internal/record.pb.h"
#include "service/key_set.h"
#include "service/keyring.h"
#include "service/match_index.h"
#include "service/mutation_log.h"
#include "service/opt_out_codec.h"
#include "service/ordered_version_queries.h"
#include "service/registry_options.h"
#include "storage/opt_out_store.h"

namespace optout::internal {
class ExpireRevokedRequests;
class OptOutRecord;
class SetScopeProofs;
}  // namespace optout::internal

namespace optout::service {

// Asked before a revoke of an opt-out this node does not hold queries the
// cluster's stream (Registry::Revoke); not OK refuses the revoke with that
// status (e.g. a per-peer rate). Null: always admitted.
using CatchUpAdmission = std::function<absl::Status()>;

class Registry final : public MutationApplier {
 public:
  // Loads every stored opt-out into memory. `store` and `psl` must outlive
  // the registry. DataLoss if a record cannot be decrypted (wrong secret).
  static absl::StatusOr<std::unique_ptr<Registry>> Open(storage::OptOutStore* store,
                                                        Keyring keyring,
                                                        const url::PublicSuffixList* psl,
                                                        const RegistryOptions& options);
  // With the key versions of the store (service/key_rotation.h): records of
  // keys.current or keys.previous load; any other version is DataLoss.
  static absl::StatusOr<std::unique_ptr<Registry>> Open(storage::OptOutStore* store,
                                                        KeySet keys,
                                                        const url::PublicSuffixList* psl,
                                                        const RegistryOptions& options);
  // Stops the mutation log first: a cluster log applies into this registry.
  ~Registry() override { log_.reset(); }
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Replaces the local log (the default) with `log`, e.g. a cluster log that
  // already applies the stream into this registry. Call before serving.
  void UseMutationLog(std::unique_ptr<MutationLog> log) { log_ = std::move(log); }
  // API key mutations in the log are handed to `keys` (ApiKeys); without
  // one they are skipped. Set before the log applies anything.
  void UseKeyApplier(MutationApplier* keys) { key_applier_ = keys; }
  MutationLog& mutation_log() const { return *log_; }
  // Key rotation mutations of the log (cluster mode: StartKeyRotation,
  // FinishKeyRotation) are handed to `rotation` (KeyRotation); without one
  // applying them fails (the log tries again), since skipping them would
  // leave this node's keys behind its peers'. Set before the log applies
  // anything; nullptr before `rotation` goes.
  void UseRotationApplier(MutationApplier* rotation) { rotation_applier_ = rotation; }
  // Cluster mode: derives the keyring of an earlier version of the secret
  // every node holds, so that a registration still of a version a rotation
  // has ended with (its node sealed it before applying the start; or a
  // write it acknowledged, lost by the stream and re-published later) is
  // re-keyed as it is applied, on every node alike. Unset: such a
  // registration is skipped (its writer answers UNAVAILABLE). Set before
  // the log applies anything.
  using OlderKeys = std::function<absl::StatusOr<Keyring>(uint32_t version)>;
  void UseOlderKeys(OlderKeys older) { older_keys_ = std::move(older); }

  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request);
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request) const;
  // `version` (optional) receives the registry version of the revocation.
  // With request.min_version, first waits for it as Check does (Unavailable
  // when `interrupt` stops the wait), unless it is past the log's last
  // version (MutationLog::OrderedVersion), which no answer ever gave:
  // Unavailable at once. An opt-out this node does not hold is looked for
  // again once it has applied what the log held then: NotFound means not
  // registered anywhere before the call, Unavailable that this node could
  // not tell in time. When learning the log's last version asks another
  // machine (a cluster's stream), `admit_catch_up` is asked first (its
  // error is the answer), and concurrent revokes share the query
  // (kCatchUpQueryInterval); one revoke asks at most once.
  absl::Status Revoke(const v1::RevokeRequest& request, uint64_t* version = nullptr,
                      const CheckInterrupt& interrupt = nullptr,
                      const CatchUpAdmission& admit_catch_up = nullptr);
  // With request.min_version, first waits until this node has applied that
  // version, asking `interrupt` every few milliseconds; when it stops the
  // wait (deadline, cancel) the answer is Unavailable. Without an interrupt
  // the wait is at most kMinVersionWaitWithoutDeadline. A version still
  // not applied after kMinVersionGrace and past the log's last version
  // (MutationLog::OrderedVersion), which no answer ever gave, is
  // Unavailable at once.
  absl::Status Check(const v1::CheckRequest& request, v1::CheckResponse* response,
                     const CheckInterrupt& interrupt = nullptr) const {
    if (request.min_version() != 0) {
      absl::Status applied = AwaitMinVersion(request.min_version(), interrupt, nullptr, nullptr);
      if (!applied.ok()) return applied;
    }
    // A key rotation that starts while a check runs moves records to the
    // new version's keys, which a check planned under the old set alone
    // would not look up: such a check runs again under the new set (twice
    // at most; a rotation's start and end are far apart).
    absl::Status status;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const std::shared_ptr<const KeySet> keys = key_set();
      if (attempt > 0) response->Clear();
      status = checker_.Check(request, response, *keys, interrupt);
      if (!status.ok() || key_set() == keys) break;
    }
    if (status.ok()) check_counters_.Count(request, *response);
    return status;
  }
  // Host and directory scopes (registry_scopes.cc, issue 10): a scope
  // matches only while its host is proven. Verify checks the challenge of
  // every PENDING or LAPSED scope of an opt-out now; errors as Get, and a
  // failed proof is not an error (each scope's state and reason are in the
  // answer). FailedPrecondition when no verifier is configured.
  absl::StatusOr<v1::VerifyResponse> Verify(const v1::VerifyRequest& request);
  struct ScopeMaintenance {
    int expired = 0;    // pending scopes past pending_scope_seconds
    int rechecked = 0;  // proven scopes checked again, still proven
    int lapsed = 0;     // proven scopes whose proof is gone (stop matching)
  };
  // Expires pending scopes past their period and re-checks proven ones due
  // (scope_recheck_seconds), as of `now`. optoutd calls it periodically.
  absl::StatusOr<ScopeMaintenance> MaintainScopes(absl::Time now);

  v1::GetInfoResponse Info() const;
  // The Public Suffix List in use, bytes and all (Check.GetPublicSuffixList).
  v1::GetPublicSuffixListResponse PublicSuffixListInUse() const;

  // Erases the sealed token copy of every opt-out registered more than
  // token_retry_seconds before `now` (the record is rewritten without it;
  // the token's hash stays, so Get and Revoke keep working). A retry after
  // that is ALREADY_EXISTS. Returns how many were erased. optoutd calls it at
  // start and periodically.
  absl::StatusOr<int> EraseExpiredTokens(absl::Time now);
  // A revoke keeps the opt-out's request key as revoked, so that a late
  // copy of a registration under it (in a cluster, a retry's first attempt
  // published late by another node) is skipped and a retry is refused
  // (FailedPrecondition). Forgets those whose day of revocation ended more
  // than max(token_retry_seconds, 1 h) before `now` (only the day is kept:
  // held that long plus up to a day), through the mutation log so every
  // node forgets them at the same point; returns how many were due here.
  // optoutd calls it at start and hourly.
  absl::StatusOr<int> ExpireRevokedRequests(absl::Time now);

  // Key rotation (service/key_rotation.h drives it; registry_rekey.cc).
  // The key versions in use now; a caller keeps the set it took.
  std::shared_ptr<const KeySet> key_set() const {
    absl::MutexLock lock(&keys_mu_);
    return keys_;
  }
  // Makes `keys` the versions in use once every registration that took the
  // old set has finished, so none writes an old version after this returns.
  void SwitchKeySet(KeySet keys);
  // Makes `keys` the versions in use at once (cluster mode, where the
  // stream orders the switch: registrations that took the old set still
  // commit records of it, and applying re-keys or skips them, see
  // StageInsert). Waiting for them, as SwitchKeySet does, would stall the
  // thread that applies the very writes they wait for.
  void SwitchKeySetInOrder(KeySet keys);
  // What one RekeyBatch did.
  struct RekeyStep {
    std::string cursor;  // last id visited (pass it back as `after`)
    size_t rekeyed = 0;  // records moved to keys.current
    size_t scanned = 0;  // records visited (moved or already current)
    bool done = false;   // no record after `cursor`
  };
  // Moves up to `max_records` records of key_set()->previous with ids after
  // `after` (empty: from the first) to key_set()->current: store and index,
  // in id order. The rewritten records, their moved request keys and
  // `progress(cursor, rekeyed)` (stored under `progress_key` in the store's
  // default family) are one synced batch, so a crash resumes exactly after
  // the last batch. Checks match throughout: the index gains a record's new
  // keys before it loses the old. FailedPrecondition without a previous
  // version; DataLoss for a record of neither version.
  absl::StatusOr<RekeyStep> RekeyBatch(
      const std::string& after, size_t max_records, absl::string_view progress_key,
      const std::function<std::string(const std::string& cursor, size_t rekeyed)>& progress);

  size_t opt_out_count() const { return index_.opt_out_count(); }
  // Items checked and matches found since start (answered checks only).
  const CheckCounters& check_counters() const { return check_counters_; }
  // The in-memory index, for its sizes.
  const MatchIndex& index() const { return index_; }
  const RegistryOptions& options() const { return options_; }

  // MutationApplier: applies one Register or Revoke to the store and index.
  absl::StatusOr<ApplyOutcome> Apply(const internal::Mutation& mutation,
                                     const storage::ProgressMark* mark) override;
  // MutationApplier: stages registrations (the bulk of a stream message);
  // revokes and the other kinds are applied alone (a revoke serializes with
  // token erasure through the record's mutex until its write is done).
  absl::StatusOr<std::optional<StagedApply>> Stage(const internal::Mutation& mutation,
                                                   storage::OptOutStore::Batch* batch) override;

  static constexpr absl::Duration kMinVersionWaitWithoutDeadline = absl::Seconds(5);
  // A min_version not applied within this long is compared with the log's
  // last version before the wait goes on (a version this node lags behind
  // is usually applied well within it, so that costs nothing then).
  static constexpr absl::Duration kMinVersionGrace = absl::Milliseconds(100);
  // Revokes of opt-outs this node does not hold ask a cluster's stream for
  // its last sequence at most once per this interval, every revoke waiting
  // meanwhile sharing the next query (ordered_version_queries.h): at most
  // 50 stream queries a second per node, for at most 20 ms more per revoke.
  static constexpr absl::Duration kCatchUpQueryInterval = absl::Milliseconds(20);
  // Stream queries made for such revokes (and checks waiting for a
  // min_version past kMinVersionGrace), and the calls that made or shared
  // one (both 0 on a single node, which asks no one).
  uint64_t catch_up_queries() const { return catch_up_queries_.queries(); }
  uint64_t catch_ups() const { return catch_up_queries_.callers(); }

 private:
  absl::Status AwaitVersion(uint64_t version, const CheckInterrupt& interrupt) const;
  // AwaitVersion for a caller's min_version: once kMinVersionGrace has
  // passed without it, learns the log's last version (OrderedVersionNow,
  // kept in `*ordered` when not null) and answers Unavailable at once for a
  // version past it: waiting for a version no answer gave would only hold
  // this thread until the caller's deadline. When the log's version cannot
  // be learnt, waits as AwaitVersion does; `admit`'s refusal is the answer.
  absl::Status AwaitMinVersion(uint64_t version, const CheckInterrupt& interrupt,
                               const CatchUpAdmission& admit,
                               std::optional<uint64_t>* ordered) const;
  // The log's last version, learnt now (MutationLog::OrderedVersion; when
  // that asks another machine, after `admit`, and shared through
  // catch_up_queries_). Unavailable when it is not learnt within a second;
  // `admit`'s error as it is.
  absl::StatusOr<uint64_t> OrderedVersionNow(const CatchUpAdmission& admit) const;
  // The answer to a retried request id (nullopt: none registered yet).
  absl::StatusOr<std::optional<v1::RegisterResponse>> EarlierRegistration(
      const v1::RegisterRequest& request, const KeySet& keys, const std::string& request_key,
      const internal::SealedPart& content, const ItemPositions& positions) const;
  absl::StatusOr<ApplyOutcome> ApplyInsert(const internal::InsertRecord& insert,
                                           const storage::ProgressMark* mark);
  absl::StatusOr<StagedApply> StageInsert(const internal::InsertRecord& insert,
                                          storage::OptOutStore::Batch* batch);
  absl::StatusOr<ApplyOutcome> ApplyDelete(const internal::DeleteRecord& del,
                                           const storage::ProgressMark* mark);
  // registry_scopes.cc: Verify's and maintenance's proof changes.
  absl::StatusOr<ApplyOutcome> ApplySetScopeProofs(const internal::SetScopeProofs& set,
                                                   const storage::ProgressMark* mark);
  absl::StatusOr<ApplyOutcome> ApplyExpireRevokedRequests(
      const internal::ExpireRevokedRequests& expire, const storage::ProgressMark* mark);
  int64_t RevokedRequestHoldSeconds() const;
  Registry(storage::OptOutStore* store, KeySet keys, const url::PublicSuffixList* psl,
           const RegistryOptions& options);
  absl::Status LoadAll();
  absl::StatusOr<v1::RegisterResponse> RegisterNew(const v1::RegisterRequest& request,
                                                   const KeySet& keys,
                                                   const std::string& request_key);
  // The keyring of `record`'s version from `*keys`, taking a fresh set once
  // when that one lacks it (a rotation moved the record meanwhile). DataLoss
  // for a version this registry does not hold.
  absl::StatusOr<const Keyring*> KeyringOf(const internal::OptOutRecord& record,
                                           std::shared_ptr<const KeySet>* keys) const;
  // Waits until no other Register holds `key`, then holds it.
  void LockRequestKey(const std::string& key);
  void UnlockRequestKey(const std::string& key);
  // Serializes rewrites and deletes of one record (token erasure vs Revoke),
  // so an erased copy is never written back over a revocation.
  absl::Mutex& RecordMutex(absl::string_view id) const;
  void QueueTokenErasure(int64_t created_unix_seconds, const std::string& id);
  // Erases the sealed token of `id`; false when there was none (or no record).
  absl::StatusOr<bool> EraseTokenOf(const std::string& id);
  // Verify after the manage token was checked against `record`.
  absl::StatusOr<v1::VerifyResponse> VerifyScopes(const std::string& id,
                                                  const internal::OptOutRecord& record);
  // Reads the record of `id`, lets `update` change its scope proofs
  // (returning whether it did) and commits the change through the mutation
  // log (so every node of a cluster applies it): durably written, and the
  // scopes whose matching changed added to or removed from the index. When
  // another change of the proofs was ordered first, decides again on what it
  // then reads. NotFound when the opt-out is gone (revoked meanwhile).
  absl::StatusOr<internal::OptOutRecord> UpdateScopeProofs(
      const std::string& id, absl::FunctionRef<bool(internal::OptOutRecord*)> update);
  // Opt-outs whose scopes maintenance may have to expire or re-check.
  void TrackScopes(const std::string& id);
  void UntrackScopes(const std::string& id);

  storage::OptOutStore* const store_;
  mutable absl::Mutex keys_mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(keys_mu_);
  // Held shared by each registration, exclusively by SwitchKeySet.
  absl::Mutex write_barrier_;
  const url::PublicSuffixList* const psl_;
  const RegistryOptions options_;
  MatchIndex index_;
  Checker checker_;
  std::unique_ptr<MutationLog> log_;  // LocalMutationLog unless UseMutationLog
  // Shares log_->OrderedVersion among revokes when it asks another machine.
  mutable OrderedVersionQueries catch_up_queries_;
  MutationApplier* key_applier_ = nullptr;
  std::atomic<MutationApplier*> rotation_applier_{nullptr};
  OlderKeys older_keys_;
  mutable CheckCounters check_counters_;  // thread-safe counters, updated by const Check

  absl::Mutex requests_mu_;
  // Request keys whose Register is in progress (retries of one request wait).
  absl::flat_hash_set<std::string> requests_in_flight_ ABSL_GUARDED_BY(requests_mu_);
  absl::CondVar requests_done_;

  mutable absl::Mutex record_mu_[16];
  absl::Mutex tokens_mu_;
  // (created, id) of records still holding a sealed token, oldest first. Ids
  // are 16 bytes, held inline: at start-up there can be millions of them.
  using TokenEntry = std::pair<int64_t, std::array<char, 16>>;
  static TokenEntry TokenEntryOf(int64_t created_unix_seconds, absl::string_view id);
  std::deque<TokenEntry> tokens_to_erase_ ABSL_GUARDED_BY(tokens_mu_);
  absl::Mutex scopes_mu_;
  // Ids (raw) of opt-outs with a scope that is not EXPIRED; few compared
  // with all opt-outs, since only site owners register scopes.
  absl::flat_hash_set<std::string> scoped_ids_ ABSL_GUARDED_BY(scopes_mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_REGISTRY_H_

// File: service/registry.h
//
// Registry is the core of optoutd, below the gRPC layer: it validates and
// salts registrations, keeps them durable in the OptOutStore and live in the
// MatchIndex, verifies manage tokens, and answers checks.
//
// Durability: Register and Revoke return only after the store's synced write;
// the index is updated after that write and before the call returns, so a
// revocation holds for every check that starts after it is acknowledged.
//
// Errors: InvalidArgument (field path and item index in the message),
// AlreadyExists (request id reused with other content), NotFound (unknown
// opt-out id), FailedPrecondition ("already revoked on DATE": Get or Revoke of
// an opt-out revoked earlier), PermissionDenied (wrong manage token), Unavailable / Internal
// from the store, DataLoss for a record that fails authentication.
//
// Thread-safety: all methods may be called concurrently.
#ifndef OPTOUT_SERVICE_REGISTRY_H_
#define OPTOUT_SERVICE_REGISTRY_H_

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/common/url/url.h"
#include "optout/v1/optout.pb.h"
#include "service/check_counters.h"
#include "service/checker.h"
#include "service/keyring.h"
#include "service/match_index.h"
#include "service/registry_options.h"
#include "storage/opt_out_store.h"

namespace optout::service {

class Registry final {
 public:
  // Loads every stored opt-out into memory. `store` and `psl` must outlive
  // the registry. DataLoss if a record cannot be decrypted (wrong secret).
  static absl::StatusOr<std::unique_ptr<Registry>> Open(storage::OptOutStore* store,
                                                        Keyring keyring,
                                                        const url::PublicSuffixList* psl,
                                                        const RegistryOptions& options);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request);
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request) const;
  absl::Status Revoke(const v1::RevokeRequest& request);
  absl::Status Check(const v1::CheckRequest& request, v1::CheckResponse* response,
                     const CheckInterrupt& interrupt = nullptr) const {
    absl::Status status = checker_.Check(request, response, interrupt);
    if (status.ok()) check_counters_.Count(request, *response);
    return status;
  }
  v1::GetInfoResponse Info() const;
  // The Public Suffix List in use, bytes and all (Check.GetPublicSuffixList).
  v1::GetPublicSuffixListResponse PublicSuffixListInUse() const;

  // Erases the sealed token copy of every opt-out registered more than
  // token_retry_seconds before `now` (the record is rewritten without it;
  // the token's hash stays, so Get and Revoke keep working). A retry after
  // that is ALREADY_EXISTS. Returns how many were erased. optoutd calls it at
  // start and periodically.
  absl::StatusOr<int> EraseExpiredTokens(absl::Time now);

  size_t opt_out_count() const { return index_.opt_out_count(); }
  // Items checked and matches found since start (answered checks only).
  const CheckCounters& check_counters() const { return check_counters_; }
  // The in-memory index, for its sizes.
  const MatchIndex& index() const { return index_; }
  const RegistryOptions& options() const { return options_; }

 private:
  Registry(storage::OptOutStore* store, Keyring keyring, const url::PublicSuffixList* psl,
           const RegistryOptions& options);
  absl::Status LoadAll();
  absl::StatusOr<v1::RegisterResponse> RegisterNew(const v1::RegisterRequest& request,
                                                   const std::string& request_key);
  // Waits until no other Register holds `key`, then holds it.
  void LockRequestKey(const std::string& key);
  void UnlockRequestKey(const std::string& key);
  // Serializes rewrites and deletes of one record (token erasure vs Revoke),
  // so an erased copy is never written back over a revocation.
  absl::Mutex& RecordMutex(absl::string_view id) const;
  void QueueTokenErasure(int64_t created_unix_seconds, const std::string& id);
  // Erases the sealed token of `id`; false when there was none (or no record).
  absl::StatusOr<bool> EraseTokenOf(const std::string& id);

  storage::OptOutStore* const store_;
  const Keyring keyring_;
  const url::PublicSuffixList* const psl_;
  const RegistryOptions options_;
  MatchIndex index_;
  Checker checker_;
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
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_REGISTRY_H_

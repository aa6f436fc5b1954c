// File: service/api_keys.h
//
// ApiKeys: the checker keys of issue 10. Each key has a unique name, limits
// (items per minute and per day, PDQ items per day, allowed method classes)
// and usage counters. The store keeps only HMAC(api-key purpose key, key),
// sealed with the record cipher like every stored record; the key itself is
// returned once, by Create. A key may also name a client certificate subject
// that stands for it under mutual TLS (FindByCertSubject). Keys are loaded
// at Open and survive restarts. Creation and revocation are mutations of the
// registry's log (service/mutation_log.h), so in a cluster every node
// applies them in stream order and a key works on every node; usage
// counters and budgets live in memory since the start, per node.
//
// gRPC-free; thread-safe.
#ifndef OPTOUT_SERVICE_API_KEYS_H_
#define OPTOUT_SERVICE_API_KEYS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "optout/admin/v1/admin.pb.h"
#include "optout/v1/optout.pb.h"
#include "service/keyring.h"
#include "service/mutation_log.h"
#include "service/over_budget.h"
#include "service/token_bucket.h"
#include "storage/opt_out_store.h"

namespace optout::service {

// What a check costs: every item counts, PDQ items also against their own budget.
struct CheckCost {
  int64_t items = 0;
  int64_t pdq_items = 0;
};
CheckCost CostOf(const v1::CheckRequest& request);

class ApiKeys final : public MutationApplier {
 public:
  // Orders a key mutation (the registry's MutationLog::Commit).
  using Committer = std::function<absl::StatusOr<Committed>(const internal::Mutation&)>;

  // One key's live state; shared with calls in flight, so a revoked key's
  // state stays valid until they finish.
  class Key;

  // Loads every stored key. DataLoss if a record fails to open (wrong secret).
  // `store` must outlive this object.
  static absl::StatusOr<std::unique_ptr<ApiKeys>> Open(storage::OptOutStore* store,
                                                       const Keyring& keyring);
  ~ApiKeys() override;

  // Key changes go through `commit` from now on; until then they are applied
  // here at once (one node, tests).
  void UseCommitter(Committer commit);

  // INVALID_ARGUMENT (bad name, negative limit, unknown method, bad
  // cert_subject), ALREADY_EXISTS (name or cert_subject taken). Durable
  // before it returns.
  absl::StatusOr<admin::v1::CreateKeyResponse> Create(const admin::v1::CreateKeyRequest& request,
                                                      absl::Time now);
  admin::v1::ListKeysResponse List() const;
  // NOT_FOUND for an unknown name. The key stops working at once (on other
  // nodes of a cluster, once they applied the revocation).
  absl::Status Revoke(absl::string_view name);
  // Every key's usage for an empty name; NOT_FOUND for an unknown one.
  absl::StatusOr<admin::v1::GetKeyUsageResponse> Usage(absl::string_view name) const;

  // The key `bearer` stands for; nullptr when unknown or revoked.
  std::shared_ptr<Key> Find(absl::string_view bearer) const;
  // The key whose cert_subject is `subject` (a verified client
  // certificate's subject, RFC 2253); nullptr when none.
  std::shared_ptr<Key> FindByCertSubject(absl::string_view subject) const;
  // Charges `cost` to `key` when its methods and budgets allow it, else
  // PERMISSION_DENIED (method class not allowed) or OverBudgetError; a
  // refused call costs nothing and counts as a rejection.
  static absl::Status Charge(Key& key, const CheckCost& cost, absl::Time now);
  // Counts the matched items of `response` by kind.
  static void Record(Key& key, const v1::CheckResponse& response);
  // Counts a call refused outside Charge (the PDQ probing throttle) among the
  // key's rejections; `charged`: Charge already counted the call.
  static void CountRefusal(Key& key, bool charged);
  static const std::string& NameOf(const Key& key);

  // MutationApplier, for put_api_key and delete_api_key mutations (the
  // registry hands them over); kSkipped when the name or certificate subject
  // is taken, or the key to delete is gone.
  absl::StatusOr<ApplyOutcome> Apply(const internal::Mutation& mutation,
                                     const storage::ProgressMark* mark) override;

 private:
  ApiKeys(storage::OptOutStore* store, const Keyring& keyring);
  std::string HashOf(absl::string_view bearer) const;
  absl::StatusOr<Committed> Commit(const internal::Mutation& mutation);
  absl::StatusOr<ApplyOutcome> ApplyPut(const internal::PutApiKey& put,
                                        const storage::ProgressMark* mark);
  absl::StatusOr<ApplyOutcome> ApplyDelete(const internal::DeleteApiKey& del,
                                           const storage::ProgressMark* mark);
  // ALREADY_EXISTS naming the field when `record`'s name or subject is taken.
  absl::Status CheckUnique(const internal::ApiKeyRecord& record) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::OptOutStore* const store_;
  const Keyring keyring_;
  Committer commit_;  // set before the server serves
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Key>> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<Key>> by_hash_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<Key>> by_cert_subject_ ABSL_GUARDED_BY(mu_);
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_API_KEYS_H_

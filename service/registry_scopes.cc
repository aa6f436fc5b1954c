// Registry's scope proofs (issue 10): Verify, maintenance and the record
// rewrites behind both. The network checks run outside any lock; their
// outcomes go through the mutation log as a SetScopeProofs that applies only
// to the proofs they were decided from, so a Revoke or a second Verify
// meanwhile is never overwritten, and every node of a cluster applies them.
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <openssl/rand.h>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "client/common/base/status_macros.h"
#include "optout/internal/record.pb.h"
#include "service/mutation_log.h"
#include "service/opt_out_codec.h"
#include "service/registry.h"
#include "service/scope_proofs.h"
#include "service/verify/scope_verifier.h"

namespace optout::service {
namespace {

// Outcome of one host's challenge: the method that proved it, or why not.
using Outcomes = absl::flat_hash_map<std::string, absl::StatusOr<std::string>>;

void Ask(const verify::ScopeVerifier* verifier, const std::string& host, const std::string& token,
         Outcomes* outcomes) {
  if (outcomes->contains(host)) return;
  if (verifier == nullptr) {
    outcomes->emplace(host, absl::FailedPreconditionError("scope verification is not configured"));
    return;
  }
  outcomes->emplace(host, verifier->Verify(host, token));
}

// Records from before verification have no proofs: they start PENDING.
void EnsureProofs(internal::OptOutRecord* record) {
  const int n = ScopeEntryCount(*record);
  while (record->scope_proofs_size() < n) {
    record->add_scope_proofs()->set_state(v1::SCOPE_STATE_PENDING);
  }
}

// Applies a host's outcome to scope proof `proof` at `now`: proven, or the
// reason kept with the state unchanged (`lapse`: VERIFIED becomes LAPSED).
void ApplyOutcomeTo(const absl::StatusOr<std::string>& outcome, int64_t now, bool lapse,
                    internal::ScopeProof* proof) {
  proof->set_checked_unix_seconds(now);
  if (outcome.ok()) {
    proof->set_state(v1::SCOPE_STATE_VERIFIED);
    proof->set_verified_unix_seconds(now);
    proof->set_method(*outcome);
    proof->clear_reason();
    return;
  }
  if (lapse) proof->set_state(v1::SCOPE_STATE_LAPSED);
  proof->set_reason(std::string(outcome.status().message()));
}

// Mutation ids are random, like opt-out ids.

bool SameProofs(const google::protobuf::RepeatedPtrField<internal::ScopeProof>& a,
                const google::protobuf::RepeatedPtrField<internal::ScopeProof>& b) {
  if (a.size() != b.size()) return false;
  for (int k = 0; k < a.size(); ++k) {
    if (a[k].SerializeAsString() != b[k].SerializeAsString()) return false;
  }
  return true;
}

// Marks PENDING scopes past their period EXPIRED; how many.
int ExpireDue(internal::OptOutRecord* record, int64_t now, int64_t pending_seconds) {
  int expired = 0;
  for (int k = 0; k < record->scope_proofs_size(); ++k) {
    internal::ScopeProof* proof = record->mutable_scope_proofs(k);
    if (proof->state() == v1::SCOPE_STATE_PENDING &&
        ScopeStateAt(*record, k, now, pending_seconds) == v1::SCOPE_STATE_EXPIRED) {
      proof->set_state(v1::SCOPE_STATE_EXPIRED);
      ++expired;
    }
  }
  return expired;
}

}  // namespace

void Registry::TrackScopes(const std::string& id) {
  absl::MutexLock lock(&scopes_mu_);
  scoped_ids_.insert(id);
}

void Registry::UntrackScopes(const std::string& id) {
  absl::MutexLock lock(&scopes_mu_);
  scoped_ids_.erase(id);
}

absl::StatusOr<internal::OptOutRecord> Registry::UpdateScopeProofs(
    const std::string& id, absl::FunctionRef<bool(internal::OptOutRecord*)> update) {
  // A few rounds at most: each lost round means another change of the same
  // proofs was ordered first, and the next round decides on top of it.
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    internal::OptOutRecord record;
    internal::Mutation mutation;
    {
      absl::MutexLock lock(&RecordMutex(id));
      OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetRecord(id));
      if (!bytes.has_value()) return absl::NotFoundError("opt_out_id: no such opt-out (revoked?)");
      if (!record.ParseFromString(*bytes)) {
        return absl::DataLossError("stored record does not parse");
      }
      const internal::OptOutRecord before = record;
      EnsureProofs(&record);
      internal::SetScopeProofs* set = mutation.mutable_set_scope_proofs();
      *set->mutable_expected() = record.scope_proofs();
      if (!update(&record)) return before;
      set->set_id(id);
      *set->mutable_proofs() = record.scope_proofs();
    }
    OPTOUT_ASSIGN_OR_RETURN(*mutation.mutable_mutation_id(), NewMutationId());
    // Applied outside the record's lock: a local log applies in this thread.
    OPTOUT_ASSIGN_OR_RETURN(Committed committed, log_->Commit(mutation));
    if (committed.outcome == ApplyOutcome::kApplied) return record;
  }
  return absl::AbortedError("opt_out_id: its scope proofs kept changing meanwhile; retry");
}

absl::StatusOr<ApplyOutcome> Registry::ApplySetScopeProofs(const internal::SetScopeProofs& set,
                                                           const storage::ProgressMark* mark) {
  absl::MutexLock lock(&RecordMutex(set.id()));
  auto skip = [&]() -> absl::StatusOr<ApplyOutcome> {
    if (mark != nullptr) OPTOUT_RETURN_IF_ERROR(store_->PutProgress(*mark));
    return ApplyOutcome::kSkipped;
  };
  OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetRecord(set.id()));
  if (!bytes.has_value()) return skip();  // revoked meanwhile
  internal::OptOutRecord record;
  if (!record.ParseFromString(*bytes)) return absl::DataLossError("stored record does not parse");
  const internal::OptOutRecord before = record;
  EnsureProofs(&record);
  if (!SameProofs(record.scope_proofs(), set.expected()) ||
      set.proofs_size() != record.scope_proofs_size()) {
    return skip();
  }
  *record.mutable_scope_proofs() = set.proofs();
  OPTOUT_RETURN_IF_ERROR(store_->Insert(set.id(), record.SerializeAsString(), "", mark));
  // Durable first, then live: a check sees a scope only once its proof is
  // stored, and a lapsed one stops matching as soon as the call returns.
  int k = 0;
  for (const auto& entry : record.entries()) {
    if (entry.kind() != v1::MATCH_KIND_SCOPE) continue;
    const bool was = ScopeMatches(before, k);
    const bool is = ScopeMatches(record, k);
    ++k;
    if (was == is || entry.key().size() != 32) continue;
    storage::Key32 key;
    std::memcpy(key.data(), entry.key().data(), key.size());
    if (is) {
      index_.AddKey(set.id(), v1::MATCH_KIND_SCOPE, key);
    } else {
      index_.RemoveKey(set.id(), v1::MATCH_KIND_SCOPE, key);
    }
  }
  TrackScopes(set.id());
  return ApplyOutcome::kApplied;
}

absl::StatusOr<v1::VerifyResponse> Registry::VerifyScopes(const std::string& id,
                                                          const internal::OptOutRecord& record) {
  v1::VerifyResponse response;
  const int n = ScopeEntryCount(record);
  if (n == 0) return response;
  std::shared_ptr<const KeySet> keys = key_set();
  OPTOUT_ASSIGN_OR_RETURN(const Keyring* keyring, KeyringOf(record, &keys));
  OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart sealed, OpenSealed(*keyring, id, record));
  const int64_t pending = options_.pending_scope_seconds;
  auto wanted = [&](const internal::OptOutRecord& r, int k, int64_t now) {
    const v1::ScopeState state = ScopeStateAt(r, k, now, pending);
    return (state == v1::SCOPE_STATE_PENDING || state == v1::SCOPE_STATE_LAPSED) &&
           k < sealed.scope_hosts_size();
  };
  Outcomes outcomes;
  const int64_t asked = absl::ToUnixSeconds(absl::Now());
  for (int k = 0; k < n; ++k) {
    if (wanted(record, k, asked)) {
      Ask(options_.scope_verifier, sealed.scope_hosts(k), sealed.challenge_token(), &outcomes);
    }
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  OPTOUT_ASSIGN_OR_RETURN(internal::OptOutRecord updated,
                          UpdateScopeProofs(id, [&](internal::OptOutRecord* r) {
                            bool changed = ExpireDue(r, now, pending) > 0;
                            for (int k = 0; k < r->scope_proofs_size(); ++k) {
                              if (!wanted(*r, k, now)) continue;
                              auto it = outcomes.find(sealed.scope_hosts(k));
                              if (it == outcomes.end()) continue;
                              ApplyOutcomeTo(it->second, now, /*lapse=*/false,
                                             r->mutable_scope_proofs(k));
                              changed = true;
                            }
                            return changed;
                          }));
  TrackScopes(id);
  AddScopeStatuses(updated, sealed, now, pending, response.mutable_scopes());
  return response;
}

absl::StatusOr<Registry::ScopeMaintenance> Registry::MaintainScopes(absl::Time at) {
  const int64_t now = absl::ToUnixSeconds(at);
  const int64_t pending = options_.pending_scope_seconds;
  const int64_t recheck = options_.scope_recheck_seconds;
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&scopes_mu_);
    ids.assign(scoped_ids_.begin(), scoped_ids_.end());
  }
  ScopeMaintenance done;
  for (const std::string& id : ids) {
    OPTOUT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetRecord(id));
    internal::OptOutRecord record;
    if (!bytes.has_value() || !record.ParseFromString(*bytes)) {
      UntrackScopes(id);  // revoked
      continue;
    }
    EnsureProofs(&record);
    bool expire = false;
    bool live = false;
    std::vector<int> due;
    for (int k = 0; k < record.scope_proofs_size(); ++k) {
      const internal::ScopeProof& proof = record.scope_proofs(k);
      const v1::ScopeState state = ScopeStateAt(record, k, now, pending);
      expire |= state == v1::SCOPE_STATE_EXPIRED && proof.state() != v1::SCOPE_STATE_EXPIRED;
      live |= state != v1::SCOPE_STATE_EXPIRED;
      if (state == v1::SCOPE_STATE_VERIFIED && proof.checked_unix_seconds() + recheck <= now) {
        due.push_back(k);
      }
    }
    if (!live && !expire) UntrackScopes(id);
    if (!expire && due.empty()) continue;
    Outcomes outcomes;
    std::optional<internal::SealedPart> sealed;
    if (!due.empty()) {
      std::shared_ptr<const KeySet> keys = key_set();
      OPTOUT_ASSIGN_OR_RETURN(const Keyring* keyring, KeyringOf(record, &keys));
      OPTOUT_ASSIGN_OR_RETURN(sealed, OpenSealed(*keyring, id, record));
      for (int k : due) {
        if (k < sealed->scope_hosts_size()) {
          Ask(options_.scope_verifier, sealed->scope_hosts(k), sealed->challenge_token(), &outcomes);
        }
      }
    }
    ScopeMaintenance here;
    absl::StatusOr<internal::OptOutRecord> updated =
        UpdateScopeProofs(id, [&](internal::OptOutRecord* r) {
          here = ScopeMaintenance();
          here.expired = ExpireDue(r, now, pending);
          for (int k = 0; k < r->scope_proofs_size(); ++k) {
            internal::ScopeProof* proof = r->mutable_scope_proofs(k);
            if (proof->state() != v1::SCOPE_STATE_VERIFIED ||
                proof->checked_unix_seconds() + recheck > now || !sealed.has_value() ||
                k >= sealed->scope_hosts_size()) {
              continue;
            }
            auto it = outcomes.find(sealed->scope_hosts(k));
            if (it == outcomes.end()) continue;
            ApplyOutcomeTo(it->second, now, /*lapse=*/true, proof);
            ++(it->second.ok() ? here.rechecked : here.lapsed);
          }
          return here.expired + here.rechecked + here.lapsed > 0;
        });
    if (absl::IsNotFound(updated.status())) {
      UntrackScopes(id);
      continue;
    }
    OPTOUT_RETURN_IF_ERROR(updated.status());
    done.expired += here.expired;
    done.rechecked += here.rechecked;
    done.lapsed += here.lapsed;
  }
  return done;
}

}  // namespace optout::service

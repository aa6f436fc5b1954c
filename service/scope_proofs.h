// File: service/scope_proofs.h
//
// The state of each host or directory scope of an opt-out (issue 10): a
// scope matches only while its host is proven (VERIFIED). A stored record
// keeps one ScopeProof per SCOPE entry, in entry order; the hosts and the
// challenge token are in its sealed part. These functions read and start
// that state; Registry (registry_scopes.cc) changes it.
#ifndef OPTOUT_SERVICE_SCOPE_PROOFS_H_
#define OPTOUT_SERVICE_SCOPE_PROOFS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "optout/internal/record.pb.h"
#include "optout/v1/optout.pb.h"

namespace optout::service {

// Number of SCOPE entries of the record.
int ScopeEntryCount(const internal::OptOutRecord& record);

// Whether the k-th scope of the record matches (VERIFIED). A record from
// before verification (no proofs) has none that match.
bool ScopeMatches(const internal::OptOutRecord& record, int k);

// One PENDING proof per scope entry, checked at `now`.
void StartScopeProofs(internal::OptOutRecord* record);

// 16 random bytes as 32 lowercase hex characters.
absl::StatusOr<std::string> NewChallengeToken();

// The state as the owner sees it at `now`: a PENDING scope past its pending
// period is EXPIRED even before maintenance has rewritten it.
v1::ScopeState ScopeStateAt(const internal::OptOutRecord& record, int k, int64_t now,
                            int64_t pending_scope_seconds);

// Fills `out` with the status of every scope of the record (hosts and token
// from its opened sealed part).
void AddScopeStatuses(const internal::OptOutRecord& record, const internal::SealedPart& sealed,
                      int64_t now, int64_t pending_scope_seconds,
                      google::protobuf::RepeatedPtrField<v1::ScopeStatus>* out);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SCOPE_PROOFS_H_

#include "service/scope_proofs.h"

#include <openssl/rand.h>

#include "client/common/digest/digest.h"
#include "service/verify/challenge.h"

namespace optout::service {

int ScopeEntryCount(const internal::OptOutRecord& record) {
  int n = 0;
  for (const auto& entry : record.entries()) n += entry.kind() == v1::MATCH_KIND_SCOPE ? 1 : 0;
  return n;
}

bool ScopeMatches(const internal::OptOutRecord& record, int k) {
  return k < record.scope_proofs_size() &&
         record.scope_proofs(k).state() == v1::SCOPE_STATE_VERIFIED;
}

void StartScopeProofs(internal::OptOutRecord* record) {
  record->clear_scope_proofs();
  const int n = ScopeEntryCount(*record);
  for (int k = 0; k < n; ++k) {
    record->add_scope_proofs()->set_state(v1::SCOPE_STATE_PENDING);
  }
}

absl::StatusOr<std::string> NewChallengeToken() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("no randomness for a challenge token");
  }
  return digest::ToHex(std::string(reinterpret_cast<char*>(bytes), sizeof(bytes)));
}

v1::ScopeState ScopeStateAt(const internal::OptOutRecord& record, int k, int64_t now,
                            int64_t pending_scope_seconds) {
  const v1::ScopeState state =
      k < record.scope_proofs_size() ? static_cast<v1::ScopeState>(record.scope_proofs(k).state())
                                     : v1::SCOPE_STATE_PENDING;
  if (state == v1::SCOPE_STATE_PENDING &&
      now >= record.created_unix_seconds() + pending_scope_seconds) {
    return v1::SCOPE_STATE_EXPIRED;
  }
  return state;
}

void AddScopeStatuses(const internal::OptOutRecord& record, const internal::SealedPart& sealed,
                      int64_t now, int64_t pending_scope_seconds,
                      google::protobuf::RepeatedPtrField<v1::ScopeStatus>* out) {
  const int n = ScopeEntryCount(record);
  for (int k = 0; k < n; ++k) {
    v1::ScopeStatus* status = out->Add();
    status->set_index(k);
    status->set_state(ScopeStateAt(record, k, now, pending_scope_seconds));
    if (k < sealed.scope_hosts_size()) {
      const std::string& host = sealed.scope_hosts(k);
      status->set_host(host);
      status->set_https_url(verify::ChallengeUrl(host, sealed.challenge_token()));
      if (!verify::IsIpLiteral(host)) status->set_dns_name(verify::ChallengeDnsName(host));
    } else {
      status->set_reason("registered before scopes needed proof: register the scope again");
    }
    if (status->state() == v1::SCOPE_STATE_PENDING) {
      status->set_pending_until_unix_seconds(record.created_unix_seconds() + pending_scope_seconds);
    }
    if (k < record.scope_proofs_size()) {
      const internal::ScopeProof& proof = record.scope_proofs(k);
      status->set_verified_unix_seconds(proof.verified_unix_seconds());
      status->set_method(proof.method());
      if (!proof.reason().empty()) status->set_reason(proof.reason());
    }
  }
}

}  // namespace optout::service

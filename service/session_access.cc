#include "service/session_access.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "service/peer_rate_limiter.h"

namespace optout::service {

std::string SessionOwnerOf(const Caller& caller) {
  if (!caller.bearer.empty()) {
    return absl::StrCat("key:", digest::ToHex(digest::Sha256(caller.bearer)));
  }
  // A client certificate stands for its API key (mTLS).
  if (!caller.cert_subject.empty()) {
    return absl::StrCat("cert:", digest::ToHex(digest::Sha256(caller.cert_subject)));
  }
  return absl::StrCat("peer:", PeerKey(caller.peer));
}

absl::StatusOr<v1::OpenCheckSessionResponse> OpenSessionFor(CheckSessions& sessions,
                                                            CheckAccess& access,
                                                            const Registry& registry,
                                                            const Caller& caller) {
  if (caller.malformed_authorization) {
    return absl::UnauthenticatedError("authorization: expected 'Bearer KEY'");
  }
  // A session is admitted like a check of no items: a known key, or an
  // address anonymous checks are open to.
  absl::Status admitted = access.Admit(caller.bearer, caller.peer, CheckCost()).status();
  if (!admitted.ok()) return admitted;
  absl::StatusOr<v1::OpenCheckSessionResponse> opened = sessions.Open(SessionOwnerOf(caller));
  if (opened.ok()) {
    opened->set_receipt_key_fingerprint(
        registry.key_set()->current->receipt_signer().fingerprint());
  }
  return opened;
}

absl::StatusOr<std::shared_ptr<SessionPart>> JoinSessionFor(
    CheckSessions* sessions, absl::string_view id, std::optional<absl::string_view> part,
    absl::string_view part_field, const Caller& caller) {
  if (sessions == nullptr || id.empty()) return std::shared_ptr<SessionPart>();
  uint32_t number = 0;
  if (part.has_value() && !absl::SimpleAtoi(*part, &number)) {
    return absl::InvalidArgumentError(
        absl::StrCat(part_field, ": want a number 0..4294967295"));
  }
  return sessions->Join(std::string(id), number, SessionOwnerOf(caller));
}

}  // namespace optout::service

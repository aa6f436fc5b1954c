#include "service/session_dispatch.h"

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

absl::StatusOr<std::shared_ptr<SessionPart>> SessionPartOf(CheckSessions* sessions,
                                                           const grpc::ServerContextBase* context,
                                                           const Caller& caller) {
  if (sessions == nullptr) return std::shared_ptr<SessionPart>();
  const auto& metadata = context->client_metadata();
  auto id = metadata.find(kSessionMetadata);
  if (id == metadata.end()) return std::shared_ptr<SessionPart>();
  uint32_t part = 0;
  auto part_value = metadata.find(kSessionPartMetadata);
  if (part_value != metadata.end() &&
      !absl::SimpleAtoi(absl::string_view(part_value->second.data(), part_value->second.size()),
                        &part)) {
    return absl::InvalidArgumentError("optout-session-part: want a number 0..4294967295");
  }
  return sessions->Join(std::string(id->second.data(), id->second.size()), part,
                        SessionOwnerOf(caller));
}

}  // namespace optout::service

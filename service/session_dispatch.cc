#include "service/session_dispatch.h"

namespace optout::service {

absl::StatusOr<std::shared_ptr<SessionPart>> SessionPartOf(CheckSessions* sessions,
                                                           const grpc::ServerContextBase* context,
                                                           const Caller& caller) {
  const auto& metadata = context->client_metadata();
  auto id = metadata.find(kSessionMetadata);
  if (id == metadata.end()) return std::shared_ptr<SessionPart>();
  std::optional<absl::string_view> part;
  auto part_value = metadata.find(kSessionPartMetadata);
  if (part_value != metadata.end()) {
    part = absl::string_view(part_value->second.data(), part_value->second.size());
  }
  return JoinSessionFor(sessions, absl::string_view(id->second.data(), id->second.size()), part,
                        kSessionPartMetadata, caller);
}

}  // namespace optout::service

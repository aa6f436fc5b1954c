// File: service/session_access.h
//
// Check sessions (issue 14) as every surface offers them, gRPC and HTTP
// alike, so that each faces the internet with the same checks: who owns a
// session (the API key by its SHA-256, never the key itself; a client
// certificate's subject; or, anonymously, the caller's address as
// anonymous budgets count it), how one is opened (admitted like a check of
// no items) and how a check call joins one. No gRPC here: the adapters
// read the session id and part from their metadata or headers.
#ifndef OPTOUT_SERVICE_SESSION_ACCESS_H_
#define OPTOUT_SERVICE_SESSION_ACCESS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/check_access.h"
#include "service/check_sessions.h"
#include "service/registry.h"

namespace optout::service {

// Who owns the sessions `caller` opens.
std::string SessionOwnerOf(const Caller& caller);

// Opens a session for `caller`: UNAUTHENTICATED for a malformed
// Authorization, then CheckAccess's answer for a check of no items, then
// CheckSessions::Open's. The response names the current receipt key.
absl::StatusOr<v1::OpenCheckSessionResponse> OpenSessionFor(CheckSessions& sessions,
                                                            CheckAccess& access,
                                                            const Registry& registry,
                                                            const Caller& caller);

// The session part a check call is tagged with: session `id` (empty: none,
// nullptr returned) and `part` as sent (nullopt: part 0). INVALID_ARGUMENT
// naming `part_field` for a part that is not a number; NOT_FOUND /
// RESOURCE_EXHAUSTED from CheckSessions::Join. `sessions` null: sessions
// off, the tag is ignored.
absl::StatusOr<std::shared_ptr<SessionPart>> JoinSessionFor(
    CheckSessions* sessions, absl::string_view id, std::optional<absl::string_view> part,
    absl::string_view part_field, const Caller& caller);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SESSION_ACCESS_H_

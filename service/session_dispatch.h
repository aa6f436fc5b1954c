// File: service/session_dispatch.h
//
// How a gRPC check call reaches its check session (issue 14, gRPC adapter
// side): the `optout-session: ID` and optional `optout-session-part: N`
// metadata, read once per call, handed to JoinSessionFor
// (service/session_access.h, shared with the HTTP API).
#ifndef OPTOUT_SERVICE_SESSION_DISPATCH_H_
#define OPTOUT_SERVICE_SESSION_DISPATCH_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "service/check_access.h"
#include "service/check_sessions.h"
#include "service/session_access.h"

namespace optout::service {

inline constexpr char kSessionMetadata[] = "optout-session";
inline constexpr char kSessionPartMetadata[] = "optout-session-part";

// The session part the call is tagged with; nullptr when the call carries
// no session (or `sessions` is null: sessions off). NOT_FOUND / RESOURCE_
// EXHAUSTED from CheckSessions::Join, INVALID_ARGUMENT for a part that is
// not a number.
absl::StatusOr<std::shared_ptr<SessionPart>> SessionPartOf(CheckSessions* sessions,
                                                           const grpc::ServerContextBase* context,
                                                           const Caller& caller);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_SESSION_DISPATCH_H_

// File: service/http/json_api.h
//
// JsonApi: the optout.v1 methods over HTTP, with protobuf's JSON mapping of
// the same messages, handed to the same core as the gRPC services
// (Registry, the register rate and disk floor, CheckWorkers). It knows no
// HTTP library: HttpServer turns sockets into ApiRequest values, so the
// routes are testable without a network.
//
//   POST   /v1/optouts        RegisterRequest -> RegisterResponse
//   GET    /v1/optouts/{id}   Authorization: Bearer MANAGE_TOKEN -> GetResponse
//   DELETE /v1/optouts/{id}   Authorization: Bearer MANAGE_TOKEN -> RevokeResponse
//   POST   /v1/optouts/{id}/verify  Authorization: Bearer MANAGE_TOKEN -> VerifyResponse
//   POST   /v1/check          CheckRequest -> CheckResponse; Authorization:
//                             Bearer API_KEY charges the key, else the
//                             anonymous per-address budget (CheckAccess)
//   POST   /v1/check-sessions OpenCheckSessionRequest ({}) -> OpenCheckSessionResponse;
//                             admitted as gRPC's OpenCheckSession (session_access.h)
//   DELETE /v1/check-sessions/{id}  -> CloseCheckSessionResponse (the signed
//                             receipt); only the session's opener
//   POST /v1/check with `Optout-Session: ID` (and `Optout-Session-Part: N`)
//                             is a check of that session, as over gRPC
//   GET    /v1/info           GetInfoResponse
//   GET    /v1/public-suffix-list  GetPublicSuffixListResponse (the list
//                             the server computes expressions with; clients
//                             must use the same one, issue 18 item 7)
//
// A body must be application/json and parse strictly (no unknown fields,
// no wrong types) before anything reaches the core: 400 and nothing
// written otherwise. Errors are ErrorReply bodies (http_status.h).
//
// Thread-safety: Handle may be called from any number of threads; it blocks
// for durable writes and for checks (which run on CheckWorkers).
#ifndef OPTOUT_SERVICE_HTTP_JSON_API_H_
#define OPTOUT_SERVICE_HTTP_JSON_API_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/audit_log.h"
#include "service/check_access.h"
#include "service/check_sessions.h"
#include "service/check_workers.h"
#include "service/disk_floor.h"
#include "service/http/http_status.h"
#include "service/peer_rate_limiter.h"
#include "service/registry.h"

namespace optout::service::http {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string content_type;
  std::string authorization;  // the Authorization header, empty if none
  std::string body;
  // The client as gRPC names peers ("ipv4:1.2.3.4:5", "ipv6:[::1]:5"), so
  // the register rate counts HTTP and gRPC calls of one address together.
  std::string peer;
  // The subject (RFC 2253) of the client certificate the TLS handshake
  // verified; empty when none. Stands for an API key as over gRPC.
  std::string cert_subject;
  // Whether the client has gone (closed its connection): a check on its
  // behalf then stops at its next chunk. Empty: never asked.
  std::function<bool()> peer_gone;
  // The Optout-Session and Optout-Session-Part headers (a check session's
  // id and part); empty / nullopt when absent.
  std::string session;
  std::optional<std::string> session_part;
};

class JsonApi final {
 public:
  struct Core {
    Registry* registry = nullptr;
    PeerRateLimiter* register_rate = nullptr;
    PeerRateLimiter* revoke_catch_up_rate = nullptr;
    DiskFloor* disk_floor = nullptr;
    CheckWorkers* check_workers = nullptr;
    CheckAccess* check_access = nullptr;
    AuditLog* audit = nullptr;  // null: no audit log
    CheckSessions* check_sessions = nullptr;  // null: check sessions off
  };
  // Everything `core` points to must outlive the JsonApi. A check still
  // running `check_deadline` after it was received stops with
  // DEADLINE_EXCEEDED (HTTP has no deadline of the caller's).
  JsonApi(const Core& core, absl::Duration check_deadline)
      : core_(core), check_deadline_(check_deadline) {}

  // True for paths this API answers (under /v1/).
  static bool Owns(absl::string_view path);

  HttpReply Handle(const ApiRequest& request) const;

 private:
  HttpReply Register(const ApiRequest& request) const;
  HttpReply Get(const ApiRequest& request, const std::string& id) const;
  HttpReply Revoke(const ApiRequest& request, const std::string& id) const;
  HttpReply Verify(const ApiRequest& request, const std::string& id) const;
  HttpReply Check(const ApiRequest& request) const;
  HttpReply OpenSession(const ApiRequest& request) const;
  HttpReply CloseSession(const ApiRequest& request, const std::string& id) const;
  HttpReply Info() const;
  HttpReply PublicSuffixList() const;
  // The audit line of a Register, Get or Revoke, as the gRPC layer writes it.
  void Audit(const ApiRequest& request, absl::string_view method, const KindCounts& items,
             const absl::Status& status) const;

  const Core core_;
  const absl::Duration check_deadline_;
};

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_JSON_API_H_

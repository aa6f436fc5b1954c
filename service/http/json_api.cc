#include "service/http/json_api.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "service/http/json_shape.h"
#include "service/session_access.h"

namespace optout::service::http {
namespace {

constexpr absl::string_view kOptOuts = "/v1/optouts";
constexpr absl::string_view kSessions = "/v1/check-sessions";
// A registration body of up to this many bytes counts as one registration
// against --register_rate_per_peer (100 photos with their 64 window hashes
// each are ~450 KB of JSON, i.e. two).
constexpr size_t kRegisterBodyBytesPerToken = 256 << 10;

// Strict parse: a body that is not one JSON object of `T`'s fields, with the
// proto3 JSON types, is refused before the core sees anything.
template <typename T>
absl::Status ParseBody(const ApiRequest& request, T* message) {
  if (absl::Status shape = CheckJsonShape(request.body, *T::descriptor()); !shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(T::descriptor()->name(), " JSON: ", shape.message()));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(request.body, message, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not a valid JSON ", T::descriptor()->name(), ": ",
                     std::string(parsed.message())));
  }
  return absl::OkStatus();
}

HttpReply JsonReply(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  // Zero counts and "matched": false are answers, not absent fields.
  options.always_print_primitive_fields = true;
  HttpReply reply;
  auto printed = google::protobuf::util::MessageToJsonString(message, &reply.body, options);
  if (!printed.ok()) return ErrorReply(absl::InternalError("cannot print the answer as JSON"));
  return reply;
}

// A request with a body must say it is JSON: besides being honest, this makes
// a cross-site browser POST a CORS preflight, which this server never grants.
absl::optional<HttpReply> RefuseNonJson(const ApiRequest& request) {
  absl::string_view type = request.content_type;
  type = type.substr(0, type.find(';'));
  if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(type), "application/json")) {
    return absl::nullopt;
  }
  return ErrorReply(415, absl::InvalidArgumentError(
                             "Content-Type must be application/json"));
}

absl::StatusOr<std::string> BearerToken(const ApiRequest& request) {
  absl::string_view value = absl::StripAsciiWhitespace(request.authorization);
  if (value.size() > 7 && absl::StartsWithIgnoreCase(value, "Bearer ")) {
    value = absl::StripAsciiWhitespace(value.substr(7));
    if (!value.empty()) return std::string(value);
  }
  return absl::UnauthenticatedError(
      "manage_token: send it as the header 'Authorization: Bearer MANAGE_TOKEN'");
}

// A check's caller: `Authorization: Bearer API_KEY` or nobody (anonymous
// budget); any other Authorization is refused, never taken for anonymous.
Caller CallerOf(const ApiRequest& request) {
  Caller caller;
  caller.peer = request.peer;
  caller.cert_subject = request.cert_subject;
  if (request.authorization.empty()) return caller;
  absl::string_view value = request.authorization;
  if (!absl::ConsumePrefix(&value, "Bearer ") || value.empty()) {
    caller.malformed_authorization = true;
  } else {
    caller.bearer = std::string(value);
  }
  return caller;
}

HttpReply MethodNotAllowed(absl::string_view allow) {
  HttpReply reply = ErrorReply(405, absl::UnimplementedError(
                                        absl::StrCat("method not allowed here; allowed: ", allow)));
  reply.headers.emplace_back("Allow", std::string(allow));
  return reply;
}

}  // namespace

bool JsonApi::Owns(absl::string_view path) { return absl::StartsWith(path, "/v1/") || path == "/v1"; }

HttpReply JsonApi::Handle(const ApiRequest& request) const {
  const std::string& method = request.method;
  const absl::string_view path = request.path;
  if (path == kOptOuts) {
    if (method == "POST") return Register(request);
    return MethodNotAllowed("POST");
  }
  absl::string_view id = path;
  if (absl::ConsumePrefix(&id, "/v1/optouts/") && absl::ConsumeSuffix(&id, "/verify") &&
      !id.empty() && id.find('/') == absl::string_view::npos) {
    if (method == "POST") return Verify(request, std::string(id));
    return MethodNotAllowed("POST");
  }
  id = path;
  if (absl::ConsumePrefix(&id, "/v1/optouts/") && !id.empty() &&
      id.find('/') == absl::string_view::npos) {
    if (method == "GET") return Get(request, std::string(id));
    if (method == "DELETE") return Revoke(request, std::string(id));
    return MethodNotAllowed("GET, DELETE");
  }
  if (path == "/v1/check") {
    if (method == "POST") return Check(request);
    return MethodNotAllowed("POST");
  }
  if (path == kSessions) {
    if (method == "POST") return OpenSession(request);
    return MethodNotAllowed("POST");
  }
  id = path;
  if (absl::ConsumePrefix(&id, "/v1/check-sessions/") && !id.empty() &&
      id.find('/') == absl::string_view::npos) {
    if (method == "DELETE") return CloseSession(request, std::string(id));
    return MethodNotAllowed("DELETE");
  }
  if (path == "/v1/info") {
    if (method == "GET") return Info();
    return MethodNotAllowed("GET");
  }
  if (path == "/v1/public-suffix-list") {
    if (method == "GET") return PublicSuffixList();
    return MethodNotAllowed("GET");
  }
  return ErrorReply(absl::NotFoundError(
      "no such API path; see /v1/optouts, /v1/optouts/{id}, /v1/optouts/{id}/verify, /v1/check, "
      "/v1/check-sessions, /v1/check-sessions/{id}, /v1/info, "
      "/v1/public-suffix-list"));
}

void JsonApi::Audit(const ApiRequest& request, absl::string_view method, const KindCounts& items,
                    const absl::Status& status) const {
  if (core_.audit == nullptr) return;
  AuditEntry entry;
  entry.time = absl::Now();
  entry.peer = PeerKey(request.peer);
  entry.method = method;
  entry.items = items;
  entry.status = status.code();
  core_.audit->Write(entry);
}

HttpReply JsonApi::Register(const ApiRequest& request) const {
  if (auto refused = RefuseNonJson(request)) return *refused;
  // Admitted before the body is parsed, and one registration per started
  // kRegisterBodyBytesPerToken: JSON parsing costs ~65 ns a byte, so a
  // refused or malformed body must not be free to send again and again.
  const absl::Time now = absl::Now();
  const int64_t tokens = std::max<int64_t>(
      1, static_cast<int64_t>((request.body.size() + kRegisterBodyBytesPerToken - 1) /
                              kRegisterBodyBytesPerToken));
  absl::Status admitted = core_.disk_floor->CheckWrite(now);
  if (admitted.ok()) admitted = core_.register_rate->Admit(request.peer, now, tokens);
  if (!admitted.ok()) {
    Audit(request, "Register", KindCounts(), admitted);
    return ErrorReply(admitted);
  }
  v1::RegisterRequest parsed;
  if (absl::Status s = ParseBody(request, &parsed); !s.ok()) return ErrorReply(s);
  KindCounts items;
  items.url = parsed.urls_size();
  items.scope = parsed.scopes_size();
  items.pdq = parsed.pdq_size();
  items.sha256 = parsed.sha256_size();
  items.md5 = parsed.md5_size();
  absl::StatusOr<v1::RegisterResponse> registered = core_.registry->Register(parsed);
  Audit(request, "Register", items, registered.status());
  if (!registered.ok()) return ErrorReply(registered.status());
  return JsonReply(*registered);
}

HttpReply JsonApi::Get(const ApiRequest& request, const std::string& id) const {
  absl::StatusOr<std::string> token = BearerToken(request);
  if (!token.ok()) return ErrorReply(token.status());
  v1::GetRequest get;
  get.set_opt_out_id(id);
  get.set_manage_token(*token);
  absl::StatusOr<v1::GetResponse> found = core_.registry->Get(get);
  Audit(request, "Get", KindCounts(), found.status());
  if (!found.ok()) return ErrorReply(found.status());
  return JsonReply(*found);
}

HttpReply JsonApi::Revoke(const ApiRequest& request, const std::string& id) const {
  absl::StatusOr<std::string> token = BearerToken(request);
  if (!token.ok()) return ErrorReply(token.status());
  v1::RevokeRequest revoke;
  revoke.set_opt_out_id(id);
  revoke.set_manage_token(*token);
  v1::RevokeResponse response;
  uint64_t version = 0;
  const absl::Status revoked =
      core_.registry->Revoke(revoke, &version, nullptr, [this, &request] {
        if (core_.revoke_catch_up_rate == nullptr) return absl::OkStatus();
        return core_.revoke_catch_up_rate->Admit(request.peer, absl::Now());
      });
  Audit(request, "Revoke", KindCounts(), revoked);
  if (!revoked.ok()) return ErrorReply(revoked);
  response.set_version(version);
  return JsonReply(response);
}

HttpReply JsonApi::Verify(const ApiRequest& request, const std::string& id) const {
  absl::StatusOr<std::string> token = BearerToken(request);
  if (!token.ok()) return ErrorReply(token.status());
  // Outbound HTTPS and DNS requests: paced like registrations.
  const absl::Status admitted = core_.register_rate->Admit(request.peer, absl::Now());
  if (!admitted.ok()) {
    Audit(request, "Verify", KindCounts(), admitted);
    return ErrorReply(admitted);
  }
  v1::VerifyRequest verify;
  verify.set_opt_out_id(id);
  verify.set_manage_token(*token);
  absl::StatusOr<v1::VerifyResponse> verified = core_.registry->Verify(verify);
  Audit(request, "Verify", KindCounts(), verified.status());
  if (!verified.ok()) return ErrorReply(verified.status());
  return JsonReply(*verified);
}

HttpReply JsonApi::Check(const ApiRequest& request) const {
  if (auto refused = RefuseNonJson(request)) return *refused;
  // Shared with the worker: the check may outlive nothing here (we wait),
  // but CheckWorkers owns the closure until it has run.
  struct Pending {
    v1::CheckRequest request;
    v1::CheckResponse response;
    absl::Status status;
    absl::Notification done;
  };
  auto pending = std::make_shared<Pending>();
  const Caller caller = CallerOf(request);
  // A check of a session (Optout-Session), as over gRPC.
  absl::StatusOr<std::shared_ptr<SessionPart>> part = JoinSessionFor(
      core_.check_sessions, request.session,
      request.session_part.has_value() ? std::optional<absl::string_view>(*request.session_part)
                                       : std::nullopt,
      "Optout-Session-Part", caller);
  if (!part.ok()) return ErrorReply(part.status());
  const absl::StatusOr<int64_t> prepaid =
      core_.check_access->PrepayAnonymousBody(caller, "Check", request.body.size());
  if (!prepaid.ok()) return ErrorReply(prepaid.status());
  if (absl::Status s = ParseBody(request, &pending->request); !s.ok()) return ErrorReply(s);
  if (*part != nullptr) {
    if (absl::Status s = (*part)->CheckStart(pending->request.session_batch()); !s.ok()) {
      return ErrorReply(s);
    }
  }
  absl::StatusOr<CheckAdmission> admitted =
      core_.check_access->AdmitCheck(caller, "Check", pending->request, *prepaid);
  if (!admitted.ok()) return ErrorReply(admitted.status());
  const absl::Time deadline = absl::Now() + check_deadline_;
  const Registry* registry = core_.registry;
  const uint64_t version =
      *part != nullptr ? registry->mutation_log().Progress().applied_version : 0;
  // The probe is only asked while this thread waits below, so the
  // connection it looks at is still open.
  const std::function<bool()> peer_gone = request.peer_gone;
  absl::Status queued = core_.check_workers->TrySchedule([registry, pending, deadline, peer_gone] {
    pending->status = registry->Check(pending->request, &pending->response, [&] {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError("check stopped at the HTTP check deadline");
      }
      if (peer_gone && peer_gone()) {
        return absl::CancelledError("check stopped: the client closed its connection");
      }
      return absl::OkStatus();
    });
    pending->done.Notify();
  });
  if (queued.ok()) pending->done.WaitForNotification();
  absl::Status status = queued.ok() ? pending->status : queued;
  core_.check_access->CheckDone(*admitted, pending->response, status);
  if (status.ok() && *part != nullptr) {
    status = (*part)->Add(pending->request, MatchesOf(pending->response), version, absl::Now());
  }
  if (!status.ok()) return ErrorReply(status);
  return JsonReply(pending->response);
}

HttpReply JsonApi::OpenSession(const ApiRequest& request) const {
  if (auto refused = RefuseNonJson(request)) return *refused;
  if (core_.check_sessions == nullptr) {
    return ErrorReply(absl::UnimplementedError("check sessions are off"));
  }
  // OpenCheckSessionRequest has no fields: nothing to parse, whatever size.
  const absl::string_view body = absl::StripAsciiWhitespace(request.body);
  if (!body.empty() && body != "{}") {
    return ErrorReply(absl::InvalidArgumentError(
        "OpenCheckSessionRequest JSON: want {} (the request has no fields)"));
  }
  absl::StatusOr<v1::OpenCheckSessionResponse> opened =
      OpenSessionFor(*core_.check_sessions, *core_.check_access, *core_.registry,
                     CallerOf(request));
  if (!opened.ok()) return ErrorReply(opened.status());
  return JsonReply(*opened);
}

HttpReply JsonApi::CloseSession(const ApiRequest& request, const std::string& id) const {
  if (core_.check_sessions == nullptr) {
    return ErrorReply(absl::UnimplementedError("check sessions are off"));
  }
  absl::StatusOr<v1::CheckReceipt> receipt =
      core_.check_sessions->Close(id, SessionOwnerOf(CallerOf(request)));
  if (!receipt.ok()) return ErrorReply(receipt.status());
  v1::CloseCheckSessionResponse response;
  *response.mutable_receipt() = *std::move(receipt);
  return JsonReply(response);
}

HttpReply JsonApi::Info() const { return JsonReply(core_.registry->Info()); }

HttpReply JsonApi::PublicSuffixList() const {
  return JsonReply(core_.registry->PublicSuffixListInUse());
}

}  // namespace optout::service::http

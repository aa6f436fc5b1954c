#include "service/http/http_status.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "nlohmann/json.hpp"
#include "service/over_budget.h"

namespace optout::service::http {

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kCancelled: return 499;  // client closed request
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;  // Unknown, Internal, DataLoss
  }
}

HttpReply ErrorReply(const absl::Status& status) {
  return ErrorReply(HttpStatusOf(status.code()), status);
}

HttpReply ErrorReply(int http_status, const absl::Status& status) {
  constexpr size_t kMaxMessage = 512;
  nlohmann::json body = {
      {"code", absl::StatusCodeToString(status.code())},
      {"message", std::string(status.message().substr(0, kMaxMessage))},
  };
  HttpReply reply;
  reply.status = http_status;
  // Replaces invalid UTF-8 (a message quoting bad input) instead of throwing.
  reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Over a budget: the RetryInfo delay gRPC clients read, as HTTP says it.
  if (absl::optional<absl::Cord> payload = status.GetPayload(kRetryInfoTypeUrl)) {
    google::rpc::RetryInfo info;
    if (info.ParseFromString(std::string(*payload))) {
      reply.headers.emplace_back("Retry-After", absl::StrCat(info.retry_delay().seconds()));
    }
  }
  return reply;
}

}  // namespace optout::service::http

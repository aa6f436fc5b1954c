// File: service/http/http_status.h
//
// The one mapping from absl::Status to an HTTP answer of the JSON API: the
// HTTP status that google.rpc.Code maps to (the mapping gRPC-JSON gateways
// use) and the body {"code": "INVALID_ARGUMENT", "message": "..."}. Messages
// are capped like ToGrpcStatus and carry only what validation wrote; an
// over-budget error's RetryInfo becomes a Retry-After header.
// Pure functions; thread-safe.
#ifndef OPTOUT_SERVICE_HTTP_HTTP_STATUS_H_
#define OPTOUT_SERVICE_HTTP_HTTP_STATUS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace optout::service::http {

// What an adapter writes back: status, JSON body and any extra headers.
struct HttpReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
// 404 NOT_FOUND, 409 ALREADY_EXISTS, 429 RESOURCE_EXHAUSTED, ...; OK is 200.
int HttpStatusOf(absl::StatusCode code);

// The error body of `status` (not OK) with its mapped HTTP status.
HttpReply ErrorReply(const absl::Status& status);
// Same body with an HTTP status of the caller's choosing (413, 415, 405:
// refusals that have an HTTP status of their own).
HttpReply ErrorReply(int http_status, const absl::Status& status);

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_HTTP_STATUS_H_

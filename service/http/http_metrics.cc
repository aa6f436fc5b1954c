#include "service/http/http_metrics.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace optout::service::http {
namespace {

// Route indexes, in the order of kRouteNames.
enum Route : int {
  kRegister,
  kGetOptOut,
  kRevoke,
  kCheck,
  kInfo,
  kPublicSuffixList,
  kOpenSession,
  kCloseSession,
  kStatic,
  kOther,
};
constexpr std::array<const char*, HttpMetrics::kRoutes> kRouteNames = {
    "POST /v1/optouts",        "GET /v1/optouts/{id}", "DELETE /v1/optouts/{id}",
    "POST /v1/check",          "GET /v1/info",         "GET /v1/public-suffix-list",
    "POST /v1/check-sessions", "DELETE /v1/check-sessions/{id}",
    "static",                  "other"};
static_assert(kOther + 1 == HttpMetrics::kRoutes, "a route without a name");

// What JsonApi, StaticFiles and the listener answer; anything else "other".
constexpr std::array<int, HttpMetrics::kCodes - 1> kCodeValues = {
    200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 411,
    412, 413, 415, 429, 431, 499, 500, 503, 504};

int CodeIndex(int status) {
  for (size_t i = 0; i < kCodeValues.size(); ++i) {
    if (kCodeValues[i] == status) return static_cast<int>(i);
  }
  return HttpMetrics::kCodes - 1;
}

// As gRPC's handling-time buckets (service/rpc_metrics.cc), microseconds.
std::vector<int64_t> LatencyBoundsMicros() {
  return {50,     100,    250,     500,     1000,    2500,     5000,     10000,    25000,
          50000,  100000, 250000,  500000,  1000000, 2500000,  5000000,  10000000, 30000000,
          60000000};
}

}  // namespace

HttpMetrics::HttpMetrics(metrics::MetricRegistry* registry) {
  auto& requests = registry->AddCounterFamily(
      {"http_server_requests_total",
       "HTTP requests answered by the HTTP listener, by route and status code.",
       {"route", "code"},
       /*hide_zero=*/true});
  auto& seconds = registry->AddHistogramFamily(
      {"http_server_request_duration_seconds",
       "Time from a parsed HTTP request to its answer, by route and status code.",
       {"route", "code"},
       /*hide_zero=*/true},
      LatencyBoundsMicros(), 1e6);
  for (int r = 0; r < kRoutes; ++r) {
    for (int c = 0; c < kCodes; ++c) {
      const std::string code = c + 1 < kCodes ? absl::StrCat(kCodeValues[c]) : "other";
      requests_[r][c] = &requests.Get({kRouteNames[r], code});
      seconds_[r][c] = &seconds.Get({kRouteNames[r], code});
    }
  }
}

int HttpMetrics::RouteOf(absl::string_view method, absl::string_view path) {
  if (!absl::StartsWith(path, "/v1/")) return method == "GET" || method == "HEAD" ? kStatic : kOther;
  if (path == "/v1/optouts") return method == "POST" ? kRegister : kOther;
  if (path == "/v1/check") return method == "POST" ? kCheck : kOther;
  if (path == "/v1/info") return method == "GET" ? kInfo : kOther;
  if (path == "/v1/public-suffix-list") return method == "GET" ? kPublicSuffixList : kOther;
  if (path == "/v1/check-sessions") return method == "POST" ? kOpenSession : kOther;
  absl::string_view id = path;
  if (absl::ConsumePrefix(&id, "/v1/optouts/") && !id.empty() &&
      id.find('/') == absl::string_view::npos) {
    if (method == "GET") return kGetOptOut;
    if (method == "DELETE") return kRevoke;
  }
  id = path;
  if (absl::ConsumePrefix(&id, "/v1/check-sessions/") && !id.empty() &&
      id.find('/') == absl::string_view::npos && method == "DELETE") {
    return kCloseSession;
  }
  return kOther;
}

void HttpMetrics::Record(int route, int status,
                         std::chrono::steady_clock::duration elapsed) const {
  if (route < 0 || route >= kRoutes) route = kOther;
  const int c = CodeIndex(status);
  requests_[route][c]->Increment();
  seconds_[route][c]->Observe(
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
}

}  // namespace optout::service::http
